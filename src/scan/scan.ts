import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';
import { baseName, compareRel, displayPath, isAtOrBelow, isOwnName, joinRel, parentOf } from '../core/paths.js';
import { vouchedHash, vouchedXattrs } from '../core/stat-cache.js';
import type { AbsPath, Base, Entry, KeptMeta, Problem, RelPath, ScannedEntry, Side, SideRecord, Snapshot, StatId } from '../core/types.js';
import { RootError } from '../errors.js';
import { getSystemErrorName } from 'node:util';
import { NUMBERS_PER_NAME, nativeLister, nativeNoXattrs, type NativeListing, type NoXattrs, TIMES_PER_NAME, XATTR_LIST_SIZE } from '../fs/native-listing.js';
import { errCode, kindOfMode, nowNs, statIdFrom, statIdOf } from '../fs/stat.js';
import { isTempName } from '../fs/temp-name.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import { StaleTargetError, UnsafePathError } from '../engine/guards.js';
import type { PathFilter } from '../ignore/path-filter.js';
import { enterDirOf, restoreWorkDir } from '../fs/work-dir.js';
import { bareEntryPath, entryPathOf, textPrefixOf, type EntryPath, type EntryPathOf } from './entry-path.js';
import { CHECKED_PATH_MIN_NAMES, checkedDirPath } from './checked-dir-path.js';
import { GrowingScanTable, type ListedStat } from './growing-scan-table.js';
import { NO_ID, type PathSlots } from './scan-table.js';
import { ASK_RECORDS, type StatCacheColumns, wordsOf } from '../core/stat-words.js';
import { digestIfNone, digestOfNone, metaReaderOf, NO_META, type MetaReader, type VouchXattrs } from './read-meta.js';
import type { ScannedXattrValues } from './xattr-values.js';
import { monotonicMs } from '../runtime/clock.js';
import { type ListAhead, listAheadFor } from './list-ahead.js';

export interface ScanOptions {
  readonly root: AbsPath;
  readonly side: Side;
  /** The index: its stat cache vouches for unchanged files so they are not re-read. */
  readonly base: Base;
  /** How this side's records are found in the base. */
  readonly sideRecord: (path: RelPath) => SideRecord | null | undefined;
  /** --checksum: trust no cached hash. */
  readonly checksum: boolean;
  /** --exclude/--include and .tsyncignore: excluded paths are not part of the scan at all. */
  readonly filter?: PathFilter;
  /** Owner, group and xattrs to record (default: none). */
  readonly keep?: KeptMeta;
}

export interface ScanResult extends Snapshot {
  readonly entries: Map<RelPath, ScannedEntry>;
  readonly problems: Problem[];
  /** Temp files left by an earlier run that was killed: sync/prepare.ts removes them. */
  readonly leftoverTemps: readonly RelPath[];
  /** A remote side's ignore files, per directory ('' for the root), read but not applied (ignore/filter-scan.ts). */
  readonly rulesRead?: ReadonlyMap<string, string>;
  /** How many directories' listings the walk took from the addon's reader (scan/list-ahead.ts; for TSYNC_TIMINGS). */
  readonly listedAhead?: number;
}

/**
 * The content hash the stat cache vouches for, or null (read it). The walk takes it as a step of its
 * own: a scan in a worker thread (scan-worker.ts) has no base at hand and leaves every hash null, and
 * the main thread vouches when it decodes the result (scan-codec.ts).
 */
export type VouchHash = (path: RelPath, stat: StatId) => string | null;

/**
 * The index's own string for a path it holds, else `path`. A scan that keys its entries with it keeps one
 * string per path for the index and both sides' scans instead of three (issue 11, memory: about 40 bytes a
 * path each), and the string the walk made dies young.
 */
export type SharedPath = (path: RelPath) => RelPath;

/** What a walk needs: a root, its side, the filter, and the optional hash-vouching step. */
export interface WalkOptions {
  readonly root: AbsPath;
  readonly side: Side;
  readonly filter?: PathFilter;
  /** null: every file's hash is left null. */
  readonly vouch: VouchHash | null;
  /** Owner, group and xattrs to record (default: none). */
  readonly keep?: KeptMeta;
  /** The xattr digest the index vouches for (see vouchedXattrs); absent: every entry's are read. */
  readonly vouchXattrs?: VouchXattrs;
  /**
   * A remote side's walk leaves xattrs out, and those the index does not vouch for are asked for after it
   * (remote/remote-endpoint.ts). Set when the index holds rows to vouch with: a first sync reads them in the walk.
   */
  readonly xattrsAfterWalk?: boolean;
  /** The string a path already has in memory (the index's key), or `path` itself: see SharedPath. */
  readonly sharedPath?: SharedPath;
  /** Where the xattr values read are kept for this run's copies (xattr-values.ts); absent: not kept. */
  readonly xattrValues?: ScannedXattrValues;
  /**
   * Hand the thread back about this often (walkTreeInSlices): for a walk that runs beside other work on this
   * thread (a remote pair's local walk while ssh connects; an agent's walk, which still answers keepalives).
   * Absent: one synchronous walk.
   */
  readonly sliceMs?: number;
  /**
   * False: the walk's table maps its paths only when one is looked up (growing-scan-table.ts), for a walk whose
   * result is handed over in order (a scan worker's). Default true.
   */
  readonly keyed?: boolean;
  /** About how many entries the walk will find (the index's path count), to size its table (growing-scan-table.ts); absent: unknown. */
  readonly expectedEntries?: number;
  /** The index's numbers for paths, which the walk's table keys its slots by (scan-table.ts PathSlots); absent: a map of its own. */
  readonly pathSlots?: PathSlots;
  /**
   * The index's stat cache read from its columns (core/stat-words.ts): it must answer as `vouch` (unless that is null)
   * and `vouchXattrs` do, and the walk then asks it instead where it can (DirectWrites). Absent: the walk asks them.
   */
  readonly statCache?: StatCacheColumns;
}

