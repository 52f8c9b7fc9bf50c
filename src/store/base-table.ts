import { columnNumber } from '../core/column-number.js';
import { HashColumn } from '../core/hash-column.js';
import { grownIds, idOfSlot, NO_ID, uniformIds, withId } from '../core/id-column.js';
import { checkYoungGeneration } from '../runtime/young-generation.js';
import { isRacy, RACY_CTIME, vouchedHash, vouchedXattrs } from '../core/stat-cache.js';
import type { BaseRecord, Entry, RelPath, ScannedEntry, Side, SideRecord, StatId } from '../core/types.js';
import type { SnapshotRows } from './base-snapshot.js';
import { ASK_RECORDS, sameElement, type StatCacheColumns, wordsOf } from '../core/stat-words.js';

/** One row of the index as the loader hands it over, in this invocation's left/right orientation (store/base-load.ts). */
export interface StoredRow {
  kind: number;
  size: number | null;
  mode: number | null;
  mtimeNs: bigint | null;
  hash: string | null;
  /** A symlink's target, binary string. */
  target: string | null;
  leftMtimeNs: bigint | null;
  leftIno: bigint | null;
  leftCtimeNs: bigint | null;
  rightMtimeNs: bigint | null;
  rightIno: bigint | null;
  rightCtimeNs: bigint | null;
  uid: number | null;
  gid: number | null;
  xattrs: string | null;
}

/**
 * A loaded table's columns as they are, the first `count` slots of each (store/base-snapshot.ts writes them to a
 * file and reads them back). `swapped`: the orientation they were loaded in (store.ts).
 */
export interface BaseColumns {
  readonly count: number;
  readonly paths: readonly RelPath[];
  readonly kinds: Uint8Array;
  readonly flags: Uint8Array;
  readonly modes: Uint16Array;
  readonly sizes: Float64Array;
  readonly mtimes: BigInt64Array;
  readonly uids: Uint32Array;
  readonly gids: Uint32Array;
  readonly leftMtimes: BigInt64Array;
  readonly leftInos: BigUint64Array;
  readonly leftCtimes: BigInt64Array;
  readonly rightMtimes: BigInt64Array;
  readonly rightInos: BigUint64Array;
  readonly rightCtimes: BigInt64Array;
  /** Files' hashes (slots without flag HAS_HASH hold none); a column of their own, core/hash-column.ts says why. */
  readonly hashes: HashColumn;
  readonly targets: ReadonlyMap<number, string>;
  readonly xattrDigests: ReadonlyMap<number, string>;
  /**
   * Slots the number columns' buffers hold from each column's start, when that is more than `count` and the spare
   * slots belong to these columns alone (decodeSnapshot sizes them with roomFor): a table adopting them grows into
   * that room without copying. Absent: `count`.
   */
  readonly room?: number;
}

/**
 * The slots to give a base of `count` rows: 3% and 256 more. A watch adds its new paths to the base it loaded; a
 * table sized exactly had to copy every column (about 9 MB at 100k rows, 35-40 ms of the first new file's cycle,
 * most of it page faults on this VM) on its first new path. The spare slots are zero pages nobody touches until
 * used, except the owner columns' few (NO_ID).
 */
export function roomFor(count: number): number {
  return count + Math.ceil(count * 0.03) + 256;
}

type Mutable<T> = T extends unknown ? { -readonly [K in keyof T]: T[K] } : never;

/** The columns of one base row as the index stores them, in this invocation's left/right orientation. */
export interface BaseRow {
  readonly path: RelPath;
  readonly entry: Entry;
  readonly left: SideRecord | null;
  readonly right: SideRecord | null;
}

const KIND_FILE = 1;
const KIND_DIR = 2;
const KIND_SYMLINK = 3;
const HAS_LEFT = 1;
const HAS_RIGHT = 2;
const HAS_HASH = 4;
const XATTRS_KEPT = 8;
/** The codes of the `kinds` column and the bits of the `flags` column, for code that reads the columns (sync/quiet-columns.ts). */
export const BASE_KINDS = { FILE: KIND_FILE, DIR: KIND_DIR, SYMLINK: KIND_SYMLINK } as const;
export const BASE_FLAGS = { HAS_LEFT, HAS_RIGHT, HAS_HASH, XATTRS_KEPT } as const;

/** BaseTable's side columns as 32-bit words (core/stat-words.ts). */
interface SideWords {
  readonly leftMtimes: Int32Array;
  readonly leftInos: Int32Array;
  readonly leftCtimes: Int32Array;
  readonly rightMtimes: Int32Array;
  readonly rightInos: Int32Array;
  readonly rightCtimes: Int32Array;
}

