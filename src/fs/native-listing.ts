/*
 * The scan's native directory listing (native/list_dir.c, issue 11): a directory's names and each name's lstat in
 * one call, looked up with fstatat(2) relative to the directory's descriptor. Node has no such call: a walk by
 * Node's fs made one lstatSync per name, through a path, each building a BigIntStats of 14 BigInts and 4 Dates.
 * Beside it, the addon opens a walk's directories with openat(2) on their parent's descriptor (nativeDirOpener, for
 * engine/dir-anchors.ts), probes for ignore files with a bare lstat (nativeNoEntry, for ignore/path-filter.ts), asks
 * whether an entry has any xattrs on the walk's descriptor (nativeNoXattrs, for scan/read-meta.ts), and gives a
 * copy's new file its name without replacing anything (nativeRenameNoReplace, for engine/copy-file.ts), and copies a
 * small file up to its temp file in one call (nativeCopySmall, for engine/copy-file.ts), and flushes a file system
 * without a child process (nativeSyncfs, for fs/flush.ts). Its own thread reads listings ahead of the walk
 * (nativeListReader, native/list_ahead.c, for scan/list-ahead.ts).
 *
 * The addon is compiled at install (scripts/build-native.mjs). Where it was not built (no compiler), or with
 * TSYNC_NATIVE=0 (a testing switch: the fault trials, which can only inject faults into Node's fs calls, and the
 * tests that compare both walks), the scan goes through Node's fs as before, with the same results.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { StatId } from '../core/types.js';
import { statIdFrom } from './stat.js';

/** native/list_dir.c's listDir: a negative errno, or the names (each followed by NUL) and two columns. */
type ListDir = (fd: number, probeXattrs?: boolean) => number | [string, BigInt64Array, Float64Array];

const ENOENT = osConstants.errno.ENOENT;

/** Per name, in `times`: st_ino, st_dev, mtime ns, ctime ns. */
export const TIMES_PER_NAME = 4;
/**
 * Per name, in `numbers`: st_mode, st_nlink, st_uid, st_gid, st_size, st_blocks, the lstat's errno (0: none), and the
 * size of its list of xattr names where the listing was asked to read it (XATTR_LIST_SIZE), else -1.
 */
export const NUMBERS_PER_NAME = 8;
/** Where in a name's `numbers` the size of its list of xattr names is: -1 where it was not read (see NativeLister). */
export const XATTR_LIST_SIZE = 7;

/** One directory as listed: `names[i]`'s lstat is at `i * TIMES_PER_NAME` and `i * NUMBERS_PER_NAME`. */
export interface NativeListing {
  /** Binary strings (one char per byte, core/types.ts), in readdir order. */
  readonly names: string[];
  readonly times: BigInt64Array;
  readonly numbers: Float64Array;
}

/** A directory the native listing could not list, with the errno's name as its code, as Node's fs errors have. */
export class ListingError extends Error {
  constructor(readonly code: string) {
    super(`cannot list the directory (${code})`);
  }
}

/** A directory the native openDirAt could not open or closeFd could not close, with the errno's name as its code, as Node's fs errors have. */
export class DirCallError extends Error {
  constructor(
    readonly code: string,
    what: 'open' | 'close',
  ) {
    super(`cannot ${what} the directory (${code})`);
  }
}

/** Which listing a scan uses, and why (for `tsync doctor`). */
export type ListingKind = { readonly native: true; readonly path: string } | { readonly native: false; readonly why: string };

/** native/list_dir.c's openDirAt (the descriptor of directory `name` in the directory `dirFd` holds), closeFd and lstatErrno; a negative errno on failure. */
interface DirCalls {
  readonly openDirAt: (dirFd: number, name: string) => number;
  readonly closeFd: (fd: number) => number;
  readonly lstatErrno: (path: string) => number;
}

/** Directories opened with openat(2) on their parent's descriptor, and closed as they were opened (nativeDirOpener). */
export interface NativeDirOpener {
  /** The descriptor of directory `name` (a binary string) in the directory `dirFd` holds; never through a symlink. */
  open(dirFd: number, name: string): number;
  /** `open` without an error object: the descriptor, or whether there is no such directory (false); any other failure throws as `open` does. */
  openIfThere(dirFd: number, name: string): number | false;
  close(fd: number): void;
}