/** The stat cache's vouching step for a side: none with --checksum (trust no cached hash). */
export function vouchFromBase(base: Base, sideRecord: ScanOptions['sideRecord'], checksum: boolean): VouchHash | null {
  if (checksum) return null;
  return (path, stat) => vouchedHash(stat, base.get(path), sideRecord(path));
}

/** A full scan of one root, vouching for unchanged files' hashes from the index (see walkTree). */
export function scanTree(opts: ScanOptions): ScanResult {
  return walkTree(walkOptionsOf(opts));
}

/**
 * Walks a root without following symlinks and returns what is there. Synchronous on purpose: a scan is
 * one lstat after another, and the synchronous calls avoid a thread-pool round trip per entry (measured
 * faster than fs.promises for trees of small files). Iterative, so a 1,000-level tree needs no deep stack.
 */
export function walkTree(opts: WalkOptions): ScanResult {
  const walk = new TableWalk(opts);
  try {
    walk.step(Number.POSITIVE_INFINITY);
  } finally {
    walk.end();
  }
  return walk.result;
}

/** walkTree's state between slices: the sink it fills, the directories still to walk, the open anchors. */
class RootWalk {
  private readonly anchors: DirAnchors;
  protected readonly ahead: ListAhead | null;
  private readonly stack: (RelPath | null)[] = [null];

  constructor(
    private readonly opts: WalkOptions,
    private readonly sink: WalkSink,
  ) {
    this.anchors = new DirAnchors(opts.root);
    this.ahead = listAheadFor(this.anchors, probesXattrs(opts));
  }

  /** Walks until `deadline` (monotonicMs()) or the end; true while something is left to walk. */
  step(deadline: number): boolean {
    walkSlice(this.opts, this.anchors, this.stack, this.sink, deadline, this.ahead);
    return this.stack.length > 0;
  }

  end(): void {
    // the listings still queued first: their descriptors must stay open until the reader is done with them
    this.ahead?.end();
    this.anchors.closeAll();
    this.opts.filter?.closeDirs();
  }
}

/** A whole root's walk into a table of its own, kept in columns as entries are found (growing-scan-table.ts says why). */
class TableWalk extends RootWalk {
  private readonly found: ScanResult;

  constructor(opts: WalkOptions) {
    const entries = new GrowingScanTable({
      keyed: opts.keyed !== false,
      ...(opts.expectedEntries === undefined ? {} : { expectedEntries: opts.expectedEntries }),
      ...(opts.pathSlots === undefined ? {} : { slots: opts.pathSlots }),
    });
    const meta = metaReaderOf(opts.keep, opts.vouchXattrs, opts.xattrValues);
    const sink: WalkSink = { entries, table: entries, add: (path, scanned) => entries.append(path, scanned), problems: [], leftoverTemps: [], meta };
    super(opts, sink);
    this.found = { side: opts.side, entries, problems: sink.problems, leftoverTemps: sink.leftoverTemps };
  }

  get result(): ScanResult {
    return { ...this.found, listedAhead: this.ahead?.listingsTaken ?? 0 };
  }
}

function walkOptionsOf(opts: ScanOptions): WalkOptions {
  const vouchXattrs: VouchXattrs = (path, stat) => vouchedXattrs(stat, opts.base.get(path), opts.sideRecord(path));
  return { root: opts.root, side: opts.side, filter: opts.filter, vouch: vouchFromBase(opts.base, opts.sideRecord, opts.checksum), keep: opts.keep, vouchXattrs };
}

