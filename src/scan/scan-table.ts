import { columnNumber } from '../core/column-number.js';
import { type CountColumn, countAt, countColumn, setCount } from '../core/count-column.js';
import { idOfSlot, NO_ID, uniformIds, withId } from '../core/id-column.js';
import type { DigestColumn } from '../core/digest-column.js';
import { appendObserved, emptyObservedRuns, type ObservedRuns, observedAtSlot } from '../core/observed-runs.js';
import type { HashColumn } from '../core/hash-column.js';
import type { CopyAction, Entry, RelPath, ScannedEntry, Side, StatId } from '../core/types.js';
import { SlotPaths } from './slot-paths.js';

/** The columns a table reads its entries from: a decoded scan's (scan-codec.ts EncodedScan, checked), or a walk's (GrowingScanTable). */
export interface ScanColumns {
  readonly kinds: Uint8Array;
  readonly sizes: Float64Array;
  readonly mtimeNs: BigInt64Array;
  readonly ctimeNs: BigInt64Array;
  readonly ino: BigUint64Array;
  /** Files' and directories' modes (0 for symlinks, which have none). */
  readonly modes: Uint16Array;
  /** When each slot was observed, as runs of slots that share a time (core/observed-runs.ts). */
  readonly observed: ObservedRuns;
  /** st_nlink; 0 where the scan had none. A byte a slot, read through core/count-column.ts countAt. */
  readonly nlinks: CountColumn;
  /** st_blocks (512-byte units); -1 where the scan had none. Four bytes a slot, read through countAt. */
  readonly blocks: CountColumn;
  /**
   * Owner and group ids; NO_ID where not kept. Uniform (one element) while every slot holds one id, else one per
   * slot: read them through core/id-column.ts idOfSlot (or idAt below), write them through withId (the only columns
   * a writer replaces).
   */
  uids: Uint32Array;
  gids: Uint32Array;
}

/** What decoding settled per entry beyond the columns: hashes vouched, xattr digests, link targets, devices. */
export interface ScanExtras {
  /** Per entry: a file's hash (null: none), undefined for other kinds (core/hash-column.ts). */
  readonly hashes: HashColumn;
  /** Per entry: the xattr digest (undefined: not kept or unknown; core/digest-column.ts). */
  readonly xattrs: DigestColumn;
  readonly targets: ReadonlyMap<number, string>;
  readonly devs: ReadonlyMap<number, bigint> | null;
}

/** An iteration over a table's slots (ScanTable.inOrder): how many it has handed out, and the map's iterator to go on with. */
interface SlotIteration {
  yielded: number;
  rest: MapIterator<[RelPath, number | ScannedEntry]> | null;
}

export const KIND_FILE = 0 as const;
export const KIND_DIR = 1 as const;
export const KIND_SYMLINK = 2 as const;
export { NO_ID };
const KIND_CODES = { file: KIND_FILE, dir: KIND_DIR, symlink: KIND_SYMLINK } as const satisfies Record<Entry['kind'], number>;

/**
 * Numbers for paths that another table already holds (the index's BaseTable): a path keeps its number for as long
 * as that table lives. A scan table keys its slots by them instead of hashing each path into a map of its own.
 */
export interface PathSlots {
  /** The path's number, or undefined when it has none. */
  slotOfPath(path: RelPath): number | undefined;
  /** The numbers handed out so far are all below this. */
  readonly pathSlotCount: number;
  /** The path numbered `n` (below pathSlotCount), for as long as this lives: slotOfPath of it is `n`. */
  pathOfNumber(n: number): RelPath;
}

/**
 * A scan in memory as columns (issue 11, memory): the same Map interface the pure core reads, as the
 * base's BaseTable is. A scan decoded into objects cost an entry, a stat and three BigInts per path
 * (about 400 bytes, all promoted to the old generation); here a path costs about 60 bytes of typed arrays: 40 of
 * columns (a byte of links, four of blocks, the ids and observed times kept once for the many slots that share them:
 * core/count-column.ts, id-column.ts, observed-runs.ts), 10 of hash and xattr state, and 8 that key it (below).
 * An entry is built when asked for, and dies young.
 *
 * Until anything is set or deleted, the table holds its paths in slot order, and finds a path's slot through the
 * index's number for it (PathSlots) and an array from those numbers to slots, and a slot's path through the number
 * too (slot-paths.ts); the few paths the index lacks go in a small map. Filling a map of every path cost 30-50 ms per
 * side of a 100k-entry no-op, on the main thread's critical path, and about 4 MB per side (issue 11). Without
 * PathSlots, and from the first set or delete on, one Map holds every path in Map order, with a slot number for an
 * entry as decoded or the entry itself for one set later (hashes filled in, a watch's rescans): set, delete and
 * iteration are a Map's, and the order is the same, since slot order is the order the map is then filled in.
 */