/**
 * The base in memory: the same Map interface the pure core reads, stored as columns instead of one
 * object graph per path. A loaded base of 100k paths as objects was an entry, two side records and
 * nine BigInts per path (about 600 bytes, all promoted to the old generation while loading, which is
 * where a no-op run spent its garbage-collection time). Here a path costs its key, one slot number and
 * about 77 bytes of typed arrays (the owner and group ids once for all where every row has the same:
 * core/id-column.ts); a record is materialised only when asked for, and dies young.
 *
 * Rows are appended while loading (`append`), and so is a path new to the table that is set later (a
 * run's next records, core/commit.ts; a watch's base gaining paths). Changes to paths it holds (watch
 * cycles advancing the base between commits) go to a small overlay map, `null` marking a path removed.
 * Reads check the overlay first.
 */
export class BaseTable implements Map<RelPath, BaseRecord>, StatCacheColumns {
  /** Each slot's path (sharedPath hands these strings out). Slots are only appended: a path keeps its slot. */
  private readonly paths: RelPath[];
  /**
   * Whether `paths` is strictly increasing as JavaScript compares strings. The index hands its rows over in the
   * order of their key (bytes, and a path's string has one char per byte), so a loaded base is: then a path is
   * found by a search beside the last one found (find), and no map is built. A path appended out of order (a
   * watch's new paths, a commit's next records) ends that, and the map is built.
   */
  private ordered = true;
  /**
   * Path to slot, built once the paths are out of order. A loaded base used to build it at once: 100k inserts cost
   * 40-70 ms of a no-op's critical path and about 4 MB (issue 11), while searching costs a comparison or two per
   * lookup, since a run asks in the walk's order and a directory's names come in the base's order.
   */
  private slotMap: Map<RelPath, number> | null = null;
  /** The slot after the last one found, where the next search starts (find). */
  private cursor = 0;
  private readonly overlay = new Map<RelPath, BaseRecord | null>();
  /** How many loaded slots the overlay hides (removed, or replaced: replaced ones are counted in `added`). */
  private hiddenSlots = 0;
  /** Overlay records for paths without a slot. */
  private added = 0;
  private count = 0;
  private kinds: Uint8Array;
  private flags: Uint8Array;
  private modes: Uint16Array;
  private sizes: Float64Array;
  private mtimes: BigInt64Array;
  private readonly hashes: HashColumn;
  private readonly targets: Map<number, string>;
  /** Owner and group ids (NO_ID: not kept): uniform while every row has one of each, else 8 bytes a path (core/id-column.ts). */
  private uids: Uint32Array;
  private gids: Uint32Array;
  /** The non-empty xattr digests only: most paths have none (flag XATTRS_KEPT with no digest here means ''). */
  private readonly xattrDigests: Map<number, string>;
  private leftMtimes: BigInt64Array;
  private leftInos: BigUint64Array;
  private leftCtimes: BigInt64Array;
  private rightMtimes: BigInt64Array;
  private rightInos: BigUint64Array;
  private rightCtimes: BigInt64Array;
  /** The last record materialised: a scan asks for the same path twice in a row (hash and side record). */
  private lastPath: RelPath | null = null;
  private lastRecord: BaseRecord | undefined = undefined;
  /** The last path slotOf looked up, and its slot. */
  private lastSlotPath: RelPath | null = null;
  private lastSlot: number | undefined = undefined;

  /** Slots the columns hold; they grow (grownCapacity) when a row more arrives (a loaded base is sized exactly, a run's next records are not). */
  private capacity: number;
  /** The side records' 64-bit columns as 32-bit words (core/stat-words.ts), made when first asked; dropped when the columns grow. */
  private sideWords: SideWords | null = null;
  /** Changed since it was loaded (set, delete, clear): its columns no longer say what the index holds. */
  private changed = false;