interface WalkSink {
  /**
   * What the walk found, or at least the directories found and not yet listed (a streamed walk's): the walk looks a
   * directory up here when it lists it, and deletes it when it vanished first.
   */
  readonly entries: Map<RelPath, ScannedEntry>;
  /** Puts a path found by the walk into `entries` (a path the walk has not found before). */
  readonly add: (path: RelPath, scanned: ScannedEntry) => void;
  readonly problems: Problem[];
  readonly leftoverTemps: RelPath[];
  readonly meta: MetaReader;
  /**
   * Told of each entry once it is sure to stay in `entries` (walkTreeStreamed): a file, link or special file as it
   * is found; a directory once it has been listed (or found unreadable), since one that vanished before its
   * listing is taken out of the result again.
   */
  readonly onFinal?: (path: RelPath, scanned: ScannedEntry) => void;
  /** The walk's own table (`entries`, filled only by `add`): a native listing may write into its columns directly (DirectWrites). */
  readonly table?: GrowingScanTable;
}

/**
 * Walks the directory `start` (null: the root) and everything below it into `sink`. Each directory is
 * listed through a descriptor opened from its parent's (dir-anchors.ts): a directory swapped for a
 * symlink while the walk runs is never followed, and depth costs nothing per call.
 */
function walkInto(opts: WalkOptions, anchors: DirAnchors, start: RelPath | null, sink: WalkSink): void {
  const ahead = listAheadFor(anchors, probesXattrs(opts));
  try {
    walkSlice(opts, anchors, [start], sink, Number.POSITIVE_INFINITY, ahead);
  } finally {
    ahead?.end();
  }
}

/**
 * walkTree, handing the thread back every `sliceMs` or so: a walk of 100,000 entries holds the thread for about
 * a second, and a remote pair's local walk runs while ssh connects and the far side scans (sync/pair.ts), whose
 * replies and requests this thread must read and send in between. Same result as walkTree.
 */
export async function walkTreeInSlices(opts: WalkOptions, sliceMs: number): Promise<ScanResult> {
  const walk = new TableWalk(opts);
  try {
    while (walk.step(monotonicMs() + sliceMs)) await setImmediate();
  } finally {
    walk.end();
  }
  return walk.result;
}

/** How a streamed walk ends (walkTreeStreamed): what only its end knows. Its entries were all handed on. */
export interface StreamedWalkEnd {
  readonly side: Side;
  /** How many entries were handed on. */
  readonly count: number;
  readonly problems: readonly Problem[];
  readonly leftoverTemps: readonly RelPath[];
}

/**
 * walkTreeInSlices, handing on after each slice the entries that slice made final (WalkSink.onFinal), so that they
 * can travel while the walk goes on (an agent's scan, remote/agent-serve.ts). The walk keeps none of them: its
 * reader has each one once, so only the directories found but not yet listed are held (one that vanishes before
 * its listing is never handed on). An agent kept the whole tree in a table it never read again, and building it
 * (a map entry and columns per path) cost about an eighth of its CPU and 18 MB of its peak RSS at 100k entries
 * (issue 15). The first slice runs at the first next(): a root that cannot be walked fails there. A caller that
 * stops early (return()) ends the walk.
 */
export async function* walkTreeStreamed(opts: WalkOptions, sliceMs: number): AsyncGenerator<[RelPath, ScannedEntry][], StreamedWalkEnd> {
  let final: [RelPath, ScannedEntry][] = [];
  let count = 0;
  const unlisted = new Map<RelPath, ScannedEntry>();
  const sink: WalkSink = {
    entries: unlisted,
    add: (path, scanned) => {
      if (scanned.entry.kind === 'dir') unlisted.set(path, scanned);
    },
    problems: [],
    leftoverTemps: [],
    meta: metaReaderOf(opts.keep, opts.vouchXattrs, opts.xattrValues),
    onFinal: (path, scanned) => {
      unlisted.delete(path);
      count++;
      final.push([path, scanned]);
    },
  };
  const walk = new RootWalk(opts, sink);
  try {
    for (;;) {
      const more = walk.step(monotonicMs() + sliceMs);
      if (final.length > 0) {
        const ready = final;
        final = [];
        yield ready;
      }
      if (!more) break;
      await setImmediate();
    }
  } finally {
    walk.end();
  }
  return { side: opts.side, count, problems: sink.problems, leftoverTemps: sink.leftoverTemps };
}

/**
 * Walks the directories on `stack` and those found below them, until the stack is empty or `deadline`
 * (monotonicMs()) has passed; what is left to walk stays on the stack. Each directory's entries are
 * looked up by bare name from inside it where that can be done (fs/work-dir.ts says why); the working
 * directory is put back when the slice ends, so whatever runs between slices sees the one the user chose.
 */
function walkSlice(opts: WalkOptions, anchors: DirAnchors, stack: (RelPath | null)[], sink: WalkSink, deadline: number, ahead: ListAhead | null): void {
  try {
    walkDirs(opts, anchors, stack, sink, deadline, ahead);
  } finally {
    restoreWorkDir();
  }
}

/**
 * The walk itself. `ahead`: where the addon reads listings ahead (list-ahead.ts), the directory taken off the stack
 * may have been read already, and the next few on the stack are queued before this one is listed.
 */