export class ScanTable implements Map<RelPath, ScannedEntry> {
  /** Iterations running over the slots (inOrder): each goes on in the map once there is one. */
  private readonly iterations = new Set<SlotIteration>();
  /** Null while the slots are keyed through PathSlots (bySlot); built from them on first need (pathMap). */
  private byPath: Map<RelPath, number | ScannedEntry> | null;
  /** Keyed through PathSlots: each slot's path, the index's numbers to slots (-1: none), and the paths the index lacks. */
  private bySlot: { readonly paths: SlotPaths; readonly slots: PathSlots; readonly slotOfNumber: Int32Array; readonly unnumbered: Map<RelPath, number> } | null;
  /** The last entry asked for: the planner asks for the same path several times in a row. */
  private lastPath: RelPath | null = null;
  private lastEntry: ScannedEntry | undefined;
  /** The last slot decoded, for a row's fields read one after another (ScannedRow). */
  private decodedSlot = -1;
  private decoded: ScannedEntry | undefined;
  private lastObservedNs = 0n;
  /** The class of this table's copies to each side (rowCopyClass), made on first use. */
  private readonly copyClasses: { left?: RowCopyClass; right?: RowCopyClass } = {};

  constructor(
    /** Replaced, never written behind a reader's back, when a GrowingScanTable outgrows it. */
    protected c: ScanColumns,
    protected readonly extras: ScanExtras,
    paths: readonly string[],
    /** The index's numbers for paths: the table then keeps no map of its own until something is set or deleted. */
    slots?: PathSlots,
    /** The slots to make room for (a walk's estimate), where more than `paths`. */
    capacity = 0,
  ) {
    if (slots === undefined) {
      this.byPath = new Map();
      this.bySlot = null;
      for (let i = 0; i < paths.length; i++) this.byPath.set(paths[i] as RelPath, i);
      return;
    }
    this.byPath = null;
    const slotPaths = new SlotPaths((n) => slots.pathOfNumber(n), Math.max(capacity, paths.length));
    this.bySlot = { paths: slotPaths, slots, slotOfNumber: new Int32Array(slots.pathSlotCount).fill(-1), unnumbered: new Map() };
    for (let i = 0; i < paths.length; i++) this.bindSlot(paths[i] as RelPath, i);
  }

  /** The map of paths to slots, built from the slots on first use (a GrowingScanTable made without one builds it from its pending paths too). */
  protected pathMap(): Map<RelPath, number | ScannedEntry> {
    if (this.byPath !== null) return this.byPath;
    const map = new Map<RelPath, number | ScannedEntry>();
    const paths = this.bySlot?.paths;
    for (let i = 0; paths !== undefined && i < paths.length; i++) map.set(paths.at(i), i);
    this.byPath = map;
    this.bySlot = null;
    // the map holds the slots in slot order: an iteration over them goes on past the entries it has handed out
    for (const at of this.iterations) {
      const rest = map.entries();
      for (let k = 0; k < at.yielded; k++) rest.next();
      at.rest = rest;
    }
    return map;
  }

  /** Points `path`, which the table does not hold yet, at slot `slot` of the columns (a GrowingScanTable's append). */
  protected bindSlot(path: RelPath, slot: number): void {
    this.lastPath = null;
    this.lastEntry = undefined;
    const keyed = this.bySlot;
    if (keyed === null) {
      this.pathMap().set(path, slot);
      return;
    }
    // slots are bound in order, one per path: the slot's path is the next SlotPaths holds
    const n = keyed.slots.slotOfPath(path);
    const numbered = n !== undefined && n < keyed.slotOfNumber.length;
    if (numbered ? (keyed.slotOfNumber[n] as number) >= 0 : keyed.unnumbered.has(path)) {
      // a path bound twice (a far side's scan that sends one twice): a map's rule, the later slot wins and the size
      // stays one short, which is how the receiving side tells (remote/remote-endpoint.ts)
      this.pathMap().set(path, slot);
      return;
    }
    if (numbered) {
      keyed.slotOfNumber[n] = slot;
      keyed.paths.push(path, n);
    } else {
      keyed.unnumbered.set(path, slot);
      keyed.paths.push(path, undefined);
    }
  }