  /** `columns`: a table read back whole (columnsOf), adopted as it is; else an empty one with room for `capacity` rows. */
  constructor(capacity: number, columns?: BaseColumns) {
    if (columns !== undefined) {
      const c = columns;
      const room = Math.max(c.count, c.room ?? c.count);
      const exact = room === c.count;
      this.capacity = room;
      this.count = c.count;
      // each column over its whole buffer (columnsOf hands out views of `count` slots)
      this.kinds = exact ? c.kinds : new Uint8Array(c.kinds.buffer, c.kinds.byteOffset, room);
      this.flags = exact ? c.flags : new Uint8Array(c.flags.buffer, c.flags.byteOffset, room);
      this.modes = exact ? c.modes : new Uint16Array(c.modes.buffer, c.modes.byteOffset, room);
      this.sizes = exact ? c.sizes : new Float64Array(c.sizes.buffer, c.sizes.byteOffset, room);
      this.mtimes = exact ? c.mtimes : new BigInt64Array(c.mtimes.buffer, c.mtimes.byteOffset, room);
      // a uniform id column (core/id-column.ts) is adopted as it is: it says every slot's id, the new ones' too
      this.uids = exact || c.uids.length === 1 ? c.uids : new Uint32Array(c.uids.buffer, c.uids.byteOffset, room).fill(NO_ID, c.count);
      this.gids = exact || c.gids.length === 1 ? c.gids : new Uint32Array(c.gids.buffer, c.gids.byteOffset, room).fill(NO_ID, c.count);
      this.leftMtimes = exact ? c.leftMtimes : new BigInt64Array(c.leftMtimes.buffer, c.leftMtimes.byteOffset, room);
      this.leftInos = exact ? c.leftInos : new BigUint64Array(c.leftInos.buffer, c.leftInos.byteOffset, room);
      this.leftCtimes = exact ? c.leftCtimes : new BigInt64Array(c.leftCtimes.buffer, c.leftCtimes.byteOffset, room);
      this.rightMtimes = exact ? c.rightMtimes : new BigInt64Array(c.rightMtimes.buffer, c.rightMtimes.byteOffset, room);
      this.rightInos = exact ? c.rightInos : new BigUint64Array(c.rightInos.buffer, c.rightInos.byteOffset, room);
      this.rightCtimes = exact ? c.rightCtimes : new BigInt64Array(c.rightCtimes.buffer, c.rightCtimes.byteOffset, room);
      this.hashes = columns.hashes; // decodeSnapshot's own, as the number columns are
      this.targets = new Map(columns.targets);
      this.xattrDigests = new Map(columns.xattrDigests);
      const paths = columns.paths;
      if (paths.length !== this.count) throw new RangeError('BaseTable: the columns hold another number of paths than rows');
      // a copy in one piece (the caller may hold the columns on): slots are appended to it
      this.paths = paths.slice();
      for (let i = 1; i < paths.length && this.ordered; i++) if (!((paths[i - 1] as RelPath) < (paths[i] as RelPath))) this.ordered = false;
      // out of order: the map, built now so that a path held twice is refused at load, as always
      if (!this.ordered) this.mapOfSlots();
      return;
    }
    this.paths = [];
    this.targets = new Map();
    this.xattrDigests = new Map();
    this.capacity = capacity;
    this.kinds = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.modes = new Uint16Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.mtimes = new BigInt64Array(capacity);
    this.hashes = new HashColumn(capacity);
    this.leftMtimes = new BigInt64Array(capacity);
    this.leftInos = new BigUint64Array(capacity);
    this.leftCtimes = new BigInt64Array(capacity);
    this.rightMtimes = new BigInt64Array(capacity);
    this.rightInos = new BigUint64Array(capacity);
    this.rightCtimes = new BigInt64Array(capacity);
    this.uids = uniformIds();
    this.gids = uniformIds();
  }

  /** Adds a loaded row (the loader never repeats a path: it is the table's primary key). */
  append(path: RelPath, entry: Entry, left: SideRecord | null, right: SideRecord | null): void {
    const i = this.newSlot(path);
    let flags = 0;
    this.mtimes[i] = entry.mtimeNs;
    // every slot written, NO_ID included: a uniform column says the id of every slot not written (core/id-column.ts)
    this.uids = withId(this.uids, i, entry.uid ?? NO_ID, this.capacity);
    this.gids = withId(this.gids, i, entry.gid ?? NO_ID, this.capacity);
    if (entry.kind !== 'symlink' && entry.xattrs !== undefined) {
      flags |= XATTRS_KEPT;
      if (entry.xattrs !== '') this.xattrDigests.set(i, entry.xattrs);
    }
    switch (entry.kind) {
      case 'file':
        this.kinds[i] = KIND_FILE;
        this.sizes[i] = entry.size;
        this.modes[i] = entry.mode;
        if (entry.hash !== null) {
          this.hashes.set(i, entry.hash);
          flags |= HAS_HASH;
        }
        break;
      case 'dir':
        this.kinds[i] = KIND_DIR;
        this.modes[i] = entry.mode;
        break;
      case 'symlink':
        this.kinds[i] = KIND_SYMLINK;
        this.targets.set(i, entry.target);
        break;
    }
    if (left !== null) {
      flags |= HAS_LEFT;
      this.leftMtimes[i] = left.mtimeNs;
      this.leftInos[i] = left.ino;
      this.leftCtimes[i] = left.ctimeNs;
    }
    if (right !== null) {
      flags |= HAS_RIGHT;
      this.rightMtimes[i] = right.mtimeNs;
      this.rightInos[i] = right.ino;
      this.rightCtimes[i] = right.ctimeNs;
    }
    this.flags[i] = flags;
  }

