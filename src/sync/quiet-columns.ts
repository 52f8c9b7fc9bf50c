/*
 * The quiet test of a full cycle (core/quiet.ts) read straight from the columns the scans and the base are kept in
 * (scan/scan-table.ts, store/base-table.ts), for the paths where the columns alone can prove it. Asked of every path
 * of a no-op run, the test through the Map interface built each path's entries, stats and base record (objects and
 * a dozen BigInts a path) and checked them field by field: at 100k paths, 200-230 ms of the main thread after the
 * scans (issue 11). Here the same fields are compared where they lie, 64-bit ones as two 32-bit halves, so nothing
 * is built per path.
 *
 * A proof, never a verdict: `true` only when the path is quiet by exactly the rules core/quiet.ts applies; anything
 * the columns do not settle plainly (a symlink, an entry set as an object, a path the base's overlay holds, a table
 * of another kind) is left to the general test, which decides as before. test/unit/quiet-columns.test.ts holds the
 * scopes found with and without this proof equal over random cases.
 */
import { MTIME_TOLERANCE_NS } from '../core/compare.js';
import { countAt } from '../core/count-column.js';
import { idOfSlot } from '../core/id-column.js';
import { runOfSlot } from '../core/observed-runs.js';
import { RACY_WINDOW_NS } from '../core/stat-cache.js';
import type { QuietProof } from '../core/quiet.js';
import type { Base, RelPath, Snapshot } from '../core/types.js';
import { BASE_FLAGS, BASE_KINDS, BaseTable, type BaseColumns } from '../store/base-table.js';
import { KIND_DIR, KIND_FILE, NO_ID, type ScanColumns, type ScanExtras, ScanTable } from '../scan/scan-table.js';
import { LiveEntries } from './live-entries.js';
import { sameElement, wordsOf } from '../core/stat-words.js';

/** A 64-bit column seen as 32-bit halves (core/stat-words.ts): element i is at 2i and 2i+1, compared without a BigInt made per read. */
type Halves = Int32Array;

/** Which half of a 64-bit element holds its high bits: the platform's byte order decides. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;
const TWO_32 = 4294967296;
const WINDOW = Number(RACY_WINDOW_NS);
const TOLERANCE = Number(MTIME_TOLERANCE_NS);

/**
 * a[i] - b[j] as a number: exact while the difference is below 2^53 (104 days in nanoseconds), and beyond that
 * still far past any window or tolerance it is compared with.
 */
function diff64(a: Halves, i: number, b: Halves, j: number): number {
  const high = (a[2 * i + HIGH] as number) - (b[2 * j + HIGH] as number);
  const low = (a[2 * i + LOW] as number) - (b[2 * j + LOW] as number);
  // the low halves are unsigned: read as signed, each is off by 2^32 where its top bit is set
  const lowUnsigned = low + ((a[2 * i + LOW] as number) < 0 ? TWO_32 : 0) - ((b[2 * j + LOW] as number) < 0 ? TWO_32 : 0);
  return high * TWO_32 + lowUnsigned;
}

/** One side's scan as columns, with the 64-bit ones as halves. */
interface ScanView {
  readonly table: ScanTable;
  readonly c: ScanColumns;
  readonly extras: ScanExtras;
  readonly mtime: Halves;
  readonly ctime: Halves;
  readonly ino: Halves;
  /** The observed times' runs' values (core/observed-runs.ts): index them by runOfSlot. */
  readonly observed: Halves;
}

function scanViewOf(table: ScanTable): ScanView {
  const { columns: c, extras } = table.columnsNow();
  return { table, c, extras, mtime: wordsOf(c.mtimeNs), ctime: wordsOf(c.ctimeNs), ino: wordsOf(c.ino), observed: wordsOf(c.observed.values) };
}

/** The base as columns, with the 64-bit ones as halves; `left`/`right` are its side records in this run's orientation. */
interface BaseView {
  readonly table: BaseTable;
  readonly c: BaseColumns;
  readonly mtime: Halves;
  readonly left: { readonly mtime: Halves; readonly ino: Halves; readonly ctime: Halves };
  readonly right: { readonly mtime: Halves; readonly ino: Halves; readonly ctime: Halves };
}

function baseViewOf(table: BaseTable): BaseView {
  const c = table.columnsNow();
  return {
    table,
    c,
    mtime: wordsOf(c.mtimes),
    left: { mtime: wordsOf(c.leftMtimes), ino: wordsOf(c.leftInos), ctime: wordsOf(c.leftCtimes) },
    right: { mtime: wordsOf(c.rightMtimes), ino: wordsOf(c.rightInos), ctime: wordsOf(c.rightCtimes) },
  };
}

/** core/stat-cache.ts isRacy under the widest window, negated: ctime < observedAt - window. */
function notRacy(s: ScanView, i: number): boolean {
  return diff64(s.observed, runOfSlot(s.c.observed, i), s.ctime, i) > WINDOW;
}

/** Ids and xattr digests where both kept them (compare.ts sameKept). */
function sameKeptId(a: number, b: number): boolean {
  return a === NO_ID || b === NO_ID || a === b;
}