  /**
   * The slot of each of `slots`' numbers (-1: none) while the table is keyed through them, else null: the quiet test
   * of a full cycle reads every number's slot at once (sync/quiet-columns.ts). Numbers at or past its length have none.
   */
  slotsByNumber(slots: PathSlots): Int32Array | null {
    const keyed = this.bySlot;
    return keyed !== null && keyed.slots === slots ? keyed.slotOfNumber : null;
  }

  /** The path at slot `slot` (below size) while the table is keyed through PathSlots (slotsByNumber says so), else null. */
  keyedPathAt(slot: number): RelPath | null {
    const keyed = this.bySlot;
    return keyed === null || slot < 0 || slot >= keyed.paths.length ? null : keyed.paths.at(slot);
  }

  /** Keyed through PathSlots: the slot of `path`, or -1. */
  private keyedSlotOf(keyed: NonNullable<ScanTable['bySlot']>, path: RelPath): number {
    const n = keyed.slots.slotOfPath(path);
    if (n !== undefined && n < keyed.slotOfNumber.length) {
      const slot = keyed.slotOfNumber[n] as number;
      if (slot >= 0) return slot;
    }
    return keyed.unnumbered.size === 0 ? -1 : (keyed.unnumbered.get(path) ?? -1);
  }

  /**
   * Keeps a map of its own paths from now on, and lets go of the index's numbers: for a table that outlives the
   * run it was scanned for (a watch keeps a full scan's table between cycles, sync/live-entries.ts).
   */
  keepOwnPaths(): void {
    this.pathMap();
  }

  get size(): number {
    return this.bySlot !== null ? this.bySlot.paths.length : this.pathMap().size;
  }

  get(path: RelPath): ScannedEntry | undefined {
    if (path === this.lastPath) return this.lastEntry;
    let e: ScannedEntry | undefined;
    if (this.bySlot !== null) {
      const slot = this.keyedSlotOf(this.bySlot, path);
      e = slot < 0 ? undefined : new ScannedRow(this, slot);
    } else {
      const v = this.pathMap().get(path);
      e = typeof v === 'number' ? new ScannedRow(this, v) : v;
    }
    this.lastPath = path;
    this.lastEntry = e;
    return e;
  }

  has(path: RelPath): boolean {
    return this.bySlot !== null ? this.keyedSlotOf(this.bySlot, path) >= 0 : this.pathMap().has(path);
  }

  /** The slot whose columns hold the entry at `path`, or -1 (none, or one set later as an object). */
  slotOf(path: RelPath): number {
    if (this.bySlot !== null) return this.keyedSlotOf(this.bySlot, path);
    const v = this.pathMap().get(path);
    return typeof v === 'number' ? v : -1;
  }

  /**
   * Fills in the hash of the file at `path` where its slot holds none (a file the index could not vouch for, read
   * since: sync/cycle.ts fillHashes, before the plan), and says so; false where the path has no slot of the columns
   * or its slot is no file without a hash (then set the entry instead). Unlike set, this keeps the table keyed by
   * the index's numbers, so the columns stay readable as they are: a set makes a map of every path (55 ms of a 100k
   * two-way run with 1% changed on each side, both tables, issue 11). The slot's entry changes: only for a table
   * no one keeps a row of yet (ScannedRow), as before planning.
   */
  fillHash(path: RelPath, hash: string): boolean {
    const slot = this.slotOf(path);
    const hashes = this.extras.hashes;
    if (slot < 0 || this.c.kinds[slot] !== KIND_FILE || (hashes.get(slot) ?? null) !== null) return false;
    hashes.set(slot, hash);
    // the last entry asked for is a row, which reads its slot anew; the slot last decoded is decoded again
    if (this.decodedSlot === slot) {
      this.decodedSlot = -1;
      this.decoded = undefined;
    }
    return true;
  }

  /** The columns and extras as they are now (a GrowingScanTable replaces its columns as it grows: read them again after an append). */
  columnsNow(): { readonly columns: ScanColumns; readonly extras: ScanExtras } {
    return { columns: this.c, extras: this.extras };
  }

  set(path: RelPath, value: ScannedEntry): this {
    this.lastPath = null;
    this.lastEntry = undefined;
    this.pathMap().set(path, value);
    return this;
  }

