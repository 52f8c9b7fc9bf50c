import type { WrittenSide } from '../core/written-paths.js';
import type { Expectation, KeptMeta, RelPath, ScannedEntry, Side } from '../core/types.js';
import type { LocalRunSide } from '../engine/local-copy.js';
import type { BlockSignature } from '../delta/block-signature.js';
import type { ReadStream, ReadTrailer } from '../engine/stream-copy.js';
import type { TrashedVersion } from '../core/trash-names.js';
import type { ScanResult, WalkOptions } from '../scan/scan.js';
import type { RootWatchEvents } from '../watch/watcher.js';

/**
 * One side of a pair (one root): every read and write the run makes on that side goes through here, so that
 * the same executor and run loop drive a local tree (local-endpoint.ts) and, later, an agent across SSH.
 * Everything that crosses is plain data (strings, binary-string RelPaths, numbers, bigints, Buffers, Maps,
 * arrays), with the exceptions marked LOCAL: those are applied on the caller's side by a remote endpoint.
 * Failures are thrown as the engine's typed errors (StaleTargetError, UnsafePathError, SourceReadError,
 * SourceChangedError, or an errno error with `code`), which the executor turns into outcomes.
 */
export interface Endpoint {
  /** True for a tree on this machine: the executor may then copy between two such sides with kernel calls. */
  readonly isLocal: boolean;
  /** LOCAL: the run's descriptors, trash and meta writer, for the local fast copy; null for a remote side. */
  direct(): LocalRunSide | null;

  /** Walks the root. LOCAL: `filter` (ignore rules) and the two vouch callbacks (the index's stat cache). */
  scan(req: ScanRequest): Promise<ScanResult>;
  /**
   * Watch mode: what is now at and below each of `roots` (dirty paths, as scan/scan.ts rescanRoots gives
   * them), walked like `scan` walks the root. The caller replaces what it knew there (scan/apply-rescan.ts).
   */
  rescan(req: ScanRequest, roots: readonly RelPath[]): Promise<ScanResult>;
  /**
   * Watch mode: watches the root and reports hints (and a failure of the watch) through `events` until
   * closed. `knownDirs`: the index's directories, watched without listing the tree (see watch/watcher.ts).
   */
  watch(side: Side, knownDirs: readonly RelPath[] | undefined, events: RootWatchEvents): Promise<EndpointWatch>;
  /** Settles with the reason once this side cannot be reached any more (a remote session ended); never for a local side. */
  ended(): Promise<Error>;
  /** Hashes files (XXH64 of the content), `concurrency` at a time; per path a hash or an errno code. */
  hash(paths: readonly RelPath[], concurrency: number): Promise<Map<RelPath, HashResult>>;
  /** Before a run writes: create a missing root, prune old trash folders, remove killed runs' temp files. */
  prepare(req: PrepareRequest): Promise<void>;
  /** Removes temp files a scan found left over by killed runs (only names tsync makes, never a live one's). */
  removeTemps(paths: readonly RelPath[]): Promise<void>;
  /** Does this side's file system have fine-grained ctimes? (Writes and removes a probe file.) */
  hasFineCtime(): Promise<boolean>;