/** native/list_ahead.c's calls: a job, or a negative errno; the job's listing as listDir gives it; a job not wanted. */
interface AheadCalls {
  readonly listAhead: (fd: number, probeXattrs: boolean) => number | AheadJob;
  readonly listTaken: (job: AheadJob) => ReturnType<ListDir>;
  readonly listDropped: (job: AheadJob) => void;
}

/** A listing asked for with listAhead: an opaque handle of the addon's. */
declare const aheadJob: unique symbol;
export type AheadJob = { readonly [aheadJob]: true };

/**
 * Directory listings read ahead of time on the addon's own thread (native/list_ahead.c): `ahead(fd)` queues one (null
 * where no thread could be started: list with the lister then), and the job must then be either `taken` (the listing,
 * or a ListingError thrown, as the lister gives them) or `dropped` before `fd` is closed.
 */
export interface ListReader {
  /** `probeXattrs`: as NativeLister's. */
  ahead(fd: number, probeXattrs?: boolean): AheadJob | null;
  taken(job: AheadJob): NativeListing;
  dropped(job: AheadJob): void;
}

/** native/list_dir.c's renameNoReplace: renameat2(2) with RENAME_NOREPLACE; 0 or a negative errno. */
type RenameNoReplace = (from: Uint8Array, to: Uint8Array) => number;

/** native/list_dir.c's renameExchange: renameat2(2) with RENAME_EXCHANGE; 0 or a negative errno. */
type RenameExchange = (a: Uint8Array, b: Uint8Array) => number;

/** native/list_dir.c's xattrSizeAt: the size of the xattr name list of `name` in the directory `dirFd` holds, or a negative errno. */
type XattrSizeAt = (dirFd: number, name: string, throughProc?: boolean) => number;

/**
 * native/copy_small.c's copySmall: reads the source whole into `scratch`, hashes it, writes it to a new temp file and
 * sets its times; the temp file's descriptor, or a negative errno with the stage that stopped it in `out[0]`
 * (CopySmallStage). `out` holds the source's fstat, the hash and the byte count (COPY_OUT).
 */
export type CopySmall = (source: Uint8Array, temp: Uint8Array, scratch: Uint8Array, out: BigInt64Array, racyWindowNs: number) => number;

/** Where native/copy_small.c's copySmall stopped (out[0]); its enum of the same names. */
export const CopySmallStage = { openSource: 1, notAFile: 2, notHere: 3, changed: 4, createTemp: 5, io: 6 } as const;

/** The slots of copySmall's `out`: the source's fstat before reading, the hash (XXH64, as a signed 64-bit word), when the fstat was taken, the bytes copied. */
export const COPY_OUT = { stage: 0, ino: 1, size: 2, mtime: 3, ctime: 4, atime: 5, mode: 6, nlink: 7, blocks: 8, dev: 9, hash: 10, observed: 11, bytes: 12, length: 13 } as const;

/**
 * native/copy_small.c's copySmallBatch: copies and installs the new small files `names` of the directory `sourceDir`
 * holds into the directory `targetDir` holds, each as copySmall copies it, then checked, owned, its mode set and
 * renamed into place where nothing stands (engine/small-copy-batch.ts). `want` holds BATCH_WANT.length words per
 * file, `out` BATCH_OUT.length (its first COPY_OUT.length as copySmall's). Returns how many it went through.
 */
export type CopySmallBatch = (
  sourceDir: number,
  targetDir: number,
  names: readonly string[],
  tempPrefix: string,
  scratch: Uint8Array,
  want: BigInt64Array,
  out: BigInt64Array,
  racyWindowNs: number,
) => number;

/** The words copySmallBatch reads per file: the scan's identity of the source, and the owner to set and check (-1: none). */
export const BATCH_WANT = { ino: 0, size: 1, mtime: 2, ctime: 3, anyCtime: 4, chown: 5, uid: 6, gid: 7, length: 8 } as const;

/** Where copySmallBatch stopped a file beyond copySmall's stages: nothing was made, except for installedUnchecked. */
export const BatchStage = { stale: 7, owner: 8, place: 9, installedUnchecked: 10 } as const;