  delete(path: RelPath): boolean {
    this.lastPath = null;
    this.lastEntry = undefined;
    return this.pathMap().delete(path);
  }

  clear(): void {
    this.lastPath = null;
    this.lastEntry = undefined;
    this.pathMap().clear();
  }

  keys(): MapIterator<RelPath> {
    // the map's own iterator where there is a map: a full cycle goes through every path of a side
    return this.bySlot === null ? this.pathMap().keys() : this.slotKeys();
  }

  /** keys() over the slots, without a pair built per path (inOrder says how a change meanwhile is followed). */
  private *slotKeys(): Generator<RelPath, undefined> {
    const keyed = this.bySlot;
    if (keyed === null) return yield* this.pathMap().keys();
    const at: SlotIteration = { yielded: 0, rest: null };
    this.iterations.add(at);
    try {
      const paths = keyed.paths;
      while (this.bySlot !== null && at.yielded < paths.length) yield paths.at(at.yielded++);
      if (at.rest !== null) for (const [path] of at.rest) yield path;
    } finally {
      this.iterations.delete(at);
    }
  }

  /**
   * Whether `path` is a directory, and whether it is a file with other names (nlink > 1, core/hard-links.ts
   * isLinkedFile), read from the columns where the path is still in its slot: a watch asks this of every path
   * when it takes a full scan over (sync/live-entries.ts), without building each entry to ask.
   */
  isDir(path: RelPath): boolean {
    if (this.bySlot !== null) {
      const slot = this.keyedSlotOf(this.bySlot, path);
      return slot >= 0 && this.c.kinds[slot] === KIND_DIR;
    }
    const v = this.pathMap().get(path);
    if (v === undefined) return false;
    return typeof v === 'number' ? this.c.kinds[v] === KIND_DIR : v.entry.kind === 'dir';
  }

  /** See isDir. */
  isLinkedFile(path: RelPath): boolean {
    if (this.bySlot !== null) {
      const slot = this.keyedSlotOf(this.bySlot, path);
      return slot >= 0 && this.isLinkedValue(slot);
    }
    const v = this.pathMap().get(path);
    return v !== undefined && this.isLinkedValue(v);
  }

  /** Whether any entry is a file with other names (core/hard-links.ts asks this of a whole scan before looking for link groups). */
  hasLinkedFile(): boolean {
    if (this.bySlot !== null) {
      // the byte column first: a count of 0 or 1 is what it says (count-column.ts), and nearly every slot holds one
      const { kinds, nlinks } = this.c;
      for (let i = 0; i < this.bySlot.paths.length; i++) if ((nlinks.values[i] as number) > 1 && kinds[i] === KIND_FILE && countAt(nlinks, i) > 1) return true;
      return false;
    }
    for (const v of this.pathMap().values()) if (this.isLinkedValue(v)) return true;
    return false;
  }

  /** A slot's columns or an entry set as an object: a file with nlink > 1 (core/hard-links.ts isLinkedFile). */
  private isLinkedValue(v: number | ScannedEntry): boolean {
    if (typeof v !== 'number') return v.entry.kind === 'file' && (v.stat.nlink ?? 1) > 1;
    return this.c.kinds[v] === KIND_FILE && countAt(this.c.nlinks, v) > 1;
  }

  *entries(): MapIterator<[RelPath, ScannedEntry]> {
    for (const [path, v] of this.inOrder()) yield [path, typeof v === 'number' ? new ScannedRow(this, v) : v];
  }

  *values(): MapIterator<ScannedEntry> {
    for (const [, v] of this.inOrder()) yield typeof v === 'number' ? new ScannedRow(this, v) : v;
  }

  /**
   * Every path and its slot (or entry set later) in Map order, with a Map iterator's liveness: a set or delete
   * while iterating (filter-scan.ts deletes as it goes) turns the slots into the map, and the iteration goes on
   * in the map from where it was, seeing what a Map's iterator would.
   */
  private *inOrder(): Generator<[RelPath, number | ScannedEntry]> {
    if (this.bySlot !== null) {
      const at: SlotIteration = { yielded: 0, rest: null };
      this.iterations.add(at);
      try {
        const paths = this.bySlot.paths;
        while (this.bySlot !== null && at.yielded < paths.length) {
          const slot = at.yielded++;
          yield [paths.at(slot), slot];
        }
        if (at.rest === null) return;
        yield* at.rest;
      } finally {
        this.iterations.delete(at);
      }
      return;
    }
    yield* this.pathMap();
  }