  /**
   * Adds a row straight from the index's columns (store/base-load.ts): no Entry or side records are
   * built for it, so loading a base makes no garbage beyond what SQLite hands over. A kind this version
   * does not know is skipped (no base for the path), as the Entry decoder does.
   */
  appendStored(path: RelPath, row: StoredRow): void {
    const kind = row.kind;
    if (kind !== KIND_FILE && kind !== KIND_DIR && kind !== KIND_SYMLINK) return;
    const i = this.newSlot(path);
    let flags = 0;
    this.kinds[i] = kind;
    this.mtimes[i] = row.mtimeNs ?? 0n;
    this.uids = withId(this.uids, i, row.uid ?? NO_ID, this.capacity);
    this.gids = withId(this.gids, i, row.gid ?? NO_ID, this.capacity);
    if (kind === KIND_SYMLINK) this.targets.set(i, row.target ?? '');
    else {
      this.modes[i] = row.mode ?? 0;
      if (row.xattrs !== null) {
        flags |= XATTRS_KEPT;
        if (row.xattrs !== '') this.xattrDigests.set(i, row.xattrs);
      }
      if (kind === KIND_FILE) {
        this.sizes[i] = row.size ?? 0;
        if (row.hash !== null) {
          this.hashes.set(i, row.hash);
          flags |= HAS_HASH;
        }
      }
    }
    // an inode stored signed lands on the same 64 bits in the unsigned column
    if (row.leftMtimeNs !== null && row.leftIno !== null && row.leftCtimeNs !== null) {
      flags |= HAS_LEFT;
      this.leftMtimes[i] = row.leftMtimeNs;
      this.leftInos[i] = row.leftIno;
      this.leftCtimes[i] = row.leftCtimeNs;
    }
    if (row.rightMtimeNs !== null && row.rightIno !== null && row.rightCtimeNs !== null) {
      flags |= HAS_RIGHT;
      this.rightMtimes[i] = row.rightMtimeNs;
      this.rightInos[i] = row.rightIno;
      this.rightCtimes[i] = row.rightCtimeNs;
    }
    this.flags[i] = flags;
  }

  private newSlot(path: RelPath): number {
    if (this.count >= this.capacity) this.grow(grownCapacity(this.capacity));
    // with the map: one hash lookup, not two (has, then set): a repeated path leaves the size as it was
    const i = this.count;
    this.lastSlotPath = null;
    // strictly after the last path: still in order, and so not held yet
    if (this.ordered && i > 0 && !((this.paths[i - 1] as RelPath) < path)) this.ordered = false;
    if (!this.ordered) {
      const map = this.mapOfSlots();
      map.set(path, i);
      if (map.size === i) throw new RangeError('BaseTable: a path was loaded twice');
    }
    this.paths.push(path);
    this.count++;
    if ((i & 1023) === 1023) checkYoungGeneration();
    return i;
  }

  /** Columns for `capacity` slots, the rows so far copied over (the hash column grows by itself). */
  private grow(capacity: number): void {
    this.capacity = capacity;
    this.sideWords = null;
    this.kinds = grown(this.kinds, new Uint8Array(capacity));
    this.flags = grown(this.flags, new Uint8Array(capacity));
    this.modes = grown(this.modes, new Uint16Array(capacity));
    this.sizes = grown(this.sizes, new Float64Array(capacity));
    this.mtimes = grownBig(this.mtimes, new BigInt64Array(capacity));
    this.uids = grownIds(this.uids, capacity);
    this.gids = grownIds(this.gids, capacity);
    this.leftMtimes = grownBig(this.leftMtimes, new BigInt64Array(capacity));
    this.leftInos = grownBig(this.leftInos, new BigUint64Array(capacity));
    this.leftCtimes = grownBig(this.leftCtimes, new BigInt64Array(capacity));
    this.rightMtimes = grownBig(this.rightMtimes, new BigInt64Array(capacity));
    this.rightInos = grownBig(this.rightInos, new BigUint64Array(capacity));
    this.rightCtimes = grownBig(this.rightCtimes, new BigInt64Array(capacity));
  }

  /** The columns as loaded, or null once the table has changed (they would no longer be what the index holds). */
  columnsOf(): BaseColumns | null {
    if (this.changed) return null;
    return this.columnsNow();
  }

  /**
   * The columns as they are now, every slot, whatever changed since loading: a slot's columns hold its path's record
   * unless the overlay holds the path (visibleSlotOf). Read them again after a change: growing replaces them.
   */
  columnsNow(): BaseColumns {
    const n = this.count;
    return {
      count: n,
      paths: this.paths,
      kinds: this.kinds.subarray(0, n),
      flags: this.flags.subarray(0, n),
      modes: this.modes.subarray(0, n),
      sizes: this.sizes.subarray(0, n),
      mtimes: this.mtimes.subarray(0, n),
      uids: this.uids.subarray(0, n),
      gids: this.gids.subarray(0, n),
      leftMtimes: this.leftMtimes.subarray(0, n),
      leftInos: this.leftInos.subarray(0, n),
      leftCtimes: this.leftCtimes.subarray(0, n),
      rightMtimes: this.rightMtimes.subarray(0, n),
      rightInos: this.rightInos.subarray(0, n),
      rightCtimes: this.rightCtimes.subarray(0, n),
      hashes: this.hashes,
      targets: this.targets,
      xattrDigests: this.xattrDigests,
    };
  }