/** The words copySmallBatch writes per file: copySmall's (COPY_OUT), then 0 or an errno, and the installed file's fstat. */
export const BATCH_OUT = {
  result: COPY_OUT.length,
  ino: COPY_OUT.length + 1,
  ctime: COPY_OUT.length + 2,
  mtime: COPY_OUT.length + 3,
  size: COPY_OUT.length + 4,
  nlink: COPY_OUT.length + 5,
  blocks: COPY_OUT.length + 6,
  mode: COPY_OUT.length + 7,
  dev: COPY_OUT.length + 8,
  uid: COPY_OUT.length + 9,
  gid: COPY_OUT.length + 10,
  observed: COPY_OUT.length + 11,
  length: COPY_OUT.length + 12,
} as const;

/** Where an fstat's fields sit among an addon's words: COPY_OUT's source, BATCH_OUT's installed file. */
interface StatSlots {
  readonly ino: number;
  readonly ctime: number;
  readonly size: number;
  readonly mtime: number;
  readonly nlink: number;
  readonly blocks: number;
  readonly mode: number;
  readonly dev: number;
}

/** The StatId of the fstat the addon wrote into `words` from `at`, its fields where `slots` says (inode and device unsigned). */
export function statIdFromWords(words: BigInt64Array, at: number, slots: StatSlots): StatId {
  const word = (k: number): bigint => words[at + k] ?? 0n;
  return statIdFrom(
    BigInt.asUintN(64, word(slots.ino)),
    word(slots.ctime),
    Number(word(slots.size)),
    word(slots.mtime),
    Number(word(slots.nlink)),
    Number(word(slots.blocks)),
    Number(word(slots.mode)),
    BigInt.asUintN(64, word(slots.dev)),
  );
}

/** native/sync_fs.c's syncfs: syncfs(2) of the file system holding `path`, on libuv's pool; 0 or a negative errno. */
type Syncfs = (path: string | Uint8Array) => Promise<number>;

/** native/sync_fs.c's fsyncFds: fsync(2) of each descriptor in turn, in one job on libuv's pool; 0 or a negative errno each. */
type FsyncFds = (fds: Int32Array) => Promise<number[]>;

/**
 * native/dirs_ahead.c's makeDirsAhead: makes the NUL-ended relative paths of `paths` below the directory `dirFd` holds
 * (0700, missing parents too) on libuv's pool, until `cancel[0]` is set; a promise of how many paths it went through,
 * or of a negative errno where it stopped. Throws where the job cannot start.
 */
type MakeDirsAhead = (dirFd: number, paths: Uint8Array, cancel: Int32Array) => Promise<number>;

/** native/dirs_ahead.c's spreadSubdirs: sets FS_TOPDIR_FL on the directory `dirFd` holds; 0 or a negative errno. */
type SpreadSubdirs = (dirFd: number) => number;

interface Loaded {
  readonly kind: ListingKind;
  readonly lister: NativeLister | null;
  readonly dirs: DirCalls | null;
  readonly renameNoReplace: RenameNoReplace | null;
  readonly renameExchange: RenameExchange | null;
  readonly xattrSizeAt: XattrSizeAt | null;
  readonly copySmall: CopySmall | null;
  readonly copySmallBatch: CopySmallBatch | null;
  readonly syncfs: Syncfs | null;
  readonly fsyncFds: FsyncFds | null;
  readonly makeDirsAhead: MakeDirsAhead | null;
  readonly spreadSubdirs: SpreadSubdirs | null;
  readonly reader: ListReader | null;
}

let loaded: Loaded | undefined;

/**
 * Lists the directory `dirFd` holds. `probeXattrs`: each file's and directory's list of xattr names is sized too
 * (XATTR_LIST_SIZE), for a scan no index vouches for (a first sync), where the reader's thread then does that work.
 */
type NativeLister = (dirFd: number, probeXattrs?: boolean) => NativeListing;

/** Where `npm install` builds the addon: the package's build/Release, two levels above this module (dist/fs, dist/bundle or src/fs). */
export function addonPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'Release', 'tsync_native.node');
}