function walkDirs(opts: WalkOptions, anchors: DirAnchors, stack: (RelPath | null)[], sink: WalkSink, deadline: number, ahead: ListAhead | null): void {
  const lister = nativeLister();
  // one directory at least per slice, whatever the time: a slice that walked nothing would never end the walk
  for (let walked = 0; stack.length > 0 && (walked === 0 || monotonicMs() < deadline); walked++) {
    const dir = stack.pop() ?? null;
    const early = ahead?.take(dir);
    let here: Place;
    try {
      here = early?.place ?? anchors.dir(dir);
    } catch (e) {
      if (dir === null) throw rootUnlistable(opts.root, e);
      if (e instanceof StaleTargetError || e instanceof UnsafePathError)
        sink.entries.delete(dir); // vanished or replaced while we walked
      else {
        sink.problems.push(problem(opts.side, dir, 'unreadable', `cannot list directory (${errCode(e)})`));
        finalDir(sink, dir);
      }
      continue;
    }
    try {
      ahead?.fill(stack);
      let names: string[];
      let native: NativeListing | null = null;
      // before the listing, so no earlier than any of its lstats (the stat cache's racy check, core/stat-cache.ts)
      const listedAtNs = early?.listedAtNs ?? nowNs();
      try {
        if (early !== undefined) {
          native = early.listing();
          names = native.names;
        } else if (lister !== null && here.dirFd !== undefined) {
          native = lister(here.dirFd, probesXattrs(opts));
          names = native.names;
        }
        // latin1: each name as a binary string (byte-exact, see core/types.ts) without a Buffer per name
        else names = readdirSync(here.fdPath, { encoding: 'latin1' });
      } catch (e) {
        if (dir === null) throw rootUnlistable(opts.root, e);
        const code = errCode(e);
        if (code === 'ENOENT' || code === 'ENOTDIR') sink.entries.delete(dir);
        else {
          sink.problems.push(problem(opts.side, dir, 'unreadable', `cannot list directory (${code})`));
          finalDir(sink, dir);
        }
        continue;
      }
      if (dir !== null) finalDir(sink, dir);
      opts.filter?.listed(opts.root, dir, names);
      if (native !== null) addNativeListing(opts, dir, here.fdPath, here.dirFd, native, listedAtNs, sink, stack);
      else addListed(sink, stack, scanListed(opts, dir, here.fdPath, names, sink.meta));
    } finally {
      here.release();
    }
  }
}

/**
 * The root itself could not be opened or listed (EIO, EACCES after the root checks passed, the root swapped or
 * gone meanwhile): nothing below it can be known, so the run stops before it plans anything, with the one-line
 * error and exit code of an unusable root (2), not as an internal error.
 */
function rootUnlistable(root: AbsPath, e: unknown): RootError {
  const why = e instanceof StaleTargetError || e instanceof UnsafePathError ? e.message : errCode(e);
  return new RootError(`cannot list ${root} (${why})`);
}

/** One directory's entries, scanned: what the walk then adds to its sink. */
interface Listed {
  readonly paths: RelPath[];
  readonly scanned: ScannedEntry[];
  readonly problems: Problem[];
  readonly leftoverTemps: RelPath[];
}

/**
 * Scans the entries `names` of `dir`, whose descriptor path is `dirFdPath`, looking each up the cheapest safe way:
 * by bare name from inside the directory on the main thread (fs/work-dir.ts); elsewhere by the directory's
 * absolute path while it leads to the descriptor's directory (checked-dir-path.ts), else through the descriptor.
 */
function scanListed(opts: WalkOptions, dir: RelPath | null, dirFdPath: Buffer, names: readonly string[], meta: MetaReader): Listed {
  // synchronous from here to the end of the names: the bare names mean this directory
  if (enterDirOf(dirFdPath)) return scanNames(opts, dir, names, meta, bareEntryPath);
  if (names.length >= CHECKED_PATH_MIN_NAMES) {
    const checked = checkedDirPath(opts.root, dir, dirFdPath);
    if (checked !== null) {
      const listed = scanNames(opts, dir, names, meta, (name) => entryPathOf(checked.path, checked.text, name));
      if (checked.stillSame()) return listed;
    }
  }
  const prefix = textPrefixOf(dirFdPath);
  return scanNames(opts, dir, names, meta, (name) => entryPathOf(dirFdPath, prefix, name));
}

function scanNames(opts: WalkOptions, dir: RelPath | null, names: readonly string[], meta: MetaReader, entryPath: EntryPathOf): Listed {
  return scanEach(opts, dir, names, (_, name, path, problems) => scanOne(opts, path, entryPath, name, problems, meta));
}

/** What scanListed found in a directory, into the sink; the directories onto the walk's stack. */
function addListed(sink: WalkSink, stack: (RelPath | null)[], listed: Listed): void {
  for (const p of listed.problems) sink.problems.push(p);
  for (const t of listed.leftoverTemps) sink.leftoverTemps.push(t);
  for (let i = 0; i < listed.paths.length; i++) add(sink, stack, listed.paths[i] as RelPath, listed.scanned[i] as ScannedEntry);
}