  /**
   * The rows of this table as loaded with `changes` applied as a commit applies them to the index (removals, then
   * upserts), in the index's order (paths by bytes, as SQLite returns its rows): what loading the rows after that
   * commit gives (store/base-snapshot.ts writes them, so that the run after a commit reads the file too). Read where
   * they are: this table's rows and a small table of the upserts, interleaved. Null once this table has changed
   * since it was loaded, or when it is not in the index's order. `upserted`: the upserts' paths in that order, where
   * the caller has them sorted already.
   */
  rowsWithChanges(
    changes: { readonly upserts: ReadonlyMap<RelPath, BaseRecord>; readonly removals: readonly RelPath[] },
    upserted: readonly RelPath[] = [...changes.upserts.keys()].sort(compareBytes),
  ): SnapshotRows | null {
    const mine = this.columnsOf();
    if (mine === null) return null;
    const added = new BaseTable(upserted.length);
    for (const p of upserted) {
      const rec = changes.upserts.get(p) as BaseRecord;
      added.append(p, rec.entry, rec.left, rec.right);
    }
    const theirs = added.columnsOf() as BaseColumns;
    const gone = new Set<RelPath>(changes.removals);
    for (const p of upserted) gone.add(p);
    // row k is this table's slot order[k] (>= 0), or the upserts' slot -1 - order[k]
    const order = new Int32Array(mine.count + upserted.length);
    let k = 0;
    let j = 0;
    for (let i = 0; i < mine.count; i++) {
      const path = mine.paths[i] as RelPath;
      if (i > 0 && compareBytes(mine.paths[i - 1] as RelPath, path) >= 0) return null; // not in the index's order
      for (; j < upserted.length && compareBytes(upserted[j] as RelPath, path) < 0; j++) order[k++] = -1 - j;
      if (!gone.has(path)) order[k++] = i;
    }
    for (; j < upserted.length; j++) order[k++] = -1 - j;
    return { count: k, source: (r) => ((order[r] as number) >= 0 ? mine : theirs), slot: (r) => ((order[r] as number) >= 0 ? (order[r] as number) : -1 - (order[r] as number)) };
  }

  get size(): number {
    return this.count - this.hiddenSlots + this.added;
  }

  get(path: RelPath): BaseRecord | undefined {
    if (path === this.lastPath) return this.lastRecord;
    const over = this.overlay.size === 0 ? undefined : this.overlay.get(path);
    const rec = over !== undefined ? (over ?? undefined) : this.materialise(path);
    this.lastPath = path;
    this.lastRecord = rec;
    return rec;
  }

  /**
   * core/stat-cache.ts vouchedHash for the record at `path`, read from the columns: a scan asks this of
   * every file, and building a record (an entry, two side records, seven BigInts) for each of them was
   * a no-op run's largest garbage (issue 11). A path the overlay holds takes the general way.
   */
  vouchedHash(path: RelPath, side: Side, stat: StatId): string | null {
    const changed = this.overlaid(path, side);
    if (changed !== null) return vouchedHash(stat, changed[0], changed[1]);
    const i = this.slotOf(path);
    if (i === undefined) return null;
    const flags = this.flags[i] ?? 0;
    if (this.kinds[i] !== KIND_FILE || (flags & HAS_HASH) === 0) return null;
    const mtimes = this.vouchedSide(i, flags, side, stat);
    if (mtimes === null || stat.size !== this.sizes[i] || stat.mtimeNs !== mtimes[i]) return null;
    return this.hashes.get(i) ?? null;
  }

  /** StatCacheColumns.unchangedSlot: vouchedSide's test, read from the columns' words. */
  unchangedSlot(path: RelPath, side: Side, inoWords: Int32Array, ino: number, ctimeWords: Int32Array, ctime: number): number {
    if (this.overlay.size !== 0 && this.overlay.has(path)) return ASK_RECORDS;
    const i = this.slotOf(path);
    if (i === undefined) return -1;
    const left = side === 'left';
    if (((this.flags[i] ?? 0) & (left ? HAS_LEFT : HAS_RIGHT)) === 0) return -1;
    const w = this.wordsOfSides();
    const ctimes = left ? w.leftCtimes : w.rightCtimes;
    // RACY_CTIME is -1: both words all ones
    if ((ctimes[2 * i] === -1 && ctimes[2 * i + 1] === -1) || !sameElement(ctimes, i, ctimeWords, ctime)) return -1;
    return sameElement(left ? w.leftInos : w.rightInos, i, inoWords, ino) ? i : -1;
  }

  /** StatCacheColumns.xattrsAt: vouchedXattrs past its side test. */
  xattrsAt(slot: number): string | undefined {
    if (this.kinds[slot] === KIND_SYMLINK || ((this.flags[slot] ?? 0) & XATTRS_KEPT) === 0) return undefined;
    return this.xattrDigests.get(slot) ?? '';
  }

  /** StatCacheColumns.copyHash: vouchedHash past its side test, the hash copied without a string. */
  copyHash(slot: number, side: Side, size: number, mtimeWords: Int32Array, mtime: number, hashes: HashColumn, at: number): boolean {
    if (this.kinds[slot] !== KIND_FILE || ((this.flags[slot] ?? 0) & HAS_HASH) === 0 || size !== this.sizes[slot]) return false;
    const w = this.wordsOfSides();
    if (!sameElement(side === 'left' ? w.leftMtimes : w.rightMtimes, slot, mtimeWords, mtime)) return false;
    hashes.copyFrom(at, this.hashes, slot);
    return true;
  }