/** The addon, loaded once per thread. */
function load(): Loaded {
  if (loaded !== undefined) return loaded;
  const path = addonPath();
  if (!existsSync(path)) loaded = withoutAddon(`not built (no ${path})`);
  else {
    try {
      const addon = createRequire(import.meta.url)(path) as {
        listDir?: unknown;
        openDirAt?: unknown;
        closeFd?: unknown;
        lstatErrno?: unknown;
        renameNoReplace?: unknown;
        renameExchange?: unknown;
        xattrSizeAt?: unknown;
        copySmall?: unknown;
        copySmallBatch?: unknown;
        syncfs?: unknown;
        fsyncFds?: unknown;
        makeDirsAhead?: unknown;
        spreadSubdirs?: unknown;
        listAhead?: unknown;
        listTaken?: unknown;
        listDropped?: unknown;
      };
      if (typeof addon.listDir !== 'function') throw new Error('it has no listDir');
      const dirs = typeof addon.openDirAt === 'function' && typeof addon.closeFd === 'function' && typeof addon.lstatErrno === 'function' ? (addon as DirCalls) : null;
      const renameNoReplace = typeof addon.renameNoReplace === 'function' ? (addon.renameNoReplace as RenameNoReplace) : null;
      const renameExchange = typeof addon.renameExchange === 'function' ? (addon.renameExchange as RenameExchange) : null;
      const xattrSizeAt = typeof addon.xattrSizeAt === 'function' ? (addon.xattrSizeAt as XattrSizeAt) : null;
      const copySmall = typeof addon.copySmall === 'function' ? (addon.copySmall as CopySmall) : null;
      const copySmallBatch = typeof addon.copySmallBatch === 'function' ? (addon.copySmallBatch as CopySmallBatch) : null;
      const syncfs = typeof addon.syncfs === 'function' ? (addon.syncfs as Syncfs) : null;
      const fsyncFds = typeof addon.fsyncFds === 'function' ? (addon.fsyncFds as FsyncFds) : null;
      const makeDirsAhead = typeof addon.makeDirsAhead === 'function' ? (addon.makeDirsAhead as MakeDirsAhead) : null;
      const spreadSubdirs = typeof addon.spreadSubdirs === 'function' ? (addon.spreadSubdirs as SpreadSubdirs) : null;
      const reader = typeof addon.listAhead === 'function' && typeof addon.listTaken === 'function' && typeof addon.listDropped === 'function' ? readerOf(addon as AheadCalls) : null;
      loaded = {
        kind: { native: true, path },
        lister: listerOf(addon.listDir as ListDir),
        dirs,
        renameNoReplace,
        renameExchange,
        xattrSizeAt,
        copySmall,
        copySmallBatch,
        syncfs,
        fsyncFds,
        makeDirsAhead,
        spreadSubdirs,
        reader,
      };
    } catch (e) {
      // built for another Node or machine: the scan still works without it, and doctor says why
      loaded = withoutAddon(`cannot load ${path}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  return loaded;
}

/** What a thread without the addon has: none of its calls, and why. */
function withoutAddon(why: string): Loaded {
  return {
    kind: { native: false, why },
    lister: null,
    dirs: null,
    renameNoReplace: null,
    renameExchange: null,
    xattrSizeAt: null,
    copySmall: null,
    copySmallBatch: null,
    syncfs: null,
    fsyncFds: null,
    makeDirsAhead: null,
    spreadSubdirs: null,
    reader: null,
  };
}

function listerOf(listDir: ListDir): NativeLister {
  return (dirFd, probeXattrs) => listingOf(listDir(dirFd, probeXattrs === true));
}

/** listDir's answer as a NativeListing, or a ListingError thrown. */
function listingOf(r: ReturnType<ListDir>): NativeListing {
  if (typeof r === 'number') throw new ListingError(getSystemErrorName(r));
  const names = r[0].split('\0');
  names.pop(); // the last name's NUL leaves an empty string after it (or the only one, for an empty directory)
  return { names, times: r[1], numbers: r[2] };
}

function readerOf(calls: AheadCalls): ListReader {
  return {
    ahead: (fd, probeXattrs) => {
      const job = calls.listAhead(fd, probeXattrs === true);
      return typeof job === 'number' ? null : job;
    },
    taken: (job) => listingOf(calls.listTaken(job)),
    dropped: (job) => calls.listDropped(job),
  };
}

/** TSYNC_NATIVE=0, read at each walk (not once): the tests compare both listings in one process. */
function switchedOff(): boolean {
  return process.env.TSYNC_NATIVE === '0';
}

/** Which listing scans use here. */
export function listingKind(): ListingKind {
  return switchedOff() ? { native: false, why: 'off (TSYNC_NATIVE=0)' } : load().kind;
}

/** The native listing, or null where scans go through Node's fs (see the file's comment). */
export function nativeLister(): NativeLister | null {
  return switchedOff() ? null : load().lister;
}

/**
 * Listings read ahead on the addon's thread, or null where scans do not use them: no addon, TSYNC_NATIVE=0, or
 * TSYNC_LIST_AHEAD=0 (a testing switch, to compare a walk with and without them).
 */
export function nativeListReader(): ListReader | null {
  return switchedOff() || process.env.TSYNC_LIST_AHEAD === '0' ? null : load().reader;
}

/**
 * Directories opened with openat(2) on their parent's descriptor and closed by the addon, or null where it is not in
 * use (then a path through /proc/self/fd does the same, engine/dir-anchors.ts). A failure throws an error with the
 * errno's name as its code, as Node's fs calls do.
 */
export function nativeDirOpener(): NativeDirOpener | null {
  if (switchedOff()) return null;
  const dirs = load().dirs;
  if (dirs === null) return null;
  return {
    open: (dirFd, name) => {
      const fd = dirs.openDirAt(dirFd, name);
      if (fd < 0) throw new DirCallError(getSystemErrorName(fd), 'open');
      return fd;
    },
    openIfThere: (dirFd, name) => {
      const fd = dirs.openDirAt(dirFd, name);
      if (fd === -ENOENT) return false;
      if (fd < 0) throw new DirCallError(getSystemErrorName(fd), 'open');
      return fd;
    },
    close: (fd) => {
      const r = dirs.closeFd(fd);
      if (r < 0) throw new DirCallError(getSystemErrorName(r), 'close');
    },
  };
}

/**
 * Whether lstat(2) of `path` (a binary string) fails with ENOENT, through the addon: what Node's lstatSync with
 * `throwIfNoEntry: false` answers with undefined, at a fraction of its cost. Null where the addon is not in use.
 */
export function nativeNoEntry(): ((path: string) => boolean) | null {
  if (switchedOff()) return null;
  const dirs = load().dirs;
  if (dirs === null) return null;
  return (path) => dirs.lstatErrno(path) === -ENOENT;
}

/**
 * syncfs(2) of the file system holding `path`, made on libuv's pool (native/sync_fs.c): 0 or a negative errno. Null
 * where the addon is not in use (fs/flush.ts then runs `sync -f`).
 */
export function nativeSyncfs(): Syncfs | null {
  return switchedOff() ? null : load().syncfs;
}

/** The addon's makeDirsAhead, or null (no addon, or TSYNC_NATIVE=0): then every directory is made where it is needed. */
export function nativeMakeDirsAhead(): MakeDirsAhead | null {
  return switchedOff() ? null : load().makeDirsAhead;
}

/** The addon's spreadSubdirs, or null (no addon, or TSYNC_NATIVE=0): then the trash folder goes without the flag. */
export function nativeSpreadSubdirs(): SpreadSubdirs | null {
  return switchedOff() ? null : load().spreadSubdirs;
}

/** The addon's fsyncFds, or null (no addon, or TSYNC_NATIVE=0): then each descriptor goes to the pool by itself. */
export function nativeFsyncFds(): FsyncFds | null {
  return switchedOff() ? null : load().fsyncFds;
}

/** The outcome of renameNoReplace: done, something stands at the target, or the flag is not supported there. */
export type NoReplaceOutcome = 'renamed' | 'exists' | 'unsupported';

/**
 * Kernels and file systems without RENAME_NOREPLACE say so with one of these (renameat2(2)); a seccomp filter that does
 * not know renameat2 answers ENOSYS or EPERM. The link(2) way that follows meets any real EPERM again and reports it.
 */
const NO_FLAG: ReadonlySet<string> = new Set(['EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM']);

/** A call of the addon that failed, with the errno's name as its code and the call as its syscall, as Node's fs errors have. */
export class NativeCallError extends Error {
  constructor(
    readonly code: string,
    readonly syscall: string,
  ) {
    super(`${code}: ${syscall} failed`);
  }
}

/**
 * Renames `from` to `to` unless something stands at `to` (renameat2(2) with RENAME_NOREPLACE), in one atomic call;
 * null where the addon is not in use. 'unsupported' where the kernel or file system lacks the flag (nothing was
 * renamed); any other failure throws a NativeCallError.
 */
export function nativeRenameNoReplace(): ((from: Uint8Array, to: Uint8Array) => NoReplaceOutcome) | null {
  if (switchedOff()) return null;
  const rename = load().renameNoReplace;
  if (rename === null) return null;
  noReplace ??= (from, to) => outcomeOf(rename(from, to));
  return noReplace;
}

let noReplace: ((from: Uint8Array, to: Uint8Array) => NoReplaceOutcome) | undefined;

function outcomeOf(r: number): NoReplaceOutcome {
  return renameOutcome(r, 'renamed', 'EEXIST', 'exists');
}

/** A renameat2(2) call's answer `r`: `done`, `expected` for the one errno its caller handles, 'unsupported' (NO_FLAG); else a NativeCallError. */
function renameOutcome<Done extends string, Expected extends string>(r: number, done: Done, errno: string, expected: Expected): Done | Expected | 'unsupported' {
  if (r === 0) return done;
  const code = getSystemErrorName(r);
  if (code === errno) return expected;
  if (NO_FLAG.has(code)) return 'unsupported';
  throw new NativeCallError(code, 'rename');
}

/** The outcome of renameExchange: done, one of the two names missing (nothing changed), or the flag not supported there. */
export type ExchangeOutcome = 'exchanged' | 'missing' | 'unsupported';

/**
 * Swaps the names `a` and `b` in one atomic call (renameat2(2) with RENAME_EXCHANGE); null where the addon is not in
 * use. 'missing' where either name is gone (ENOENT: nothing changed), 'unsupported' where the kernel or file system
 * lacks the flag (as for RENAME_NOREPLACE); any other failure throws a NativeCallError.
 */
export function nativeRenameExchange(): ((a: Uint8Array, b: Uint8Array) => ExchangeOutcome) | null {
  if (switchedOff()) return null;
  const exchange = load().renameExchange;
  if (exchange === null) return null;
  swap ??= (a, b) => exchangeOutcomeOf(exchange(a, b));
  return swap;
}

let swap: ((a: Uint8Array, b: Uint8Array) => ExchangeOutcome) | undefined;

function exchangeOutcomeOf(r: number): ExchangeOutcome {
  return renameOutcome(r, 'exchanged', 'ENOENT', 'missing');
}

/**
 * Whether the entry `name` (a binary string) in the directory `dirFd` holds has no extended attributes at all, never
 * looking through a symlink: true only when its list of names is empty; false when it has some, or the answer is an
 * error (the entry gone, a file system without xattrs: the caller then reads them the usual way and meets the error
 * there). One system call, relative to the descriptor (listxattrat(2), or llistxattr(2) through /proc before Linux
 * 6.13). Null where the addon is not in use.
 */
export function nativeNoXattrs(): NoXattrs | null {
  if (switchedOff()) return null;
  const sizeAt = load().xattrSizeAt;
  if (sizeAt === null) return null;
  noXattrs ??= (dirFd, name, throughProc) => sizeAt(dirFd, name, throughProc === true) === 0;
  return noXattrs;
}

/** `throughProc`: the way a kernel without listxattrat(2) goes (llistxattr(2) through /proc), for the tests. */
export type NoXattrs = (dirFd: number, name: string, throughProc?: boolean) => boolean;

let noXattrs: NoXattrs | undefined;

/**
 * A small file's copy up to its temp file in one call (native/copy_small.c, engine/copy-file.ts copySmallFile), or null
 * where the addon is not in use: then the copy makes the same calls through Node's fs.
 */
export function nativeCopySmall(): NativeSmallCopy | null {
  if (switchedOff()) return null;
  const { copySmall, dirs } = load();
  if (copySmall === null || dirs === null) return null;
  smallCopy ??= {
    copy: copySmall,
    close: (fd) => {
      const r = dirs.closeFd(fd);
      if (r < 0) throw new NativeCallError(getSystemErrorName(r), 'close');
    },
  };
  return smallCopy;
}

/**
 * copySmall, and the close of the descriptor it hands back: Node warns when its closeSync meets a descriptor that its
 * own open did not make, so the addon that opened it closes it.
 */
export interface NativeSmallCopy {
  readonly copy: CopySmall;
  readonly close: (fd: number) => void;
}

let smallCopy: NativeSmallCopy | undefined;

/** copySmallBatch (engine/small-copy-batch.ts), or null where the addon is not in use: then each file is copied on its own. */
export function nativeCopySmallBatch(): CopySmallBatch | null {
  return switchedOff() ? null : load().copySmallBatch;
}