function sameKeptText(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** The file or directory at slot i of `s` and slot j of `t` have the same content and metadata (propagate's test, mtimes included). */
function sameOnBoth(s: ScanView, i: number, t: ScanView, j: number, kind: number, withMtime: boolean): boolean {
  if (s.c.modes[i] !== t.c.modes[j]) return false;
  if (!sameKeptId(idOfSlot(s.c.uids, i), idOfSlot(t.c.uids, j)) || !sameKeptId(idOfSlot(s.c.gids, i), idOfSlot(t.c.gids, j))) return false;
  if (!sameKeptText(s.extras.xattrs.get(i), t.extras.xattrs.get(j))) return false;
  if (withMtime) {
    const d = diff64(s.mtime, i, t.mtime, j);
    if (!(d < TOLERANCE && d > -TOLERANCE)) return false;
  }
  if (kind === KIND_DIR) return true;
  // no nlink > 1: files with other names are planned by group (core/hard-links.ts)
  return s.c.sizes[i] === t.c.sizes[j] && s.extras.hashes.sameHash(i, t.extras.hashes, j) && countAt(s.c.nlinks, i) <= 1 && countAt(t.c.nlinks, j) <= 1;
}

/**
 * The base's slot k records side `side` as the scan at slot i of `s` (not racy) would be recorded. A record made
 * racy holds RACY_CTIME (-1), which is no scan's ctime: such a record is never quiet here, as core/quiet.ts wants.
 */
function sideRecorded(b: BaseView, k: number, side: 'left' | 'right', s: ScanView, i: number): boolean {
  const flag = side === 'left' ? BASE_FLAGS.HAS_LEFT : BASE_FLAGS.HAS_RIGHT;
  if (((b.c.flags[k] as number) & flag) === 0) return false;
  const r = side === 'left' ? b.left : b.right;
  return sameElement(r.mtime, k, s.mtime, i) && sameElement(r.ino, k, s.ino, i) && sameElement(r.ctime, k, s.ctime, i);
}

/**
 * The base's entry at slot k is the scan's at slot i: kind, mode, size and the hash the scan has, and with `withMtime`
 * the exact mtime (commit.ts sameEntry, for the side the record's entry is made from).
 */
function entryRecorded(b: BaseView, k: number, s: ScanView, i: number, kind: number, withMtime: boolean): boolean {
  const baseKind = kind === KIND_FILE ? BASE_KINDS.FILE : BASE_KINDS.DIR;
  if (b.c.kinds[k] !== baseKind || b.c.modes[k] !== s.c.modes[i] || (withMtime && !sameElement(b.mtime, k, s.mtime, i))) return false;
  if (kind === KIND_DIR) return true;
  return b.c.sizes[k] === s.c.sizes[i] && ((b.c.flags[k] as number) & BASE_FLAGS.HAS_HASH) !== 0 && b.c.hashes.sameHash(k, s.extras.hashes, i);
}

/**
 * The proof for a full cycle over these scans and base (core/quiet.ts fullCycleScope), or null when they are not
 * kept as columns.
 */
export function columnarQuiet(mode: 'one-way' | 'two-way', base: Base, left: Snapshot, right: Snapshot): QuietProof | null {
  const leftTable = scanTableOf(left.entries);
  const rightTable = scanTableOf(right.entries);
  if (!(base instanceof BaseTable) || leftTable === null || rightTable === null) return null;
  const b = baseViewOf(base);
  const l = scanViewOf(leftTable);
  const r = scanViewOf(rightTable);
  const quietAt = mode === 'one-way' ? quietOneWay : quietTwoWay;
  const leftByNumber = leftTable.slotsByNumber(base);
  const rightByNumber = rightTable.slotsByNumber(base);
  if (leftByNumber !== null && rightByNumber !== null && !base.hasOverlay()) {
    // Both scans are keyed by the base's own slots (a sync's scans): every base slot's two scan slots are known
    // without a path, so the whole test runs once over the columns, and a path then costs one lookup of its slot
    // instead of three lookups and the comparisons (at 10k paths, most of a no-op run's 40 ms cycle; issue 11).
    const { quiet, quietSlots } = quietByBaseSlot(b, l, r, leftByNumber, rightByNumber, quietAt);
    const everyPath = quietSlots === base.size && left.entries.size === base.size && right.entries.size === base.size && parentsAreQuietDirs(base, quiet, l, leftByNumber);
    return Object.assign(
      (path: RelPath) => {
        const k = base.slotOfPath(path);
        return k !== undefined && quiet[k] === 1;
      },
      { everyPath },
    );
  }
  return (path) => {
    const i = l.table.slotOf(path);
    if (i < 0) return false;
    const j = r.table.slotOf(path);
    if (j < 0) return false;
    const k = b.table.visibleSlotOf(path);
    return k >= 0 && quietAt(b, k, l, i, r, j);
  };
}

/** The test at one path found at slot k of the base, i of the left scan and j of the right one. */
type QuietAt = (b: BaseView, k: number, l: ScanView, i: number, r: ScanView, j: number) => boolean;

/** Whether the slots can be quiet at all: the same kind on both sides, a file or a directory, neither scan racy. */
function comparable(l: ScanView, i: number, r: ScanView, j: number): boolean {
  const kind = l.c.kinds[i] as number;
  return kind === r.c.kinds[j] && (kind === KIND_FILE || kind === KIND_DIR) && notRacy(l, i) && notRacy(r, j);
}

/** One-way: the target holds what the source does, and the base records both as they are (core/quiet.ts changedSinceMirror). */
function quietOneWay(b: BaseView, k: number, l: ScanView, i: number, r: ScanView, j: number): boolean {
  if (!comparable(l, i, r, j)) return false;
  const kind = l.c.kinds[i] as number;
  return sameOnBoth(l, i, r, j, kind, true) && entryRecorded(b, k, l, i, kind, true) && sideRecorded(b, k, 'left', l, i) && sideRecorded(b, k, 'right', r, j);
}

/**
 * Two-way: neither side changed since the base, they agree on their metadata, and the base records both as they are
 * (core/quiet.ts isQuiet); directory mtimes are not compared between the sides, as two-way leaves them alone.
 */
function quietTwoWay(b: BaseView, k: number, l: ScanView, i: number, r: ScanView, j: number): boolean {
  if (!comparable(l, i, r, j)) return false;
  const kind = l.c.kinds[i] as number;
  if (!sameOnBoth(l, i, r, j, kind, kind === KIND_FILE)) return false;
  if (!keptAsInBase(b, k, l, i) || !keptAsInBase(b, k, r, j)) return false;
  // the record's entry is the left side's (commit.ts recordsAgreed); the right side's mtime is checked against its own record
  return entryRecorded(b, k, l, i, kind, true) && entryRecorded(b, k, r, j, kind, false) && sideRecorded(b, k, 'left', l, i) && sideRecorded(b, k, 'right', r, j);
}

/**
 * 1 at each base slot whose path is quiet, from the scans' slots for each base slot (ScanTable.slotsByNumber). The
 * base must hold no overlay: then every slot is visible, as visibleSlotOf would find it.
 */
function quietByBaseSlot(b: BaseView, l: ScanView, r: ScanView, leftByNumber: Int32Array, rightByNumber: Int32Array, quietAt: QuietAt): { quiet: Uint8Array; quietSlots: number } {
  const n = b.table.pathSlotCount;
  const quiet = new Uint8Array(n);
  let quietSlots = 0;
  const both = Math.min(n, leftByNumber.length, rightByNumber.length);
  for (let k = 0; k < both; k++) {
    const i = leftByNumber[k] as number;
    if (i < 0) continue;
    const j = rightByNumber[k] as number;
    if (j >= 0 && quietAt(b, k, l, i, r, j)) {
      quiet[k] = 1;
      quietSlots++;
    }
  }
  return { quiet, quietSlots };
}

/**
 * Whether the parent of every path the base holds is a quiet directory (a top-level path has none). With every slot
 * quiet and both scans as large as the base, every scanned path is one of its slots, so this is core/quiet.ts's
 * "parent a directory on both sides" for every path: a quiet slot holds the same kind on both sides. Slots come in
 * the index's order, siblings mostly together: the parent found last answers for the paths after it that share it.
 */
function parentsAreQuietDirs(base: BaseTable, quiet: Uint8Array, l: ScanView, leftByNumber: Int32Array): boolean {
  // the parent found last, with its '/'
  let lastPrefix = '';
  for (let k = 0; k < quiet.length; k++) {
    const path = base.pathOfNumber(k);
    const slash = path.lastIndexOf('/');
    if (slash < 0 || (slash === lastPrefix.length - 1 && path.startsWith(lastPrefix))) continue;
    const p = base.slotOfPath(path.slice(0, slash) as RelPath);
    if (p === undefined || quiet[p] !== 1 || l.c.kinds[leftByNumber[p] as number] !== KIND_DIR) return false;
    lastPrefix = path.slice(0, slash + 1);
  }
  return true;
}

/**
 * The scan table a side's entries are read from: a sync's scan, or a watch's entries adopted from its full scan
 * (live-entries.ts; without this its full cycles tested every path through the Map interface: 280 ms of a 100k
 * watch's start-up, issue 11).
 */
function scanTableOf(entries: Snapshot['entries']): ScanTable | null {
  if (entries instanceof ScanTable) return entries;
  return entries instanceof LiveEntries ? entries.table() : null;
}

/** Owner, group and xattrs at slot i of `s` agree with the base's slot k where both kept them (reconcile-two-way.ts unchangedSinceBase). */
function keptAsInBase(b: BaseView, k: number, s: ScanView, i: number): boolean {
  if (!sameKeptId(idOfSlot(b.c.uids, k), idOfSlot(s.c.uids, i)) || !sameKeptId(idOfSlot(b.c.gids, k), idOfSlot(s.c.gids, i))) return false;
  const baseXattrs = ((b.c.flags[k] as number) & BASE_FLAGS.XATTRS_KEPT) === 0 ? undefined : (b.c.xattrDigests.get(k) ?? '');
  return sameKeptText(baseXattrs, s.extras.xattrs.get(i));
}