  private wordsOfSides(): SideWords {
    this.sideWords ??= {
      leftMtimes: wordsOf(this.leftMtimes),
      leftInos: wordsOf(this.leftInos),
      leftCtimes: wordsOf(this.leftCtimes),
      rightMtimes: wordsOf(this.rightMtimes),
      rightInos: wordsOf(this.rightInos),
      rightCtimes: wordsOf(this.rightCtimes),
    };
    return this.sideWords;
  }

  /**
   * The slot of a path the table has ever held, hidden or not, as a number for the path (scan/scan-table.ts
   * PathSlots): a slot keeps its path for as long as the table lives.
   */
  slotOfPath(path: RelPath): number | undefined {
    return this.slotOf(path);
  }

  /** Every slot is below this (PathSlots). */
  get pathSlotCount(): number {
    return this.count;
  }

  /** The path of slot `n` (PathSlots), hidden or not: the table's own string for it. */
  pathOfNumber(n: number): RelPath {
    const path = this.paths[n];
    if (path === undefined) throw new RangeError(`slot ${n} of ${this.count}`);
    return path;
  }

  /** The table's own string for a path it has a slot for, else `path` (scan.ts SharedPath). */
  sharedPath(path: RelPath): RelPath {
    const i = this.slotOf(path);
    return i === undefined ? path : (this.paths[i] ?? path);
  }

  /** core/stat-cache.ts vouchedXattrs for the record at `path`, read from the columns (see vouchedHash). */
  vouchedXattrs(path: RelPath, side: Side, stat: StatId): string | undefined {
    const changed = this.overlaid(path, side);
    if (changed !== null) return vouchedXattrs(stat, changed[0], changed[1]);
    const i = this.slotOf(path);
    if (i === undefined) return undefined;
    const flags = this.flags[i] ?? 0;
    if (this.kinds[i] === KIND_SYMLINK || (flags & XATTRS_KEPT) === 0) return undefined;
    return this.vouchedSide(i, flags, side, stat) === null ? undefined : (this.xattrDigests.get(i) ?? '');
  }

  /**
   * core/commit.ts recordsAgreed for the record at `path`, read from the columns (see vouchedHash): a no-op
   * run asks this for every path. Null for a path the overlay holds: the caller asks the record.
   */
  recordAgrees(path: RelPath, l: ScannedEntry, r: ScannedEntry, racyWindowNs: Readonly<Record<Side, bigint>>): boolean | null {
    if (this.overlay.size !== 0 && this.overlay.has(path)) return null;
    const i = this.slotOf(path);
    if (i === undefined) return false;
    const flags = this.flags[i] ?? 0;
    return this.entryAgrees(i, flags, l.entry, r.entry) && this.sideAgrees(i, flags, 'left', l, racyWindowNs.left) && this.sideAgrees(i, flags, 'right', r, racyWindowNs.right);
  }

  /** Slot i's entry equals `e` (size, mode, mtime, hash; a target for a symlink), `e` taking `other`'s hash where it has none. */
  private entryAgrees(i: number, flags: number, e: Entry, other: Entry): boolean {
    const mtimeNs = this.mtimes[i] ?? 0n;
    switch (this.kinds[i]) {
      case KIND_FILE: {
        if (e.kind !== 'file') return false;
        const hash = e.hash === null && other.kind === 'file' ? other.hash : e.hash;
        const sameHash = (flags & HAS_HASH) === 0 ? hash === null : hash !== null && this.hashes.holds(i, hash);
        return e.size === (this.sizes[i] ?? 0) && e.mode === (this.modes[i] ?? 0) && e.mtimeNs === mtimeNs && sameHash;
      }
      case KIND_DIR:
        return e.kind === 'dir' && e.mode === (this.modes[i] ?? 0) && e.mtimeNs === mtimeNs;
      default:
        return e.kind === 'symlink' && e.target === (this.targets.get(i) ?? '') && e.mtimeNs === mtimeNs;
    }
  }

  /** Slot i records `side` as the scan `s` would be recorded (a racy ctime as RACY_CTIME). */
  private sideAgrees(i: number, flags: number, side: Side, s: ScannedEntry, windowNs: bigint): boolean {
    const left = side === 'left';
    if ((flags & (left ? HAS_LEFT : HAS_RIGHT)) === 0) return false;
    const ctimeNs = isRacy(s.stat.ctimeNs, s.observedAtNs, windowNs) ? RACY_CTIME : s.stat.ctimeNs;
    return (
      (left ? this.leftMtimes : this.rightMtimes)[i] === s.stat.mtimeNs &&
      (left ? this.leftInos : this.rightInos)[i] === s.stat.ino &&
      (left ? this.leftCtimes : this.rightCtimes)[i] === ctimeNs
    );
  }

  /** The record at `path` and its `side` record when the overlay holds the path (watch cycles), else null. */
  private overlaid(path: RelPath, side: Side): [BaseRecord | undefined, SideRecord | null | undefined] | null {
    if (this.overlay.size === 0 || !this.overlay.has(path)) return null;
    const rec = this.get(path);
    return [rec, side === 'left' ? rec?.left : rec?.right];
  }

