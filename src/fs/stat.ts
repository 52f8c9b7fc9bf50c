import { constants, lstatSync, type BigIntStats } from 'node:fs';
import type { Entry, StatId } from '../core/types.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants;

export function statIdOf(st: BigIntStats): StatId {
  return statIdFrom(st.ino, st.ctimeNs, Number(st.size), st.mtimeNs, Number(st.nlink), Number(st.blocks), Number(st.mode), st.dev);
}

/** A StatId from an lstat's fields, however they were read (Node's BigIntStats, the native listing's columns). */
export function statIdFrom(ino: bigint, ctimeNs: bigint, size: number, mtimeNs: bigint, nlink: number, blocks: number, mode: number, dev: bigint): StatId {
  const id = { ino, ctimeNs, size, mtimeNs, nlink, blocks };
  // the device only matters to group hard links; a BigInt per entry for every other file is memory for nothing
  return nlink > 1 && (mode & S_IFMT) === S_IFREG ? { ...id, dev } : id;
}

/** A file with fewer blocks allocated than its size needs has holes (what `cp --sparse=auto` looks at). */
export function isSparse(st: { readonly size: number | bigint; readonly blocks?: number | bigint }): boolean {
  return st.blocks !== undefined && BigInt(st.blocks) * 512n < BigInt(st.size);
}

let lastMs = -1;
let lastNowNs = 0n;

/**
 * Wall-clock time in ns (ms resolution). A scan stamps every entry with it: within one millisecond the
 * same BigInt is handed out again instead of a new one per entry (a 100k-path scan kept 100k of them).
 */
export function nowNs(): bigint {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastNowNs = BigInt(ms) * 1_000_000n;
  }
  return lastNowNs;
}

/** lstat with nanosecond times; null when nothing is there. */
export function lstatOrNull(p: Buffer): BigIntStats | null {
  try {
    return lstatSync(p, { bigint: true });
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return null;
    throw e;
  }
}

/** From the mode as a Number: BigIntStats' isFile() and friends make BigInts for every test. */
export function kindOfStat(st: BigIntStats): Entry['kind'] | 'special' {
  return kindOfMode(Number(st.mode));
}

export function kindOfMode(mode: number): Entry['kind'] | 'special' {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'file';
    case S_IFDIR:
      return 'dir';
    case S_IFLNK:
      return 'symlink';
    default:
      return 'special';
  }
}

export function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

export function errCode(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'EUNKNOWN';
}
