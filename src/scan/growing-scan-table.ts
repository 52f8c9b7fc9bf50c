import { DigestColumn } from '../core/digest-column.js';
import { HashColumn } from '../core/hash-column.js';
import type { RelPath, ScannedEntry } from '../core/types.js';
import { checkYoungGeneration } from '../runtime/young-generation.js';
import { bytesOfPaths, PathBytes } from './path-bytes.js';
import { grownCounts, setCount } from '../core/count-column.js';
import { grownIds, withId } from '../core/id-column.js';
import { appendObserved } from '../core/observed-runs.js';
import { copyElement, wordsOf } from '../core/stat-words.js';
import { allocColumns, KIND_DIR, KIND_FILE, type PathSlots, type ScanColumns, ScanTable, writeColumns } from './scan-table.js';

/** What a growing table settles per slot beyond the columns, filled as it goes (ScanExtras, mutable). */
interface GrowingExtras {
  readonly hashes: HashColumn;
  readonly xattrs: DigestColumn;
  readonly targets: Map<number, string>;
  readonly devs: Map<number, bigint>;
}

/**
 * A file or directory as a native listing gave it (scan.ts), for appendListed: one object a walk fills for each
 * entry in turn, so that an entry costs no object of its own. Its 64-bit numbers stay in the listing's column,
 * read as words (core/stat-words.ts): elements `ino`, `mtime` and `ctime` of `words`.
 */
export interface ListedStat {
  isDir: boolean;
  /** The permission bits (st_mode & 0o7777). */
  mode: number;
  size: number;
  nlink: number;
  blocks: number;
  /** NO_ID where not kept. */
  uid: number;
  gid: number;
  words: Int32Array;
  ino: number;
  mtime: number;
  ctime: number;
  observedAtNs: bigint;
  /** A file with other names' device (hard links are grouped by it), else undefined. */
  dev: bigint | undefined;
}

/** The table's 64-bit columns as words, for the columns they were made for. */
interface ColumnWords {
  readonly of: ScanColumns;
  readonly mtimeNs: Int32Array;
  readonly ctimeNs: Int32Array;
  readonly ino: Int32Array;
}

/** Slots to start with when the walk has no estimate; the columns double when full. */
const INITIAL_CAPACITY = 1024;

/**
 * Slots for a walk that expects about `expected` entries (the index's path count): that many and a little room,
 * so that an unchanged tree of 100k entries fills 105k slots instead of doubling its way to 131k (7 copies, and
 * 1.8 MB of columns left empty on each side, issue 11: peak RSS). A tree that grew past it doubles from there.
 */
export function initialCapacity(expected: number | undefined): number {
  if (expected === undefined || !(expected > 0)) return INITIAL_CAPACITY;
  return Math.max(INITIAL_CAPACITY, Math.ceil(expected * 1.03) + 256);
}

/**
 * A walk's result, written into columns as it is found (issue 11, memory). A walk kept every entry as
 * three objects and three BigInts (about 300 bytes a path, all promoted to the old generation, and two
 * sides of them alive at once while the plan was made); here a path costs about 60 bytes of typed arrays
 * (scan-table.ts ScanTable), and the objects the walk built for an entry die young. Reading is a
 * ScanTable's: an entry is built when asked for.
 */
export class GrowingScanTable extends ScanTable {
  private used = 0;
  private readonly growing: GrowingExtras;
  /** Only appended to so far: slot i is the i-th path in Map order (inSlotOrder). */
  private appendOnly = true;
  /**
   * The paths appended, in slot order, while the table has no map of them yet (`keyed: false`): a scan worker's
   * walk hands its paths over in order and never looks one up, and the map cost it a hash and an entry per path
   * (about 100 ms of its CPU at 100k paths, and memory alive while the main thread peaks). Kept as bytes, not
   * strings (path-bytes.ts says why). Any lookup builds the map.
   */
  private unmapped: PathBytes | null;
  /** The columns' 64-bit ones as words (appendListed), remade when the columns grow. */
  private words: ColumnWords | null = null;

  constructor(options: { readonly keyed?: boolean; readonly expectedEntries?: number; readonly slots?: PathSlots } = {}) {
    const capacity = initialCapacity(options.expectedEntries);
    // sized as the columns are, so that they do not grow their way up; a worker's table (no map) sets no hashes
    const growing: GrowingExtras = { hashes: new HashColumn(options.keyed === false ? 0 : capacity), xattrs: new DigestColumn(capacity), targets: new Map(), devs: new Map() };
    super(allocColumns(capacity), growing, [], options.keyed === false ? undefined : options.slots, capacity);
    this.growing = growing;
    this.unmapped = options.keyed === false ? new PathBytes(options.expectedEntries) : null;
  }

  protected override pathMap(): Map<RelPath, number | ScannedEntry> {
    const pending = this.unmapped;
    if (pending !== null) {
      this.unmapped = null;
      const paths = pending.toPaths();
      for (let i = 0; i < paths.length; i++) this.bindSlot(paths[i] as RelPath, i);
    }
    return super.pathMap();
  }

  /** Adds a path the table does not hold yet (a walk finds each path once). */
  append(path: RelPath, s: ScannedEntry): void {
    const i = this.used;
    if (i === this.c.kinds.length) this.c = grownColumns(this.c, i * 2);
    writeColumns(this.c, i, s);
    const e = s.entry;
    // a table without a map is a worker's, whose walk has no index to vouch with: its hashes are all null, which
    // an absent slot says as well (ScannedRow reads `?? null`), without an array slot per file
    if (e.kind === 'file' && (e.hash !== null || this.unmapped === null)) this.growing.hashes.set(i, e.hash);
    if (e.kind === 'symlink') this.growing.targets.set(i, e.target);
    else if (e.xattrs !== undefined) this.growing.xattrs.set(i, e.xattrs);
    if (s.stat.dev !== undefined) this.growing.devs.set(i, s.stat.dev);
    this.used = i + 1;
    if (this.unmapped !== null) this.unmapped.push(path);
    else this.bindSlot(path, i);
    if ((i & 1023) === 1023) checkYoungGeneration();
  }