function add(sink: WalkSink, stack: (RelPath | null)[], path: RelPath, scanned: ScannedEntry): void {
  sink.add(path, scanned);
  if (scanned.entry.kind === 'dir') stack.push(path);
  else sink.onFinal?.(path, scanned);
}

/**
 * The entries of a directory listed natively (fs/native-listing.ts), into the sink as they are read: each name's
 * lstat is in the listing's columns, and a path through the directory's descriptor is made only for the few entries
 * that need one (a symlink's target, xattrs). Every entry is stamped as observed at `listedAtNs`, a time taken before
 * the listing made its lstats: the stat cache judges a change close to that time racy (core/stat-cache.ts), and a
 * stamp later than the lstat would let a change made just after it pass for settled. A walk into its own table
 * writes plain files and directories straight into the table's columns where it can (DirectWrites).
 */
function addNativeListing(
  opts: WalkOptions,
  dir: RelPath | null,
  dirFdPath: Buffer,
  dirFd: number | undefined,
  listing: NativeListing,
  listedAtNs: bigint,
  sink: WalkSink,
  stack: (RelPath | null)[],
): void {
  const { names, times, numbers } = listing;
  const prefix = textPrefixOf(dirFdPath);
  const pathOf = (name: string): EntryPath => entryPathOf(dirFdPath, prefix, name);
  const direct = directWritesOf(opts, sink, listing, listedAtNs, dirFd);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const path = pathIn(opts, dir, name);
    if (leftOut(name, path, sink.leftoverTemps)) continue;
    const n = i * NUMBERS_PER_NAME;
    const errno = numbers[n + 6] as number;
    if (errno !== 0) {
      const code = getSystemErrorName(-errno);
      if (code !== 'ENOENT') sink.problems.push(problem(opts.side, path, 'unreadable', `cannot stat (${code})`));
      continue;
    }
    const mode = numbers[n] as number;
    if (direct !== null) {
      const written = direct.write(path, i, mode);
      if (written === WRITTEN_DIR) stack.push(path);
      if (written !== NOT_WRITTEN) continue;
    }
    const t = i * TIMES_PER_NAME;
    const nlink = numbers[n + 1] as number;
    // the device is kept for files with other names only (statIdFrom): no BigInt for it otherwise
    const dev = nlink > 1 ? (times[t + 1] as bigint) : 0n;
    const stat = statIdFrom(times[t] as bigint, times[t + 3] as bigint, numbers[n + 4] as number, times[t + 2] as bigint, nlink, numbers[n + 5] as number, mode, dev);
    const scanned = scanStatted(opts, path, stat, mode, numbers[n + 2] as number, numbers[n + 3] as number, listedAtNs, pathOf, name, sink.problems, sink.meta, dirFd);
    if (scanned !== null) add(sink, stack, path, scanned);
  }
}

const NOT_WRITTEN = 0;
const WRITTEN_FILE = 1;
const WRITTEN_DIR = 2;
/** Settled: excluded by the filter, or written (the walk is done with it). */
const SETTLED = 3;

/**
 * A native listing's plain files and directories written straight into a walk's own table (issue 11): no stat, entry,
 * scanned entry or hash string is built for them, and their 64-bit numbers go from the listing's column to the
 * table's as words (core/stat-words.ts). The index's stat cache is read from its columns (StatCacheColumns) with the
 * same answers as the walk's vouching steps give. An entry this cannot settle so (a symlink, a special file, xattrs
 * to read, a path with pending changes in a watch) goes the general way, scanStatted.
 */
class DirectWrites {
  /** The one ListedStat filled for each entry in turn. */
  private readonly st: ListedStat;
  private readonly words: Int32Array;

  constructor(
    private readonly opts: WalkOptions,
    private readonly table: GrowingScanTable,
    private readonly cache: StatCacheColumns | undefined,
    private readonly listing: NativeListing,
    listedAtNs: bigint,
    private readonly xattrsAt: { readonly noXattrs: NoXattrs; readonly dirFd: number } | null,
  ) {
    this.words = wordsOf(listing.times);
    this.st = { isDir: false, mode: 0, size: 0, nlink: 0, blocks: 0, uid: NO_ID, gid: NO_ID, words: this.words, ino: 0, mtime: 0, ctime: 0, observedAtNs: listedAtNs, dev: undefined };
  }

