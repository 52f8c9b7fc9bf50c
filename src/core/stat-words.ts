import type { HashColumn } from './hash-column.js';
import type { RelPath, Side } from './types.js';

/*
 * A stat's 64-bit numbers (inode, times in ns) sit in BigInt64Array columns: the native listing's, a walk's table,
 * the index's. Reading one element makes a BigInt, a heap object, so comparing a listed entry with the index and
 * copying it into a table cost six to nine of them per entry, the largest part of a walk's garbage (issue 11). Read
 * as two 32-bit words through an Int32Array over the same memory, the same element is compared and copied with no
 * allocation (the quiet test, sync/quiet-columns.ts, reads its columns so too). Two elements are equal exactly when
 * both their words are (same machine, same byte order).
 */

/** The 32-bit words of a 64-bit column: element k is words 2k and 2k + 1. */
export function wordsOf(column: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(column.buffer, column.byteOffset, column.length * 2);
}

/** Element `i` of the column behind `a` holds the same 64 bits as element `j` of the one behind `b`. */
export function sameElement(a: Int32Array, i: number, b: Int32Array, j: number): boolean {
  return a[2 * i] === b[2 * j] && a[2 * i + 1] === b[2 * j + 1];
}

/** Element `j` of the column behind `to` becomes element `i` of the one behind `from`. */
export function copyElement(to: Int32Array, j: number, from: Int32Array, i: number): void {
  to[2 * j] = from[2 * i] as number;
  to[2 * j + 1] = from[2 * i + 1] as number;
}

/** unchangedSlot's answer when the columns cannot tell (a watch's pending changes hold the path): ask the records. */
export const ASK_RECORDS = -2;

/**
 * The index's stat cache (core/stat-cache.ts) read straight from its columns (store/base-table.ts), for a walk that
 * writes what it lists straight into its table's columns (scan/scan.ts): the same answers as vouchedHash and
 * vouchedXattrs, with no stat, record or hash string built. A stat's inode, mtime and ctime are given as an element
 * of a 64-bit column's words (wordsOf) each: a native listing holds them in one column, a decoded scan in three.
 */
export interface StatCacheColumns {
  /**
   * The slot of `path` if its `side` record has this inode and this ctime, and the ctime is not racy: the entry is
   * the inode the index recorded, untouched since. -1: none such; ASK_RECORDS: the columns cannot say.
   */
  unchangedSlot(path: RelPath, side: Side, inoWords: Int32Array, ino: number, ctimeWords: Int32Array, ctime: number): number;
  /** vouchedXattrs for a slot unchangedSlot gave: the digest recorded, or undefined (read them). */
  xattrsAt(slot: number): string | undefined;
  /**
   * vouchedHash for a slot unchangedSlot gave and a file of `size` whose mtime is element `mtime` of `mtimeWords`: the
   * hash recorded is copied into slot `at` of `hashes`, and true; false (nothing copied) where it vouches for none.
   */
  copyHash(slot: number, side: Side, size: number, mtimeWords: Int32Array, mtime: number, hashes: HashColumn, at: number): boolean;
}