  [Symbol.iterator](): MapIterator<[RelPath, ScannedEntry]> {
    return this.entries();
  }

  forEach(fn: (value: ScannedEntry, key: RelPath, map: Map<RelPath, ScannedEntry>) => void, thisArg?: unknown): void {
    for (const [path, e] of this.entries()) fn.call(thisArg, e, path, this);
  }

  get [Symbol.toStringTag](): string {
    return 'Map';
  }

  /**
   * The BigInt for an lstat's wall-clock time, the one handed out last when the value is the same: a walk stamps
   * all the entries of one millisecond with one value (fs/stat.ts nowNs), and a plan that keeps 100k entries (an
   * initial copy's actions) then keeps a few hundred of these, not 100k.
   */
  private observedAt(ns: bigint): bigint {
    if (ns !== this.lastObservedNs) this.lastObservedNs = ns;
    return this.lastObservedNs;
  }

  /** Slot `slot` copied to `path` on `target`, which holds nothing there: a view of the slot (rowCopyClass). */
  copyOfSlot(slot: number, path: RelPath, target: Side): CopyAction {
    let Copy = this.copyClasses[target];
    if (Copy === undefined) {
      Copy = rowCopyClass(this, target);
      this.copyClasses[target] = Copy;
    }
    return new Copy(path, slot);
  }

  /** What slot i holds, as a plain object: a ScannedRow's fields. The last one is kept, for the next field read. */
  decodedAt(slot: number): ScannedEntry {
    if (slot !== this.decodedSlot || this.decoded === undefined) {
      this.decoded = this.entryAt(slot);
      this.decodedSlot = slot;
    }
    return this.decoded;
  }

  /** Entry i as decodeScan used to build it: each kind in one shape (absent metadata is an undefined field). */
  private entryAt(i: number): ScannedEntry {
    const c = this.c;
    const stat = statAt(c, i, this.extras.devs?.get(i));
    const mtimeNs = stat.mtimeNs;
    const uid = idAt(c.uids, i);
    const gid = idAt(c.gids, i);
    const xattrs = this.extras.xattrs.get(i);
    let entry: Entry;
    switch (c.kinds[i]) {
      case KIND_FILE:
        entry = { kind: 'file', size: stat.size, mtimeNs, mode: c.modes[i] as number, hash: this.extras.hashes.get(i) ?? null, uid, gid, xattrs };
        break;
      case KIND_DIR:
        entry = { kind: 'dir', mode: c.modes[i] as number, mtimeNs, uid, gid, xattrs };
        break;
      default:
        // decodeScan checked every kind and gave every symlink its target
        entry = { kind: 'symlink', target: this.extras.targets.get(i) as string, mtimeNs, uid, gid };
    }
    return { entry, stat, observedAtNs: this.observedAt(observedAtSlot(c.observed, i)) };
  }
}

/**
 * An entry of a ScanTable, read from the table's columns each time a field is asked for (issue 11, memory).
 * An initial copy's plan held a source per file: as a plain object with its entry, stat and BigInts that cost
 * about 280 bytes per file (about 28 MB of a 100k-file first copy's heap), as a row 40 (and now as a RowCopy, below,
 * none). Its fields are plain objects, built anew when read (the table keeps the last slot decoded, for the next field).
 *
 * A slot is written once and never changed, but for a file's hash filled in where the scan had none
 * (ScanTable.fillHash, before anything keeps a row): a later value for the path is set on the table on top of it
 * (ScanTable.set), and a GrowingScanTable that grows copies its slots. A row therefore reads the same entry
 * for as long as it lives, as a plain object would.
 *
 * Not a plain object: `{ ...row }` copies none of its fields. Build a new entry from its fields instead
 * (core/scanned.ts withEntry).
 */
export class ScannedRow implements ScannedEntry {
  // #private: not properties, so a spread or a deep comparison of a row never walks into its table
  readonly #table: ScanTable;
  readonly #slot: number;

  constructor(table: ScanTable, slot: number) {
    this.#table = table;
    this.#slot = slot;
  }

  get entry(): Entry {
    return this.#table.decodedAt(this.#slot).entry;
  }

  get stat(): StatId {
    return this.#table.decodedAt(this.#slot).stat;
  }

  get observedAtNs(): bigint {
    return this.#table.decodedAt(this.#slot).observedAtNs;
  }