  /** Name i of the listing, at `path`, with st_mode `mode` (its lstat succeeded): NOT_WRITTEN, or what was done. */
  write(path: RelPath, i: number, mode: number): number {
    const kind = kindOfMode(mode);
    if (kind !== 'file' && kind !== 'dir') return NOT_WRITTEN;
    const isDir = kind === 'dir';
    const { opts, cache, words } = this;
    if (opts.filter?.excludes(path, isDir) === true) return SETTLED;
    const t = i * TIMES_PER_NAME;
    const slot = cache === undefined ? -1 : cache.unchangedSlot(path, opts.side, words, t, words, t + 3);
    if (slot === ASK_RECORDS) return NOT_WRITTEN;
    let xattrs: string | undefined;
    if (opts.keep?.xattrs === true) {
      xattrs = slot < 0 || cache === undefined ? undefined : cache.xattrsAt(slot);
      xattrs ??= this.noXattrsOf(path, i);
      if (xattrs === undefined) return NOT_WRITTEN; // to be read
    }
    const numbers = this.listing.numbers;
    const n = i * NUMBERS_PER_NAME;
    const st = this.st;
    st.isDir = isDir;
    st.mode = mode & 0o7777;
    st.size = numbers[n + 4] as number;
    st.nlink = numbers[n + 1] as number;
    st.blocks = numbers[n + 5] as number;
    st.uid = opts.keep?.owner === true ? (numbers[n + 2] as number) : NO_ID;
    st.gid = opts.keep?.group === true ? (numbers[n + 3] as number) : NO_ID;
    st.ino = t;
    st.mtime = t + 2;
    st.ctime = t + 3;
    // as statIdFrom: a file with other names keeps its device
    st.dev = !isDir && st.nlink > 1 ? (this.listing.times[t + 1] as bigint) : undefined;
    const at = this.table.appendListed(path, st, xattrs);
    if (!isDir && slot >= 0 && opts.vouch !== null) cache?.copyHash(slot, opts.side, st.size, words, t + 2, this.table.hashColumn, at);
    return isDir ? WRITTEN_DIR : WRITTEN_FILE;
  }

  /**
   * '' where the addon says name i has no xattrs at all, as the general way's read says (scan/read-meta.ts), else
   * undefined: to be read the general way. Lets a first scan (no index to vouch) write its entries straight in too.
   */
  private noXattrsOf(path: RelPath, i: number): string | undefined {
    const at = this.xattrsAt;
    if (at === null) return undefined;
    const name = this.listing.names[i] as string;
    // sized by the listing where the walk asked it to (probesXattrs), on the reader's thread: -1 where it was not
    const size = this.listing.numbers[i * NUMBERS_PER_NAME + XATTR_LIST_SIZE] ?? -1;
    if (size > 0) return undefined;
    return size === 0 ? digestOfNone(name, path, this.opts.xattrValues) : digestIfNone(at.noXattrs, at.dirFd, name, path, this.opts.xattrValues);
  }
}

/**
 * Direct writes for this listing, or null where every entry takes the general way: a walk not into its own table
 * (a streamed or rescanning one), or one whose vouching steps the index's columns cannot stand in for.
 */
function directWritesOf(opts: WalkOptions, sink: WalkSink, listing: NativeListing, listedAtNs: bigint, dirFd: number | undefined): DirectWrites | null {
  const table = sink.table;
  if (table === undefined || sink.onFinal !== undefined) return null;
  const cache = opts.statCache;
  // xattrs no index vouches for are settled here only where the addon can say an entry has none (noXattrsOf)
  const noXattrs = opts.keep?.xattrs === true && dirFd !== undefined ? nativeNoXattrs() : null;
  if (cache === undefined && (opts.vouch !== null || (opts.keep?.xattrs === true && noXattrs === null))) return null;
  return new DirectWrites(opts, table, cache, listing, listedAtNs, noXattrs === null || dirFd === undefined ? null : { noXattrs, dirFd });
}

/**
 * Whether the walk's listings size each name's list of xattr names (native-listing.ts NativeLister): where xattrs are
 * kept and the index has nothing to vouch for them (a first sync), each file and directory would otherwise be asked
 * about on this thread, one call each (about 4 µs: 0.4 s of a 100k-file first copy); the listing reader asks instead,
 * on its own thread, while this one works. Elsewhere the index vouches for nearly all, and the few it does not are
 * asked about here as before: a probe of every name would cost the reader that much on every run.
 */
function probesXattrs(opts: WalkOptions): boolean {
  return opts.keep?.xattrs === true && opts.expectedEntries === 0;
}

/** The path of `name` in `dir` as the scan keys it: the index's own string where it has one (SharedPath). */
function pathIn(opts: WalkOptions, dir: RelPath | null, name: string): RelPath {
  const joined = joinRel(dir, name);
  return opts.sharedPath === undefined ? joined : opts.sharedPath(joined);
}

/** tsync's own names are left out of a scan (true), a killed run's temp file among them noted in `leftoverTemps`. */
function leftOut(name: string, path: RelPath, leftoverTemps: RelPath[]): boolean {
  if (!isOwnName(name)) return false;
  if (isTempName(name)) leftoverTemps.push(path);
  return true;
}