  /** The slot of a path, the last one asked for kept: a scan, a plan and the quiet test ask of one path several times in a row. Slots never move. */
  private slotOf(path: RelPath): number | undefined {
    if (path !== this.lastSlotPath) {
      this.lastSlotPath = path;
      this.lastSlot = this.find(path);
    }
    return this.lastSlot;
  }

  /** The slot of `path`, or undefined: searched for while the paths are in order, else the map. */
  private find(path: RelPath): number | undefined {
    return this.ordered ? this.search(path) : this.mapOfSlots().get(path);
  }

  /**
   * Finds `path` in the ordered paths by galloping from the cursor, then halving: a file's slot is next to its
   * sibling's (one comparison), a directory's next sibling lies past its subtree (twice the log of its size).
   */
  private search(path: RelPath): number | undefined {
    const paths = this.paths;
    const n = this.count;
    if (n === 0) return undefined;
    const hint = Math.min(this.cursor, n - 1);
    const at = paths[hint] as RelPath;
    if (at === path) {
      this.cursor = hint + 1;
      return hint;
    }
    // the slot, if any, lies in [lo, hi]
    let lo: number;
    let hi: number;
    let step = 1;
    if (at < path) {
      lo = hint + 1;
      hi = lo;
      while (hi < n && (paths[hi] as RelPath) < path) {
        lo = hi + 1;
        hi = lo + step;
        step *= 2;
      }
      hi = Math.min(hi, n - 1);
    } else {
      hi = hint - 1;
      lo = hi;
      while (lo >= 0 && (paths[lo] as RelPath) > path) {
        hi = lo - 1;
        lo = hi - step;
        step *= 2;
      }
      lo = Math.max(lo, 0);
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = paths[mid] as RelPath;
      if (p === path) {
        this.cursor = mid + 1;
        return mid;
      }
      if (p < path) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The path-to-slot map, built on first use; a path held twice is refused, as when it was built at load. */
  private mapOfSlots(): Map<RelPath, number> {
    if (this.slotMap !== null) return this.slotMap;
    const map = new Map<RelPath, number>();
    for (let i = 0; i < this.count; i++) {
      map.set(this.paths[i] as RelPath, i);
      if ((i & 1023) === 1023) checkYoungGeneration();
    }
    if (map.size !== this.count) throw new RangeError('BaseTable: a path was loaded twice');
    this.slotMap = map;
    return map;
  }

  /**
   * Slot i's mtime column for `side` when the slot records that side with `stat`'s inode and a ctime
   * equal to `stat`'s and not racy; else null.
   */
  private vouchedSide(i: number, flags: number, side: Side, stat: StatId): BigInt64Array | null {
    const left = side === 'left';
    if ((flags & (left ? HAS_LEFT : HAS_RIGHT)) === 0) return null;
    const ctime = (left ? this.leftCtimes : this.rightCtimes)[i];
    if (ctime === RACY_CTIME || stat.ctimeNs !== ctime || stat.ino !== (left ? this.leftInos : this.rightInos)[i]) return null;
    return left ? this.leftMtimes : this.rightMtimes;
  }

  /** Whether any path's record is held in the overlay rather than in its slot (a watch's cycles, a run's own changes). */
  hasOverlay(): boolean {
    return this.overlay.size !== 0;
  }

  /** The slot whose columns hold the record at `path`, or -1 (none, or the overlay holds the path). */
  visibleSlotOf(path: RelPath): number {
    if (this.overlay.size !== 0 && this.overlay.has(path)) return -1;
    return this.slotOf(path) ?? -1;
  }

  has(path: RelPath): boolean {
    const over = this.overlay.size === 0 ? undefined : this.overlay.get(path);
    if (over !== undefined) return over !== null;
    return this.slotOf(path) !== undefined;
  }

  set(path: RelPath, rec: BaseRecord): this {
    this.forgetLast();
    this.changed = true;
    const over = this.overlay.get(path);
    if (over === undefined && this.slotOf(path) === undefined) {
      // a path new to the table takes a slot, not an overlay object: a run's next records (core/commit.ts)
      // and a watch's base stay columns however many paths they gain
      this.append(path, rec.entry, rec.left, rec.right);
      return this;
    }
    if (over === undefined) {
      this.hiddenSlots++; // the path has a slot (find, above)
      this.added++;
    } else if (over === null) {
      this.added++;
    }
    this.overlay.set(path, rec);
    return this;
  }

  delete(path: RelPath): boolean {
    this.forgetLast();
    this.changed = true;
    const over = this.overlay.get(path);
    const inSlots = this.slotOf(path) !== undefined;
    if (over === null) return false;
    if (over === undefined) {
      if (!inSlots) return false;
      this.hiddenSlots++;
      this.overlay.set(path, null);
      return true;
    }
    this.added--;
    // a replaced slot stays hidden (the tombstone); an added path simply leaves the overlay
    if (inSlots) this.overlay.set(path, null);
    else this.overlay.delete(path);
    return true;
  }

  clear(): void {
    this.forgetLast();
    this.changed = true;
    for (let i = 0; i < this.count; i++) this.overlay.set(this.paths[i] as RelPath, null);
    for (const [p, rec] of this.overlay) if (rec !== null && this.slotOf(p) === undefined) this.overlay.delete(p);
    this.hiddenSlots = this.count;
    this.added = 0;
  }

  /**
   * Paths handed out by the iterators so far (entries, values and forEach go through keys): a watch
   * cycle reports how many it read (TSYNC_TIMINGS), to show it did not pass over the whole base.
   */
  visited = 0;

  *keys(): MapIterator<RelPath> {
    // in slot order: the order the map of slots was filled in when there was always one
    if (this.overlay.size === 0) {
      for (let i = 0; i < this.count; i++) {
        this.visited++;
        yield this.paths[i] as RelPath;
      }
      return;
    }
    for (let i = 0; i < this.count; i++) {
      const p = this.paths[i] as RelPath;
      if (this.overlay.has(p)) continue;
      this.visited++;
      yield p;
    }
    for (const [p, rec] of this.overlay) {
      if (rec === null) continue;
      this.visited++;
      yield p;
    }
  }

  *entries(): MapIterator<[RelPath, BaseRecord]> {
    for (const p of this.keys()) {
      const rec = this.get(p);
      if (rec !== undefined) yield [p, rec];
    }
  }

  *values(): MapIterator<BaseRecord> {
    for (const [, rec] of this.entries()) yield rec;
  }

  [Symbol.iterator](): MapIterator<[RelPath, BaseRecord]> {
    return this.entries();
  }

  forEach(fn: (value: BaseRecord, key: RelPath, map: Map<RelPath, BaseRecord>) => void, thisArg?: unknown): void {
    for (const [p, rec] of this.entries()) fn.call(thisArg, rec, p, this);
  }

  get [Symbol.toStringTag](): string {
    return 'BaseTable';
  }

  private forgetLast(): void {
    this.lastPath = null;
    this.lastRecord = undefined;
  }

  private materialise(path: RelPath): BaseRecord | undefined {
    const i = this.slotOf(path);
    if (i === undefined) return undefined;
    const flags = this.flags[i] ?? 0;
    const left: SideRecord | null = (flags & HAS_LEFT) === 0 ? null : { mtimeNs: this.leftMtimes[i] ?? 0n, ino: this.leftInos[i] ?? 0n, ctimeNs: this.leftCtimes[i] ?? 0n };
    const right: SideRecord | null = (flags & HAS_RIGHT) === 0 ? null : { mtimeNs: this.rightMtimes[i] ?? 0n, ino: this.rightInos[i] ?? 0n, ctimeNs: this.rightCtimes[i] ?? 0n };
    return { entry: this.entryAt(i, flags), left, right };
  }

  /** Built field by field: spreading the optional parts in cost an object per part and a generic copy per record. */
  private entryAt(i: number, flags: number): Entry {
    const mtimeNs = this.mtimes[i] ?? 0n;
    let e: Mutable<Entry>;
    switch (this.kinds[i]) {
      case KIND_FILE:
        e = { kind: 'file', size: columnNumber(this.sizes[i] ?? 0), mode: this.modes[i] ?? 0, mtimeNs, hash: (flags & HAS_HASH) === 0 ? null : (this.hashes.get(i) ?? null) };
        break;
      case KIND_DIR:
        e = { kind: 'dir', mode: this.modes[i] ?? 0, mtimeNs };
        break;
      default:
        e = { kind: 'symlink', target: this.targets.get(i) ?? '', mtimeNs };
    }
    const uid = idOfSlot(this.uids, i);
    const gid = idOfSlot(this.gids, i);
    if (uid !== NO_ID) e.uid = uid;
    if (gid !== NO_ID) e.gid = gid;
    if ((flags & XATTRS_KEPT) !== 0 && e.kind !== 'symlink') e.xattrs = this.xattrDigests.get(i) ?? '';
    return e;
  }
}

/** Below this many slots a full table doubles; at and above it, it grows by an eighth. */
export const GENTLE_GROWTH_FROM = 65_536;

/**
 * The slots a full table grows to. A loaded base is sized exactly, and a watch adds its first new path to
 * it: doubling a 100k-row table there copied about 9 MB of columns (about 40 ms of one cycle) and kept
 * 100k empty slots for a handful of new paths. An eighth more keeps appends amortised O(1) (each slot is
 * copied about eight times over a long run of appends) at a fraction of the memory.
 */
export function grownCapacity(capacity: number): number {
  return capacity < GENTLE_GROWTH_FROM ? Math.max(16, capacity * 2) : capacity + (capacity >> 3);
}

function grown<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

function grownBig<T extends BigInt64Array | BigUint64Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

/** The index's order of paths: by their bytes (a binary string's chars are its bytes), a prefix first. */
export function compareBytes(a: RelPath, b: RelPath): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
