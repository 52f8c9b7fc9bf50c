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
import { fullCycleScopeLimit, type QuietProof } from '../core/quiet.js';
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

/** |a[i] - b[j]| < limit: equal elements (the usual case) without the general sum, which makes a heap number until V8 optimizes its caller. */
function within(a: Halves, i: number, b: Halves, j: number, limit: number): boolean {
  if (a[2 * i + HIGH] === b[2 * j + HIGH] && a[2 * i + LOW] === b[2 * j + LOW]) return true;
  const d = diff64(a, i, b, j);
  return d < limit && d > -limit;
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

/** Ids and xattr digests where both kept them (compare.ts sameKept). */
function sameKeptId(a: number, b: number): boolean {
  return a === NO_ID || b === NO_ID || a === b;
}

function sameKeptText(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** The test at one path found at slot k of the base, i of the left scan and j of the right one. */
type QuietAt = (k: number, i: number, j: number) => boolean;

/**
 * The quiet test of `mode` over these columns, slot by slot: true only where core/quiet.ts's rules hold (one-way:
 * changedSinceMirror's, the target holding what the source does and the base recording both as they are; two-way:
 * isQuiet's, neither side changed since the base, both agreeing on their metadata, the base recording both as they
 * are, with directory mtimes not compared between the sides, as two-way leaves them alone).
 *
 * One closure over the columns, each read from a local, rather than a helper per rule reading them through the views:
 * a no-op run asks it of every path once, at 10k paths mostly before V8 has optimized it (issue 11, TSYNC_TIMINGS=1,
 * means of six alternating runs: a no-op's cycle 28.7 to 23.1 ms one-way and 30.9 to 22.0 ms two-way at 10k paths,
 * 63.7 to 55.7 and 69.3 to 57.6 ms at 100k).
 */
function quietTestOf(mode: 'one-way' | 'two-way', b: BaseView, l: ScanView, r: ScanView): QuietAt {
  const twoWay = mode === 'two-way';
  const [lc, rc, bc] = [l.c, r.c, b.c];
  const [lKinds, rKinds, bKinds] = [lc.kinds, rc.kinds, bc.kinds];
  const [lModes, rModes, bModes] = [lc.modes, rc.modes, bc.modes];
  const [lSizes, rSizes, bSizes] = [lc.sizes, rc.sizes, bc.sizes];
  const [lHashes, rHashes, bHashes] = [l.extras.hashes, r.extras.hashes, bc.hashes];
  const [lXattrs, rXattrs] = [l.extras.xattrs, r.extras.xattrs];
  const bFlags = bc.flags;
  const sideFlags = BASE_FLAGS.HAS_LEFT | BASE_FLAGS.HAS_RIGHT;
  /** ctime < observedAt - window (core/stat-cache.ts isRacy under the widest window, negated). */
  const notRacy = (s: ScanView, i: number): boolean => diff64(s.observed, runOfSlot(s.c.observed, i), s.ctime, i) > WINDOW;
  /** The base's side record holds the scan's mtime, inode and ctime (a racy record's ctime, -1, is no scan's). */
  const recorded = (side: BaseView['left'], k: number, s: ScanView, i: number): boolean =>
    sameElement(side.mtime, k, s.mtime, i) && sameElement(side.ino, k, s.ino, i) && sameElement(side.ctime, k, s.ctime, i);
  // no array or object made per slot: until V8 optimizes the closure, each would be allocated
  return (k, i, j) => {
    // each side a file or a directory, the same kind, neither racy
    const kind = lKinds[i] as number;
    if (kind !== rKinds[j] || (kind !== KIND_FILE && kind !== KIND_DIR) || !notRacy(l, i) || !notRacy(r, j)) return false;
    const isFile = kind === KIND_FILE;
    // the same on both sides (propagate's test): mode, owner, group, xattrs, mtime (two-way: files only), and a
    // file's size and hash, with no other names (files with other names are planned by group, core/hard-links.ts)
    const mode = lModes[i] as number;
    if (mode !== rModes[j]) return false;
    const lUid = idOfSlot(lc.uids, i);
    const lGid = idOfSlot(lc.gids, i);
    const rUid = idOfSlot(rc.uids, j);
    const rGid = idOfSlot(rc.gids, j);
    if (!sameKeptId(lUid, rUid) || !sameKeptId(lGid, rGid)) return false;
    const lXattr = lXattrs.get(i);
    const rXattr = rXattrs.get(j);
    if (!sameKeptText(lXattr, rXattr)) return false;
    if ((isFile || !twoWay) && !within(l.mtime, i, r.mtime, j, TOLERANCE)) return false;
    if (isFile && (lSizes[i] !== rSizes[j] || !lHashes.sameHash(i, rHashes, j) || countAt(lc.nlinks, i) > 1 || countAt(rc.nlinks, j) > 1)) return false;
    const flags = bFlags[k] as number;
    // two-way: owner, group and xattrs as the base kept them, where both kept them (reconcile-two-way.ts unchangedSinceBase)
    if (twoWay) {
      const bUid = idOfSlot(bc.uids, k);
      const bGid = idOfSlot(bc.gids, k);
      if (!sameKeptId(bUid, lUid) || !sameKeptId(bGid, lGid) || !sameKeptId(bUid, rUid) || !sameKeptId(bGid, rGid)) return false;
      const bXattr = (flags & BASE_FLAGS.XATTRS_KEPT) === 0 ? undefined : (bc.xattrDigests.get(k) ?? '');
      if (!sameKeptText(bXattr, lXattr) || !sameKeptText(bXattr, rXattr)) return false;
    }
    // the base's entry is the scan's (commit.ts sameEntry): kind, mode, the left side's exact mtime, a file's size
    // and hash (so the right side's too, which holds the same; its mtime is checked against its own record below)
    if (bKinds[k] !== (isFile ? BASE_KINDS.FILE : BASE_KINDS.DIR) || bModes[k] !== mode || !sameElement(b.mtime, k, l.mtime, i)) return false;
    if (isFile && (bSizes[k] !== lSizes[i] || (flags & BASE_FLAGS.HAS_HASH) === 0 || !bHashes.sameHash(k, lHashes, i))) return false;
    // both sides recorded as scanned now
    return (flags & sideFlags) === sideFlags && recorded(b.left, k, l, i) && recorded(b.right, k, r, j);
  };
}

/**
 * The proof for a full cycle over these scans and base (core/quiet.ts fullCycleScope), or null when they are not
 * kept as columns. `limit`: how many paths it may leave unsettled before it lists none (the tests raise it, so that
 * their small trees are proven the way large ones are).
 */
export function columnarQuiet(mode: 'one-way' | 'two-way', base: Base, left: Snapshot, right: Snapshot, limit = fullCycleScopeLimit(base, left, right)): QuietProof | null {
  const leftTable = scanTableOf(left.entries);
  const rightTable = scanTableOf(right.entries);
  if (!(base instanceof BaseTable) || leftTable === null || rightTable === null) return null;
  const b = baseViewOf(base);
  const l = scanViewOf(leftTable);
  const r = scanViewOf(rightTable);
  const quietAt = quietTestOf(mode, b, l, r);
  const leftByNumber = leftTable.slotsByNumber(base);
  const rightByNumber = rightTable.slotsByNumber(base);
  if (leftByNumber !== null && rightByNumber !== null && !base.hasOverlay()) {
    // Both scans are keyed by the base's own slots (a sync's scans): every base slot's two scan slots are known
    // without a path, so the whole test runs once over the columns, and a path then costs one lookup of its slot
    // instead of three lookups and the comparisons (at 10k paths, most of a no-op run's 40 ms cycle; issue 11).
    const slots = quietByBaseSlot(b, leftByNumber, rightByNumber, quietAt);
    const { quiet } = slots;
    const proof = (path: RelPath): boolean => {
      const k = base.slotOfPath(path);
      return k !== undefined && quiet[k] === 1;
    };
    const unsettled = unsettledPaths(base, slots, l, leftByNumber, r, rightByNumber, limit);
    return unsettled === null ? proof : Object.assign(proof, { unsettled });
  }
  return (path) => {
    const i = l.table.slotOf(path);
    if (i < 0) return false;
    const j = r.table.slotOf(path);
    if (j < 0) return false;
    const k = b.table.visibleSlotOf(path);
    return k >= 0 && quietAt(k, i, j);
  };
}

/** What quietByBaseSlot found. */
interface QuietSlots {
  /** 1 at each base slot whose path is quiet. */
  readonly quiet: Uint8Array;
  /** How many: each leads to a slot of both scans, and no other base slot leads to the same. */
  readonly quietSlots: number;
}

/**
 * The quiet base slots, from the scans' slots for each base slot (ScanTable.slotsByNumber). The base must hold no
 * overlay: then every slot is visible, as visibleSlotOf would find it.
 */
function quietByBaseSlot(b: BaseView, leftByNumber: Int32Array, rightByNumber: Int32Array, quietAt: QuietAt): QuietSlots {
  const n = b.table.pathSlotCount;
  const quiet = new Uint8Array(n);
  let quietSlots = 0;
  const both = Math.min(n, leftByNumber.length, rightByNumber.length);
  for (let k = 0; k < both; k++) {
    const i = leftByNumber[k] as number;
    if (i < 0) continue;
    const j = rightByNumber[k] as number;
    if (j >= 0 && quietAt(k, i, j)) {
      quiet[k] = 1;
      quietSlots++;
    }
  }
  return { quiet, quietSlots };
}

/**
 * The paths the general test must still decide (QuietProof.unsettled), or null where they are more than `limit` (a
 * first copy's, a tree of symlinks, which the columns never prove: the general pass then goes as before). Listed:
 * each base slot that is not quiet, or whose parent is not a directory on both sides, and each scan slot that no base
 * slot leads to (a path new since the base). Every other path of the base and both scans is then a quiet slot under a
 * directory on both sides: a scan keyed by the base holds a numbered path at the slot its number leads to, so a scan
 * slot some base slot leads to holds that slot's path. The base must hold no overlay and no hidden slot. Slots come
 * in the index's order, siblings mostly together: the parent found last answers for the paths after it that share it.
 */
function unsettledPaths(
  base: BaseTable,
  { quiet, quietSlots }: QuietSlots,
  left: ScanView,
  leftByNumber: Int32Array,
  right: ScanView,
  rightByNumber: Int32Array,
  limit: number,
): RelPath[] | null {
  if (base.size !== base.pathSlotCount || base.hasOverlay()) return null;
  const out: RelPath[] = [];
  // the parent found last, with its '/', and whether it is a directory on both sides
  let lastPrefix = '';
  let lastIsDir = true;
  for (let k = 0; k < quiet.length; k++) {
    const path = base.pathOfNumber(k);
    if (quiet[k] === 1) {
      const slash = path.lastIndexOf('/');
      if (slash < 0) continue;
      if (slash !== lastPrefix.length - 1 || !path.startsWith(lastPrefix)) {
        const parent = path.slice(0, slash) as RelPath;
        lastPrefix = path.slice(0, slash + 1);
        // through the parent's base slot where it has one: one lookup for both sides
        const p = base.slotOfPath(parent);
        lastIsDir = p === undefined ? left.table.isDir(parent) && right.table.isDir(parent) : isDirAt(left, leftByNumber, p) && isDirAt(right, rightByNumber, p);
      }
      if (lastIsDir) continue;
    }
    out.push(path);
    if (out.length > limit) return null;
  }
  for (const [{ table }, byNumber] of [
    [left, leftByNumber],
    [right, rightByNumber],
  ] as const) {
    // as many quiet slots as the scan has slots (a no-op run's): each of its slots is led to by one, none is new
    if (quietSlots === table.size) continue;
    const isLed = new Uint8Array(table.size);
    const numbers = Math.min(byNumber.length, quiet.length);
    for (let k = 0; k < numbers; k++) {
      const i = byNumber[k] as number;
      if (i >= 0) isLed[i] = 1;
    }
    for (let i = 0; i < isLed.length; i++) {
      if (isLed[i] === 1) continue;
      const path = table.keyedPathAt(i);
      if (path === null) return null;
      out.push(path);
      if (out.length > limit) return null;
    }
  }
  return out;
}

/** Whether the scan slot base slot `k` leads to (ScanTable.slotsByNumber) holds a directory. */
function isDirAt(s: ScanView, byNumber: Int32Array, k: number): boolean {
  const i = k < byNumber.length ? (byNumber[k] as number) : -1;
  return i >= 0 && s.c.kinds[i] === KIND_DIR;
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
