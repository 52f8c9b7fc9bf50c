// Data that flows between the modules. Everything here is plain data: no I/O, no classes with behaviour.

/**
 * A path relative to a sync root, `/`-separated, never empty, never starting or ending with `/`.
 *
 * Linux names are byte strings, not text. To keep every name byte-exact (non-UTF-8 bytes, NFC vs NFD,
 * newlines) a RelPath holds the raw bytes as a "binary string": each char code is one byte (0-255),
 * i.e. the bytes decoded as latin1. It converts back to the exact bytes with `Buffer.from(p, 'latin1')`,
 * and comparing two RelPaths as JS strings orders them exactly as `memcmp` orders the bytes.
 */
export type RelPath = string & { readonly __brand: 'RelPath' };

/** An absolute path in the same binary-string form as RelPath. */
export type AbsPath = string & { readonly __brand: 'AbsPath' };

export type Side = 'left' | 'right';

export const CONFLICT_POLICIES = ['keep-both', 'newer', 'left', 'right', 'skip'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/**
 * Owner and group ids and the extended-attribute digest, each present only where this run keeps it
 * (see KeptMeta; absent = not compared, not applied). xattrs: '' for none, else a digest (fs/xattrs.ts).
 */
export interface OwnerMeta {
  readonly uid?: number;
  readonly gid?: number;
}

export interface XattrMeta {
  readonly xattrs?: string;
}

/** Which metadata beyond mode and mtime a run keeps (--no-owner, --no-group, --no-xattrs; owner/group also need the right to chown). */
export interface KeptMeta {
  readonly owner: boolean;
  readonly group: boolean;
  readonly xattrs: boolean;
}

export interface FileEntry extends OwnerMeta, XattrMeta {
  readonly kind: 'file';
  readonly size: number;
  readonly mtimeNs: bigint;
  /** Permission bits plus setuid/setgid/sticky (st_mode & 0o7777). */
  readonly mode: number;
  /** XXH64 of the content as 16 hex digits; null when nobody needed it yet (see scan). */
  readonly hash: string | null;
}

export interface DirEntry extends OwnerMeta, XattrMeta {
  readonly kind: 'dir';
  readonly mode: number;
  readonly mtimeNs: bigint;
}

export interface SymlinkEntry extends OwnerMeta {
  readonly kind: 'symlink';
  /** The link's target text, byte-exact (binary string). Never followed. */
  readonly target: string;
  readonly mtimeNs: bigint;
}

export type Entry = FileEntry | DirEntry | SymlinkEntry;
export type EntryKind = Entry['kind'];

/** Identity of the inode behind an entry as seen by lstat: what the stat cache and stale checks key on. */
export interface StatId {
  readonly ino: bigint;
  readonly ctimeNs: bigint;
  readonly size: number;
  readonly mtimeNs: bigint;
  /** Hard links to the inode (st_nlink); absent where a stat was not taken from disk (plan files, tests). */
  readonly nlink?: number;
  /** 512-byte blocks allocated (st_blocks): fewer than the size needs means the file has holes. */
  readonly blocks?: number;
  /** The device (st_dev), kept only for files with nlink > 1: a hard-link group is keyed by dev and ino. */
  readonly dev?: bigint;
}

/** An entry as found on disk by a scan, with the identity needed to vouch for it later. */
export interface ScannedEntry {
  readonly entry: Entry;
  readonly stat: StatId;
  /** Wall-clock time (ns) of the lstat: decides whether the stat is racily clean (core/stat-cache.ts). */
  readonly observedAtNs: bigint;
}

export type ProblemCode = 'unreadable' | 'vanished' | 'special-file' | 'changed-during-copy' | 'stale' | 'io-error' | 'unsafe-path';

/** A per-path problem. Problems are data: they never abort a run, they make it exit 1. */
export interface Problem {
  readonly path: RelPath;
  readonly side: Side;
  readonly code: ProblemCode;
  readonly message: string;
}

export interface Snapshot {
  readonly side: Side;
  readonly entries: ReadonlyMap<RelPath, ScannedEntry>;
  /**
   * Paths that could not be read (or must not be touched, like fifos). Nothing at or below such a path
   * may be deleted or overwritten on the strength of this scan.
   */
  readonly problems: readonly Problem[];
}

/** What the index remembers of one side of a path after it was last synced. */
export interface SideRecord {
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  /** -1n marks a "racily clean" record that must not vouch for the content (RACY_CTIME, see core/stat-cache.ts). */
  readonly ctimeNs: bigint;
}

/** The last state both sides agreed on for a path (the base), plus each side's stat identity. */
export interface BaseRecord {
  readonly entry: Entry;
  readonly left: SideRecord | null;
  readonly right: SideRecord | null;
}

export type Base = ReadonlyMap<RelPath, BaseRecord>;

/** What a target path is expected to hold right before it is changed: null = nothing there. */
export type Expectation = (StatId & { readonly kind: EntryKind }) | null;

interface ActionBase {
  readonly path: RelPath;
  /** The side that is written. */
  readonly target: Side;
  /** The state the target had at scan time; the engine re-checks it before writing. */
  readonly expect: Expectation;
}

/** Make the target hold the source's file or symlink (atomic: temp file, then rename). */
export interface CopyAction extends ActionBase {
  readonly type: 'copy';
  readonly source: ScannedEntry;
}

/**
 * One-way only: make `path` one more name of the inode the target holds at `linkTo`, the first path of
 * the source's hard-link group (link to a temp name, then rename over: atomic like a copy).
 */
export interface LinkAction extends ActionBase {
  readonly type: 'link';
  /** The source's file at `path`: it shares one inode with the source's file at `linkTo`. */
  readonly source: ScannedEntry;
  readonly linkTo: RelPath;
  /** What the target holds at `linkTo` (checked before linking); null: this plan copies it there first. */
  readonly linkToExpect: Expectation;
}

/** Create a directory (the target holds nothing there, or what was there was removed first). */
export interface MkdirAction extends ActionBase {
  readonly type: 'mkdir';
  readonly source: ScannedEntry & { readonly entry: DirEntry };
}

/** Same content, different metadata: fix the metadata in place. */
export interface MetaAction extends ActionBase {
  readonly type: 'meta';
  /**
   * The other side as scanned (its stat is what the base records for that side), with `entry` holding
   * the metadata the target must get: the other side's whole (one-way, a propagated change) or the
   * field-by-field merge of both sides (two-way, core/merge-meta.ts).
   */
  readonly source: ScannedEntry;
}

/** Remove a file, symlink, special file or (empty by then) directory from the target. */
export interface DeleteAction extends ActionBase {
  readonly type: 'delete';
}

/**
 * Resolves a conflict on the losing side, as one unit: first the loser's version is saved under
 * `copyName` on its own side, then (only if that worked) the winner is installed at `path` (for a
 * directory winner: the loser is removed and a separate mkdir follows), then the saved copy is copied
 * to the winning side. Nothing is overwritten before it has been preserved.
 */
export interface ConflictAction extends ActionBase {
  readonly type: 'conflict';
  readonly winner: ScannedEntry;
  readonly loser: ScannedEntry;
  /** Where the loser is saved in both trees; null: the loser goes to the losing side's trash instead. */
  readonly copyName: RelPath | null;
  readonly conflict: Conflict;
}

export type Action = CopyAction | MkdirAction | MetaAction | DeleteAction | ConflictAction | LinkAction;

export interface ConflictVersion {
  readonly kind: EntryKind;
  readonly size: number | null;
  readonly mtimeNs: bigint;
  readonly hash: string | null;
}

export type ConflictResolution = 'kept-both' | 'loser-trashed' | 'skipped';

/** Both sides changed a path differently since the base. */
export interface Conflict {
  readonly path: RelPath;
  readonly left: ConflictVersion;
  readonly right: ConflictVersion;
  readonly policy: ConflictPolicy;
  readonly resolution: ConflictResolution;
  /** The side whose version keeps the name; null when skipped. */
  readonly winner: Side | null;
  /** Where the losing version is kept, on both sides; null when skipped or when the loser went to the trash. */
  readonly copyName: RelPath | null;
}

export interface Plan {
  /** In the order they must run: deletes deepest first, then mkdirs top-down, copies, then metadata (deepest first). */
  readonly actions: readonly Action[];
  /** Paths that already agree: recorded in the base without touching either side. */
  readonly agreed: readonly RelPath[];
  /** Paths left alone because a scan problem makes them uncertain. */
  readonly skipped: readonly RelPath[];
  readonly conflicts: readonly Conflict[];
}

/** A path both sides now hold, as each side's scan would see it. */
export interface PathRecord {
  readonly path: RelPath;
  readonly entry: Entry;
  readonly left: ScannedEntry;
  readonly right: ScannedEntry;
}

export type OutcomeStatus = 'applied' | 'stale' | 'failed';

export interface Outcome {
  readonly action: Action;
  readonly status: OutcomeStatus;
  /** Paths that now agree on both sides because of this action: what the base records for them. */
  readonly records?: readonly PathRecord[];
  readonly problem?: Problem;
}