/** Scans each of a directory's names with `scanName` (its index in `names`, the name, its path), leaving tsync's own names out. */
function scanEach(opts: WalkOptions, dir: RelPath | null, names: readonly string[], scanName: (i: number, name: string, path: RelPath, problems: Problem[]) => ScannedEntry | null): Listed {
  const listed: Listed = { paths: [], scanned: [], problems: [], leftoverTemps: [] };
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const path = pathIn(opts, dir, name);
    if (leftOut(name, path, listed.leftoverTemps)) continue;
    const scanned = scanName(i, name, path, listed.problems);
    if (scanned === null) continue;
    listed.paths.push(path);
    listed.scanned.push(scanned);
  }
  return listed;
}

/** A sink writing into a Map the caller holds (a rescan's, a watch's live scan): entries set as they are. */
function sinkInto(entries: Map<RelPath, ScannedEntry>, problems: Problem[], leftoverTemps: RelPath[], meta: MetaReader): WalkSink {
  return { entries, add: (path, scanned) => entries.set(path, scanned), problems, leftoverTemps, meta };
}

/** A directory's entry is final once the walk has reached it (WalkSink.onFinal). */
function finalDir(sink: WalkSink, dir: RelPath): void {
  if (sink.onFinal === undefined) return;
  const scanned = sink.entries.get(dir);
  if (scanned !== undefined) sink.onFinal(dir, scanned);
}

/** A side's scan kept up to date between watch cycles. */
export interface LiveScan {
  readonly entries: Map<RelPath, ScannedEntry>;
  readonly problems: Map<RelPath, Problem>;
  /** The known paths strictly below a directory (a superset will do: each is only deleted), found without a pass over all entries. */
  readonly below: (dir: RelPath) => Iterable<RelPath>;
}

/**
 * Re-reads only the given paths of a side (watch mode): each path is looked at again, and a directory's
 * whole subtree is walked again; what was known at or below a path is forgotten first.
 */
export function rescanPaths(opts: ScanOptions, live: LiveScan, paths: readonly RelPath[]): RelPath[] {
  return rescanWalk(walkOptionsOf(opts), live, paths);
}

/** rescanPaths with the vouching steps given as they are (endpoint/local-endpoint.ts). */
export function rescanWalk(opts: WalkOptions, live: LiveScan, paths: readonly RelPath[]): RelPath[] {
  const leftoverTemps: RelPath[] = [];
  const anchors = new DirAnchors(opts.root);
  try {
    rescanInto(opts, anchors, live, paths, leftoverTemps);
  } finally {
    anchors.closeAll();
    opts.filter?.closeDirs();
  }
  return leftoverTemps;
}

/**
 * The paths a rescan walks for these dirty paths: a path under a directory we do not know yet (events can
 * arrive child first) is covered by re-reading the outermost unknown directory on its way, and a path
 * below another one of the list is covered by walking that one.
 */
export function rescanRoots(live: Pick<LiveScan, 'entries'>, paths: readonly RelPath[]): RelPath[] {
  const isKnownDir = (p: RelPath): boolean => live.entries.get(p)?.entry.kind === 'dir';
  const anchored = paths.map((p) => {
    let q = p;
    for (let parent = parentOf(q); parent !== null && !isKnownDir(parent); parent = parentOf(q)) q = parent;
    return q;
  });
  return outermost(anchored);
}

/**
 * What is now at and below each of `paths` (the result of rescanRoots), into a fresh result: a remote
 * side's agent answers a rescan with this, and the caller replaces what it knew there (scan/apply-rescan.ts).
 */
export function walkPaths(opts: WalkOptions, paths: readonly RelPath[]): ScanResult {
  const entries = new Map<RelPath, ScannedEntry>();
  const problems: Problem[] = [];
  const leftoverTemps: RelPath[] = [];
  const anchors = new DirAnchors(opts.root);
  const meta = metaReaderOf(opts.keep, opts.vouchXattrs, opts.xattrValues);
  try {
    for (const path of outermost(paths)) {
      const scanned = isOwnName(baseName(path)) ? null : scanAt(opts, anchors, path, problems, meta);
      if (scanned === null) continue;
      entries.set(path, scanned);
      if (scanned.entry.kind === 'dir') walkInto(opts, anchors, path, sinkInto(entries, problems, leftoverTemps, meta));
    }
  } finally {
    anchors.closeAll();
    opts.filter?.closeDirs();
  }
  return { side: opts.side, entries, problems, leftoverTemps };
}

function rescanInto(opts: WalkOptions, anchors: DirAnchors, live: LiveScan, paths: readonly RelPath[], leftoverTemps: RelPath[]): void {
  for (const path of rescanRoots(live, paths)) {
    const wasDir = live.entries.get(path)?.entry.kind === 'dir';
    live.entries.delete(path);
    live.problems.delete(path);
    if (wasDir || hasProblemBelow(live, path)) forgetBelow(live, path);
    const problems: Problem[] = [];
    const meta = metaReaderOf(opts.keep, opts.vouchXattrs, opts.xattrValues);
    const scanned = isOwnName(baseName(path)) ? null : scanAt(opts, anchors, path, problems, meta);
    if (scanned !== null) {
      live.entries.set(path, scanned);
      if (scanned.entry.kind === 'dir') {
        walkInto(opts, anchors, path, sinkInto(live.entries, problems, leftoverTemps, meta));
      }
    }
    for (const p of problems) live.problems.set(p.path, p);
  }
}