  /** Starts a run's writes: descriptors, trash folder, metadata kept. endRun closes them and returns its warnings. */
  beginRun(opts: RunOptions): Promise<void>;
  endRun(): Promise<string[]>;
  /**
   * Every directory above `path` must be a real directory (UnsafePathError otherwise). remove, makeDir and setMeta
   * check this themselves, as part of reaching `path`: a caller need not ask first.
   */
  assertParents(path: RelPath): Promise<void>;
  /** The entry at `path` must still be the inode `scanned` saw (StaleTargetError otherwise). */
  assertUnchanged(path: RelPath, scanned: ScannedEntry, label: string): Promise<void>;
  /** Deletes what the scan saw (`expect`): a file or link into the trash (if any), a directory removed. */
  remove(path: RelPath, expect: Expectation, label: string): Promise<void>;
  makeDir(path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry>;
  /** Mode, mtime, owner, xattrs in place. `xattrs`: the other side's (null: not kept); own ones win if they hold the merged digest. */
  setMeta(path: RelPath, source: ScannedEntry, expect: Expectation, xattrs: Xattrs, label: string): Promise<ScannedEntry>;
  /** The entry's xattrs (null: xattrs are not kept this run, or cannot be read: said once as a warning). */
  readXattrs(path: RelPath, label: string): Promise<Xattrs>;
  /** Without the right to chown: warns once when an entry of another user is copied from here. */
  noteOwnerLeft(path: RelPath): Promise<void>;
  installSymlink(path: RelPath, source: ScannedEntry, expect: Expectation): Promise<ScannedEntry>;
  /** Gives `path` the inode at `linkTo` (as `linkToExpect`, or as installed earlier this run) atomically. */
  link(path: RelPath, linkTo: RelPath, linkToExpect: LinkTarget | null, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry>;
  /** A copy on this same side (a conflict copy): file or symlink, atomically. */
  copyWithin(fromPath: RelPath, from: ScannedEntry, toPath: RelPath, expect: Expectation): Promise<Copied>;
  /** The bytes of a file as scanned; the stream fails (and `done` rejects) if the source changed meanwhile. */
  openRead(path: RelPath, scanned: ScannedEntry): Promise<ReadStream>;
  /** Writes `chunks` to a temp file (0600, holes kept), verifies, sets metadata, stale-checks, trashes and renames. */
  install(path: RelPath, source: ScannedEntry, expect: Expectation, chunks: AsyncIterable<Buffer>, xattrs: Xattrs): Promise<Installed>;
  /**
   * Delta transfer (engine/delta-copy.ts), receiving side: the block sums of the file at `path`, which must
   * still be `expect` (StaleTargetError otherwise). `blockSize` within the bounds of delta/block-signature.ts.
   */
  signature(path: RelPath, expect: Expectation, blockSize: number): Promise<BlockSignature>;
  /**
   * Delta transfer, sending side: as openRead, but the chunks are the file's delta against `basis`
   * (delta/delta-ops.ts), ending with the whole file's hash; `done` describes the whole file as read.
   */
  openDelta(path: RelPath, scanned: ScannedEntry, basis: BlockSignature): Promise<ReadStream>;
  /**
   * Delta transfer, receiving side: as install, but the new file is rebuilt in the temp file from the blocks
   * of `basis.path` (read through its descriptor, held to `basis.expect`) and the literals in `ops`; its hash
   * must be the one the delta ends with, before anything is renamed.
   */
  installDelta(path: RelPath, source: ScannedEntry, expect: Expectation, basis: DeltaBasis, ops: AsyncIterable<Buffer>, xattrs: Xattrs): Promise<Installed>;
  /**
   * Batched copies of small files (engine/batch-copy.ts), sending side: each file read whole, with the same
   * checks as openRead (and its xattrs, and the owner note, when asked). Per file its bytes or its error:
   * one file's failure is not the others'.
   */
  readBatch(items: readonly BatchReadItem[]): Promise<PerFile<FileRead>[]>;
  /**
   * Batched copies, receiving side: each file installed as install would (temp file, hash checked against
   * the source entry's, metadata, stale check, trash, rename), one after another. Per file what was
   * installed or why not: one file's failure is not the others'.
   */
  installBatch(items: readonly BatchInstallItem[]): Promise<PerFile<Installed>[]>;
  /** Makes the named paths durable (fsync, or a syncfs when there are many); `rootMade`: the root's own name too. Returns what it did (TSYNC_TIMINGS). */
  flush(written: WrittenSide, rootMade: boolean): Promise<readonly string[]>;
  /** Makes everything on the root's file system durable (one syncfs): a deferred flush of a run that wrote many paths. */
  flushFileSystem(): Promise<readonly string[]>;
  /**
   * Whose page cache holds what this side writes until it is flushed: the boot and the mount of its root,
   * on the machine the root is on; null when either cannot be read (a flush is then never deferred).
   */
  cacheStamp(): Promise<CacheStamp | null>;
  /** What the root's trash holds, oldest first (`tsync trash`); no run needed. */
  listTrash(): Promise<TrashedVersion[]>;
  /** Puts a version listTrash named back at its path, what stands there now going to the trash first (`tsync restore`); no run needed. */
  restoreFromTrash(version: TrashVersionRef): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where unflushed writes wait (sync/deferred-flush.ts): the kernel's boot id and the id of the mount holding
 * the root (fs/boot-id.ts). The same stamp later means no restart and no unmount came in between, so every
 * write is still in that page cache or already on the disk.
 */
export interface CacheStamp {
  readonly bootId: string;
  readonly mount: string;
}

/** One file's result in a batch: what it gave, or the error it failed with (the engine's typed errors). */
export type PerFile<T> = { readonly ok: T } | { readonly error: unknown };

export interface BatchReadItem {
  readonly path: RelPath;
  readonly scanned: ScannedEntry;
  /** Read its xattrs too (before its bytes: adding one changes the ctime, which the read checks). */
  readonly xattrs: boolean;
  /** Without the right to chown: note an entry of another user (noteOwnerLeft). */
  readonly noteOwner: boolean;
}

export interface FileRead {
  readonly bytes: Buffer;
  readonly trailer: ReadTrailer;
  /** Null unless asked for (or not kept on this side). */
  readonly xattrs: Xattrs;
}

export interface BatchInstallItem {
  readonly path: RelPath;
  /** The source as scanned, its hash that of `bytes` (checked before the rename). */
  readonly source: ScannedEntry;
  readonly expect: Expectation;
  readonly bytes: Buffer;
  readonly xattrs: Xattrs;
}

/** A trashed version as a restore names it: the run's stamp, the path it had, where the trash keeps it. */
export type TrashVersionRef = Pick<TrashedVersion, 'stamp' | 'path' | 'stored'>;

export type Xattrs = ReadonlyMap<string, Buffer> | null;

/** The file a delta refers to: as scanned, and the block size its signature was taken with. */
export interface DeltaBasis {
  readonly path: RelPath;
  readonly expect: Expectation;
  readonly blockSize: number;
}

export type ScanRequest = Omit<WalkOptions, 'root'>;

/**
 * How long a walk that shares its thread holds it before it lets other work in (WalkOptions.sliceMs): a remote
 * pair walks its local root while ssh connects and the far side scans, and an agent answers keepalives while it
 * walks. A turn of the event loop costs microseconds; 25 ms keeps a 100,000-entry walk at about forty of them.
 */
export const SHARED_THREAD_SLICE_MS = 25;

export type HashResult = { readonly hash: string } | { readonly code: string };

export interface PrepareRequest {
  /** The root is missing: create it (and nothing else to do). */
  readonly createRoot: boolean;
  /** Trash folders older than this go (null: no trash this run). */
  readonly trashKeepMs: number | null;
  readonly leftoverTemps: readonly RelPath[];
}

export interface RunOptions {
  /** This run's trash folder name (null: no trash on this side). */
  readonly trashStamp: string | null;
  /**
   * The directories whose trash folders the run will keep versions in, last needed first (core/trash-folders.ts):
   * the side may make them ahead, on another thread (engine/trash.ts makeAhead). Absent: none known (the engine
   * sends none to a far side, whose agent runs without the addon that makes them).
   */
  readonly trashFolders?: readonly RelPath[];
  readonly keep: KeptMeta;
  readonly chownRefused: boolean;
  /** How recent a ctime must be to count as racy on this side (fs/ctime-probe.ts). */
  readonly racyWindowNs: bigint;
}

export interface LinkTarget {
  readonly ino: bigint;
  readonly size: number;
  readonly mtimeNs: bigint;
}

export interface Copied {
  readonly source: ScannedEntry;
  readonly target: ScannedEntry;
  readonly bytes: number;
}

export interface Installed {
  readonly target: ScannedEntry;
  readonly bytes: number;
  readonly hash: string;
}

/** A running watch of one side's root (Endpoint.watch). */
export interface EndpointWatch {
  /** Watches the directories a full scan found and not the others; returns those newly watched (to re-read). */
  adopt(dirs: ReadonlySet<RelPath>): Promise<RelPath[]>;
  close(): Promise<void>;
}