  /**
   * Adds a file or directory the table does not hold yet from its listed stat: the same slot append writes for the
   * entry scan.ts would build of it, with a hash of null for a file (hashColumn, to copy one in) and `xattrs` as
   * that entry's digest. Returns the slot.
   */
  appendListed(path: RelPath, s: ListedStat, xattrs: string | undefined): number {
    const i = this.used;
    if (i === this.c.kinds.length) this.c = grownColumns(this.c, i * 2);
    const c = this.c;
    let w = this.words;
    if (w === null || w.of !== c) {
      w = { of: c, mtimeNs: wordsOf(c.mtimeNs), ctimeNs: wordsOf(c.ctimeNs), ino: wordsOf(c.ino) };
      this.words = w;
    }
    c.kinds[i] = s.isDir ? KIND_DIR : KIND_FILE;
    c.sizes[i] = s.size;
    copyElement(w.mtimeNs, i, s.words, s.mtime);
    copyElement(w.ctimeNs, i, s.words, s.ctime);
    copyElement(w.ino, i, s.words, s.ino);
    appendObserved(c.observed, i, s.observedAtNs);
    setCount(c.nlinks, i, s.nlink);
    setCount(c.blocks, i, s.blocks);
    c.modes[i] = s.mode;
    c.uids = withId(c.uids, i, s.uid, c.kinds.length);
    c.gids = withId(c.gids, i, s.gid, c.kinds.length);
    // as append: a worker's table (no map) leaves its files' null hashes unset
    if (!s.isDir && this.unmapped === null) this.growing.hashes.set(i, null);
    if (xattrs !== undefined) this.growing.xattrs.set(i, xattrs);
    if (s.dev !== undefined) this.growing.devs.set(i, s.dev);
    this.used = i + 1;
    if (this.unmapped !== null) this.unmapped.push(path);
    else this.bindSlot(path, i);
    if ((i & 1023) === 1023) checkYoungGeneration();
    return i;
  }

  /** The files' hashes by slot, for a walk to copy a vouched hash into a slot it has just appended (appendListed). */
  get hashColumn(): HashColumn {
    return this.growing.hashes;
  }

  /** Records the xattr digest of a slot appended without one (read after the walk: remote/remote-endpoint.ts). */
  settleXattrs(slot: number, digest: string): void {
    if (!(slot >= 0 && slot < this.used)) throw new RangeError(`slot ${slot} of ${this.used}`);
    this.growing.xattrs.set(slot, digest);
  }

  override set(path: RelPath, value: ScannedEntry): this {
    this.appendOnly = false;
    return super.set(path, value);
  }

  override delete(path: RelPath): boolean {
    this.appendOnly = false;
    return super.delete(path);
  }

  override clear(): void {
    this.appendOnly = false;
    super.clear();
  }

  /**
   * The table as it stands, for a scan worker to hand over without building an entry per path (scan-codec.ts
   * encodeScan): its columns as they are (longer than `count` by the room left to grow) and what the extras hold,
   * with the paths in slot order. Null once anything but an append changed it: then slots and Map order differ.
   */
  inSlotOrder(): InSlotOrder | null {
    if (!this.appendOnly) return null;
    return {
      count: this.used,
      columns: this.c,
      pathBytes: this.unmapped?.take() ?? bytesOfPaths(this.keys()),
      hashes: this.growing.hashes,
      xattrs: this.growing.xattrs,
      targets: this.growing.targets,
      devs: this.growing.devs,
    };
  }
}

/** GrowingScanTable.inSlotOrder: slot i of the columns and extras is paths[i], for i below count. */
export interface InSlotOrder {
  readonly count: number;
  readonly columns: ScanColumns;
  /** The paths in slot order, each followed by a NUL (path-bytes.ts). */
  readonly pathBytes: Uint8Array;
  readonly hashes: HashColumn;
  readonly xattrs: DigestColumn;
  /** By slot, in ascending slot order (each set as its slot was appended). */
  readonly targets: ReadonlyMap<number, string>;
  readonly devs: ReadonlyMap<number, bigint>;
}

function grownColumns(c: ScanColumns, capacity: number): ScanColumns {
  const kinds = new Uint8Array(capacity);
  kinds.set(c.kinds);
  const sizes = new Float64Array(capacity);
  sizes.set(c.sizes);
  const mtimeNs = new BigInt64Array(capacity);
  mtimeNs.set(c.mtimeNs);
  const ctimeNs = new BigInt64Array(capacity);
  ctimeNs.set(c.ctimeNs);
  const ino = new BigUint64Array(capacity);
  ino.set(c.ino);
  const modes = new Uint16Array(capacity);
  modes.set(c.modes);
  return {
    kinds,
    sizes,
    mtimeNs,
    ctimeNs,
    ino,
    modes,
    // the observed times' runs grow by themselves: carried over as they are
    observed: c.observed,
    nlinks: grownCounts(c.nlinks, capacity),
    blocks: grownCounts(c.blocks, capacity),
    uids: grownIds(c.uids, capacity),
    gids: grownIds(c.gids, capacity),
  };
}