/** scanOne for a single path reached through its directory's descriptor; a directory on the way gone or swapped: not there. */
function scanAt(opts: WalkOptions, anchors: DirAnchors, path: RelPath, problems: Problem[], meta: MetaReader): ScannedEntry | null {
  let place: Place;
  try {
    place = anchors.place(path);
  } catch (e) {
    if (e instanceof StaleTargetError || e instanceof UnsafePathError) return null;
    problems.push(problem(opts.side, path, 'unreadable', `cannot stat (${errCode(e)})`));
    return null;
  }
  try {
    return scanOne(opts, path, () => place.fdPath, '', problems, meta);
  } finally {
    place.release();
  }
}

/** Drops paths that lie below another path of the list (walking the outer one covers them). */
function outermost(paths: readonly RelPath[]): RelPath[] {
  const sorted = [...new Set(paths)].sort(compareRel);
  const out: RelPath[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && isAtOrBelow(p, last)) continue;
    out.push(p);
  }
  return out;
}

/** Costs the subtree's size, not the tree's; problems are few, so a pass over them is cheap. */
export function forgetBelow(live: LiveScan, path: RelPath): void {
  for (const k of live.below(path)) live.entries.delete(k);
  for (const k of live.problems.keys()) if (k.length > path.length && isAtOrBelow(k, path)) live.problems.delete(k);
}

function hasProblemBelow(live: LiveScan, path: RelPath): boolean {
  if (live.problems.size === 0) return false;
  for (const k of live.problems.keys()) if (isAtOrBelow(k, path)) return true;
  return false;
}

/** The entry at `path`, looked up as `pathOf(name)`. */
function scanOne(opts: WalkOptions, path: RelPath, pathOf: EntryPathOf, name: string, problems: Problem[], meta: MetaReader = NO_META): ScannedEntry | null {
  let st: BigIntStats;
  try {
    st = lstatSync(pathOf(name), { bigint: true });
  } catch (e) {
    const code = errCode(e);
    if (code !== 'ENOENT') problems.push(problem(opts.side, path, 'unreadable', `cannot stat (${code})`));
    return null;
  }
  return scanStatted(opts, path, statIdOf(st), Number(st.mode), Number(st.uid), Number(st.gid), nowNs(), pathOf, name, problems, meta, undefined);
}

/**
 * The entry at `path`, whose lstat gave `stat`, `mode` and the owner ids, taken at `observedAtNs` or after.
 * `pathOf(name)` is a path to it for the calls that need one (readlink, xattrs): made only then, and by a function
 * shared by a directory's entries, so that an entry costs no closure of its own.
 */
function scanStatted(
  opts: WalkOptions,
  path: RelPath,
  stat: StatId,
  mode: number,
  uid: number,
  gid: number,
  observedAtNs: bigint,
  pathOf: EntryPathOf,
  name: string,
  problems: Problem[],
  meta: MetaReader,
  dirFd: number | undefined,
): ScannedEntry | null {
  const kind = kindOfMode(mode);
  if (opts.filter?.excludes(path, kind === 'dir') === true) return null;
  let entry: Entry;
  switch (kind) {
    case 'file': {
      const hash = opts.vouch === null ? null : opts.vouch(path, stat);
      entry = {
        kind: 'file',
        size: stat.size,
        mtimeNs: stat.mtimeNs,
        mode: mode & 0o7777,
        hash,
        uid: meta.uid(uid),
        gid: meta.gid(gid),
        xattrs: meta.xattrs(pathOf, name, path, stat, dirFd),
      };
      break;
    }
    case 'dir':
      entry = { kind: 'dir', mode: mode & 0o7777, mtimeNs: stat.mtimeNs, uid: meta.uid(uid), gid: meta.gid(gid), xattrs: meta.xattrs(pathOf, name, path, stat, dirFd) };
      break;
    case 'symlink':
      try {
        entry = { kind: 'symlink', target: readlinkSync(pathOf(name), { encoding: 'latin1' }), mtimeNs: stat.mtimeNs, uid: meta.uid(uid), gid: meta.gid(gid) };
      } catch (e) {
        const code = errCode(e);
        if (code !== 'ENOENT') problems.push(problem(opts.side, path, 'unreadable', `cannot read link (${code})`));
        return null;
      }
      break;
    case 'special':
      // fifos, sockets and devices are never opened (a fifo would block the run forever)
      problems.push(problem(opts.side, path, 'special-file', 'special file (fifo, socket or device) skipped'));
      return null;
  }
  return { entry, stat, observedAtNs };
}

function problem(side: Side, path: RelPath, code: Problem['code'], what: string): Problem {
  return { side, path, code, message: `${displayPath(path)}: ${what}` };
}