  /** This row copied to `path` on `target`, which holds nothing there (core/scanned.ts copyToEmpty). */
  copyTo(path: RelPath, target: Side): CopyAction {
    return this.#table.copyOfSlot(this.#slot, path, target);
  }
}

type RowCopyClass = new (path: RelPath, slot: number) => RowCopy;

/**
 * A copy of a table's row to a side that holds nothing at its path (issue 11, memory): a first sync's plan holds
 * one per file. As a plain action holding a ScannedRow that cost 104 bytes per file (the action's five fields, the
 * row's two); a RowCopy keeps its path and slot, 40 bytes, and the table and side it shares with every other copy
 * of its class (rowCopyClass, one per table and side). Its source is a new ScannedRow each time it is read, as
 * short-lived as the entry a row decodes. Like a row, it is not a plain object: `{ ...copy }` copies its path alone.
 */
export abstract class RowCopy implements CopyAction {
  readonly path: RelPath;
  readonly #slot: number;

  constructor(path: RelPath, slot: number) {
    this.path = path;
    this.#slot = slot;
  }

  get type(): 'copy' {
    return 'copy';
  }

  get expect(): null {
    return null;
  }

  abstract get target(): Side;

  protected abstract get table(): ScanTable;

  get source(): ScannedEntry {
    return new ScannedRow(this.table, this.#slot);
  }
}

function rowCopyClass(table: ScanTable, target: Side): RowCopyClass {
  return class extends RowCopy {
    get target(): Side {
      return target;
    }

    protected get table(): ScanTable {
      return table;
    }
  };
}

/** Entry i's stat, in the shape fs/stat.ts statIdOf gives; the optional parts only where the encoded scan had them. */
export function statAt(c: ScanColumns, i: number, dev: bigint | undefined): StatId {
  const ino = c.ino[i] as bigint;
  const ctimeNs = c.ctimeNs[i] as bigint;
  const size = columnNumber(c.sizes[i] as number);
  const mtimeNs = c.mtimeNs[i] as bigint;
  const nlink = countAt(c.nlinks, i);
  const blocks = columnNumber(countAt(c.blocks, i));
  if (nlink > 0 && blocks >= 0) return dev === undefined ? { ino, ctimeNs, size, mtimeNs, nlink, blocks } : { ino, ctimeNs, size, mtimeNs, nlink, blocks, dev };
  const stat: StatId = { ino, ctimeNs, size, mtimeNs };
  return { ...stat, ...(nlink > 0 ? { nlink } : {}), ...(blocks >= 0 ? { blocks } : {}), ...(dev === undefined ? {} : { dev }) };
}

export function idAt(ids: Uint32Array, i: number): number | undefined {
  const id = idOfSlot(ids, i);
  return id === NO_ID ? undefined : id;
}

/** Columns for `count` entries, every id NO_ID (not kept) until written. */
export function allocColumns(count: number): ScanColumns {
  return {
    kinds: new Uint8Array(count),
    sizes: new Float64Array(count),
    mtimeNs: new BigInt64Array(count),
    ctimeNs: new BigInt64Array(count),
    ino: new BigUint64Array(count),
    modes: new Uint16Array(count),
    observed: emptyObservedRuns(),
    nlinks: countColumn(1, count),
    blocks: countColumn(4, count),
    uids: uniformIds(),
    gids: uniformIds(),
  };
}

/**
 * Slot i of `c` from a scanned entry: everything but what ScanExtras holds (hash, xattr digest, link target, device).
 * Slots are written in order from 0 (core/id-column.ts withId).
 */
export function writeColumns(c: ScanColumns, i: number, s: ScannedEntry): void {
  const e = s.entry;
  c.kinds[i] = KIND_CODES[e.kind];
  c.sizes[i] = s.stat.size;
  c.mtimeNs[i] = s.stat.mtimeNs;
  c.ctimeNs[i] = s.stat.ctimeNs;
  c.ino[i] = s.stat.ino;
  appendObserved(c.observed, i, s.observedAtNs);
  setCount(c.nlinks, i, s.stat.nlink ?? 0);
  setCount(c.blocks, i, s.stat.blocks ?? -1);
  c.modes[i] = e.kind === 'symlink' ? 0 : e.mode;
  c.uids = withId(c.uids, i, e.uid ?? NO_ID, c.kinds.length);
  c.gids = withId(c.gids, i, e.gid ?? NO_ID, c.kinds.length);
}
