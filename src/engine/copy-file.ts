import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  openSync,
  readSync,
  linkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fsPromises } from '../fs/lazy-promises.js';
import { isRacy } from '../core/stat-cache.js';
import type { Entry, Expectation, OwnerMeta, ScannedEntry, StatId, XattrMeta } from '../core/types.js';
import { COPY_OUT, CopySmallStage, NativeCallError, nativeCopySmall, nativeRenameExchange, nativeRenameNoReplace, type NativeSmallCopy, statIdFromWords } from '../fs/native-listing.js';
import { getSystemErrorName } from 'node:util';
import { errCode, isSparse, nowNs, statIdOf } from '../fs/stat.js';
import { hashBytes, hasherLoaded, hexOf, loadHasher, streamingHash, type StreamingHash } from '../hash/xxhash.js';
import { assertExpected, StaleTargetError } from './guards.js';
import { keptName, tempName } from '../fs/temp-name.js';
import { enterDirOf } from '../fs/work-dir.js';
import { anchoredPaths } from './dir-anchors.js';
import { sparseCopy, writeSkippingZeros } from './sparse-copy.js';
import { copyInto, makeStage, type Stage } from './staged-copy.js';

/** The source could not be opened: a problem of the side copied from, not of the target. */
export class SourceReadError extends Error {
  constructor(
    message: string,
    readonly errno: string,
  ) {
    super(message);
  }
}

/**
 * Why a source could not be opened (errno `code`), as every copy and read of a source says it: a symlink where the
 * scan saw a file (O_NOFOLLOW's ELOOP) is stale, anything else a problem of the side copied from.
 */
export function sourceOpenError(label: string, code: string): Error {
  return code === 'ELOOP' ? new StaleTargetError(`${label}: the source became a symlink since the scan`) : new SourceReadError(`${label}: cannot read (${code})`, code);
}

/** The source changed while it was read: the copy is thrown away and the path is not recorded. */
export class SourceChangedError extends Error {
  readonly code = 'SOURCE_CHANGED';
}

export interface CopyRequest {
  readonly sourceAbs: Buffer;
  readonly targetDirAbs: Buffer;
  readonly targetAbs: Buffer;
  readonly source: ScannedEntry;
  readonly expect: Expectation;
  /** For messages. */
  readonly label: string;
  /** Called right before the rename: the last chance to refuse (ancestor checks). */
  readonly beforeRename: () => void;
  /** Called after the target was checked, right before the rename replaces it: keep the old version. */
  readonly keepReplaced: () => void;
  /** How recent a source ctime must be to count as racy (0 on file systems with fine-grained ctimes). */
  readonly sourceRacyWindowNs: bigint;
  /** Sets owner, group and xattrs on the temp file (before its mode and mtime); returns what it set. */
  readonly applyMeta?: (tmpFd: number, tmpAbs: Buffer) => OwnerMeta & XattrMeta;
}

export interface CopyResult {
  readonly entry: Entry;
  readonly source: ScannedEntry;
  readonly target: ScannedEntry;
  readonly bytes: number;
}

const SLASH = Buffer.of(0x2f);

/**
 * Files up to this size are copied with synchronous calls: for small files the cost is the calls
 * themselves, and a promise round trip through the thread pool per call costs several times the
 * syscall (measured: bench/README.md). Larger files are copied by the kernel (copyLargeFile).
 */
export const SMALL_FILE_MAX = 1 << 20;
const PIPE_CHUNK = 2 << 20;

/** One buffer for all synchronous copies: nothing else runs while a synchronous copy does. */
const smallBuffer = Buffer.allocUnsafe(SMALL_FILE_MAX + 1);

/** That buffer, for the batched small copies (small-copy-batch.ts): each batch runs between two of these copies, never in one. */
export function smallCopyScratch(): Buffer {
  return smallBuffer;
}

/**
 * Copies a regular file atomically: the bytes go to a 0600 temp file in the target's directory while
 * being hashed, mode and times are set on the temp file, and only then is it renamed over the target.
 * A crash at any instant leaves the old file or the new one at the final path, never a mix.
 *
 * The source is opened once (O_NOFOLLOW) and checked against the scan before reading (changed since:
 * stale) and by fstat after reading (changed meanwhile: SourceChangedError). When its ctime is too
 * recent for a coarse kernel clock to prove anything (see stat-cache.ts) it is read a second time and
 * must hash the same.
 */
export function copyFileAtomic(req: CopyRequest): Promise<CopyResult> {
  // Every copy hashes what it copies. The engine loads the hasher before a plan with copies starts, so a
  // small copy still runs to its rename without yielding (the order of the writes stays as planned).
  if (!hasherLoaded()) return loadHasher().then(() => copyNow(req));
  return copyNow(req);
}

async function copyNow(req: CopyRequest): Promise<CopyResult> {
  return req.source.entry.kind === 'file' && req.source.entry.size <= SMALL_FILE_MAX ? copySmallFile(req) : copyLargeFile(req);
}

function openSource(req: CopyRequest): { fd: number; before: BigIntStats; observedAt: bigint } {
  let fd: number;
  try {
    fd = openSync(req.sourceAbs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw sourceOpenError(req.label, errCode(e));
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    const observedAt = nowNs();
    if (!before.isFile() || !sameSource(statIdOf(before), req.source.stat)) throw new StaleTargetError(`${req.label}: the source changed since the scan`);
    return { fd, before, observedAt };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function copySmallFile(req: CopyRequest): CopyResult {
  const native = nativeCopySmall();
  if (native !== null) {
    const copied = copySmallNatively(req, native);
    if (copied !== null) return copied;
  }
  const { fd: src, before, observedAt } = openSource(req);
  try {
    // Read the size fstat gave (one read for nearly every file), without a further read to see EOF: a
    // file that grows or shrinks meanwhile changes its size or ctime, which the fstat after the write
    // sees (and a racy ctime makes the whole file be read again below).
    const size = Number(before.size);
    let n = 0;
    while (n < size) {
      const got = readSync(src, smallBuffer, n, smallBuffer.length - n, n);
      if (got === 0) break;
      n += got;
      if (n === smallBuffer.length) throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
    }
    const data = smallBuffer.subarray(0, n);
    const hash = hashBytes(data);
    const settled = (): void => {
      if (changedSince(fstatSync(src, { bigint: true }), before)) throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
      if (isRacy(before.ctimeNs, observedAt, req.sourceRacyWindowNs)) {
        const m = readSync(src, smallBuffer, 0, smallBuffer.length, 0);
        if (hashBytes(smallBuffer.subarray(0, m)) !== hash || changedSince(fstatSync(src, { bigint: true }), before)) {
          throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
        }
      }
    };
    return installTemp(req, before, hash, n, (tmp) => {
      if (isSparse(before)) {
        // like `cp --sparse=auto`: a source with holes gets holes where its blocks are all zero
        writeSkippingZeros(data, (from, to) => {
          let off = from;
          while (off < to) off += writeSync(tmp, data, off, to - off, off);
        });
        ftruncateSync(tmp, n);
      } else {
        let off = 0;
        while (off < n) off += writeSync(tmp, data, off, n - off, off);
      }
      settled();
    });
  } finally {
    closeSync(src);
  }
}

/** copySmall's answers (native/copy_small.c): one array per thread, filled by each call. */
const copyOut = new BigInt64Array(COPY_OUT.length);

/**
 * copySmallFile's calls up to the temp file made in one call of the addon (native/copy_small.c: open, fstat, read,
 * hash, create, write, fstat again, the racy re-read, the times), then the same ending as installTemp: owner and
 * xattrs, mode, the checks and the rename. Null where the addon leaves the file to the JavaScript copy (holes to
 * keep, or grown past the buffer since the scan): nothing was made then. The source's stat is checked against the
 * scan after the call rather than before the read: a source changed since the scan leaves nothing behind either (the
 * temp file is removed) and is stale as before.
 */
function copySmallNatively(req: CopyRequest, native: NativeSmallCopy): CopyResult | null {
  const site = installSite(req);
  const out = copyOut;
  for (let attempt = 0; ; attempt++) {
    const tmpAbs = Buffer.concat([site.dirAbs, SLASH, Buffer.from(tempName(), 'latin1')]);
    const fd = native.copy(req.sourceAbs, tmpAbs, smallBuffer, out, Number(req.sourceRacyWindowNs));
    if (fd >= 0) return installCopied(req, site, tmpAbs, fd, out, native);
    const stage = Number(out[COPY_OUT.stage]);
    const code = getSystemErrorName(fd);
    // a name taken (a stale leftover): another one, as createTemp does
    if (stage === CopySmallStage.createTemp && code === 'EEXIST' && attempt < 16) continue;
    if (stage === CopySmallStage.notHere) return null;
    throw copyFailure(req, stage, code, out);
  }
}

/** The error of a native copy that stopped at `stage` (copySmallNatively), as the JavaScript copy throws it at the same point. */
function copyFailure(req: CopyRequest, stage: number, code: string, out: BigInt64Array): Error {
  if (stage === CopySmallStage.openSource) return sourceOpenError(req.label, code);
  if (stage === CopySmallStage.notAFile || (stage === CopySmallStage.changed && !sameSource(sourceStatOf(out), req.source.stat))) {
    return new StaleTargetError(`${req.label}: the source changed since the scan`);
  }
  if (stage === CopySmallStage.changed) return new SourceChangedError(`${req.label}: the source changed while it was copied`);
  return new NativeCallError(code, stage === CopySmallStage.createTemp ? 'open' : 'copy');
}

/** The source's stat as copySmall's fstat gave it. */
function sourceStatOf(out: BigInt64Array): StatId {
  return statIdFromWords(out, 0, COPY_OUT);
}

/** installTemp's ending for the temp file copySmall wrote (descriptor `tmp`, times set): owner, xattrs, mode, then the checks and the rename. */
function installCopied(req: CopyRequest, site: InstallSite, tmpAbs: Buffer, tmp: number, out: BigInt64Array, native: NativeSmallCopy): CopyResult {
  let keep = false;
  try {
    const source = sourceStatOf(out);
    if (!sameSource(source, req.source.stat)) throw new StaleTargetError(`${req.label}: the source changed since the scan`);
    const hash = hexOf(BigInt.asUintN(64, out[COPY_OUT.hash] ?? 0n));
    const bytes = Number(out[COPY_OUT.bytes]);
    const mode = Number(out[COPY_OUT.mode]) & 0o7777;
    // the times are set already: neither a chown, an xattr nor a chmod moves them (only the ctime)
    const meta = req.applyMeta?.(tmp, tmpAbs) ?? {};
    fchmodSync(tmp, mode);
    const result = finish(req, site, tmpAbs, source, mode, hash, bytes, meta, () => ownedAsRecorded(tmp, meta, mode, fstatSync(tmp, { bigint: true })));
    keep = true;
    return result;
  } finally {
    native.close(tmp);
    if (!keep) discardTemp(tmpAbs);
  }
}

/**
 * Large files are copied by the kernel (fs.copyFile: copy_file_range on Linux, no trip through user
 * space) from the open source, reached as `/proc/self/fd/N` (that magic link names the very file opened
 * with O_NOFOLLOW, so no name is resolved again), into a new file that the copy creates in a private
 * stage (staged-copy.ts says why it must create it). The new file is then hashed from the page cache: the
 * hash recorded is of the bytes installed. Measured on 4 x 256 MiB copied at once (2 cores, ext4): about
 * 0.7 s of system time, against 1.7 s or more for a read/hash/write pipeline through user space.
 * Where /proc is missing, the pipeline remains.
 */
async function copyLargeFile(req: CopyRequest): Promise<CopyResult> {
  const src = await fsPromises()
    .open(req.sourceAbs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    .catch((e: unknown) => {
      throw sourceOpenError(req.label, errCode(e));
    });
  try {
    const before = await src.stat({ bigint: true });
    const observedAt = nowNs();
    if (!before.isFile() || !sameSource(statIdOf(before), req.source.stat)) throw new StaleTargetError(`${req.label}: the source changed since the scan`);
    // The kernel copy fills holes in (measured on ext4, Node 20: a 100 MiB file with 12 KiB of data
    // came out with all 100 MiB allocated), so a sparse source is copied by a loop that skips zero blocks.
    const byKernel = anchoredPaths && !isSparse(before);
    let tmpAbs: Buffer;
    let tmp: FileHandle;
    let stage: Stage | null = null;
    if (byKernel) {
      const made = makeStage(req.targetDirAbs, req.label);
      stage = made;
      tmpAbs = made.fileAbs;
      tmp = await copyInto(made, src.fd);
    } else {
      const created = createTemp(req.targetDirAbs);
      tmpAbs = created.tmpAbs;
      // O_NOFOLLOW: a symlink planted at the temp name in the meantime is refused, not written through
      tmp = await fsPromises()
        .open(tmpAbs, constants.O_RDWR | constants.O_NOFOLLOW)
        .finally(() => closeSync(created.fd));
    }
    let keep = false;
    try {
      const { hash, bytes } = byKernel ? await hashAndSize(tmp) : isSparse(before) ? await sparseCopy(src, tmp) : await pipe(src, tmp);
      if (bytes !== Number(before.size) || changedSince(await src.stat({ bigint: true }), before)) throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
      if (isRacy(before.ctimeNs, observedAt, req.sourceRacyWindowNs) && ((await hashHandle(src)) !== hash || changedSince(await src.stat({ bigint: true }), before))) {
        throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
      }
      const meta = req.applyMeta?.(tmp.fd, tmpAbs) ?? {};
      await tmp.chmod(Number(before.mode) & 0o7777);
      await tmp.utimes(secondsOf(before.atimeNs), secondsOf(before.mtimeNs));
      await tmp.close();
      const result = finish(req, req, tmpAbs, statIdOf(before), Number(before.mode) & 0o7777, hash, bytes, meta);
      keep = true;
      return result;
    } finally {
      if (!keep) {
        await tmp.close().catch(() => undefined);
        if (stage === null) discardTemp(tmpAbs);
      }
      // after an install the staged name is gone, and the stage is empty
      stage?.remove();
    }
  } finally {
    await src.close();
  }
}

/** Writes the temp file with `write`, then sets mode and times and renames it into place. */
function installTemp(req: CopyRequest, before: BigIntStats, hash: string, bytes: number, write: (tmpFd: number) => void): CopyResult {
  // everything from here to the rename is synchronous, so it may name the target's entries by bare names
  const site = installSite(req);
  const { tmpAbs, fd: tmp } = createTemp(site.dirAbs);
  let keep = false;
  try {
    write(tmp);
    // owner first: a chown clears setuid/setgid, which the chmod after it sets again; the mtime last
    const meta = req.applyMeta?.(tmp, tmpAbs) ?? {};
    fchmodSync(tmp, Number(before.mode) & 0o7777);
    futimesSync(tmp, secondsOf(before.atimeNs), secondsOf(before.mtimeNs));
    // the descriptor stays open over the rename: what was installed is then one fstat away, with no
    // second walk of the target's name (the rename changes the file's ctime, so it is read after it)
    const mode = Number(before.mode) & 0o7777;
    const result = finish(req, site, tmpAbs, statIdOf(before), mode, hash, bytes, meta, () => ownedAsRecorded(tmp, meta, mode, fstatSync(tmp, { bigint: true })));
    keep = true;
    return result;
  } finally {
    closeSync(tmp);
    if (!keep) {
      discardTemp(tmpAbs);
    }
  }
}

/**
 * The installed file's stat `st`, once its owner and group are what `meta` records: applyMeta may leave
 * out a chown where a fresh file of that directory already had them (apply-meta.ts applyToTempFile), and
 * a guess that did not hold (the directory was made setgid meanwhile) is put right here, on the same
 * descriptor. Setuid and setgid files are never guessed, so nothing dangerous stood there meanwhile.
 */
export function ownedAsRecorded(fd: number, meta: OwnerMeta, mode: number, st: BigIntStats): BigIntStats {
  const uidOk = meta.uid === undefined || st.uid === BigInt(meta.uid);
  const gidOk = meta.gid === undefined || st.gid === BigInt(meta.gid);
  if (uidOk && gidOk) return st;
  fchownSync(fd, meta.uid ?? -1, meta.gid ?? -1);
  fchmodSync(fd, mode); // a chown may clear the mode's setuid and setgid bits
  return fstatSync(fd, { bigint: true });
}

/** Removes a temp file that will not be installed (it may be gone already). */
export function discardTemp(tmpAbs: Buffer): void {
  try {
    const ours = swappedTemps.get(tmpAbs);
    if (ours !== undefined && lstatSync(tmpAbs, { bigint: true, throwIfNoEntry: false })?.ino !== ours) return; // not ours (exchangeIntoPlace): never removed
    unlinkSync(tmpAbs);
  } catch {
    // already gone
  }
}

/** What the last steps before a rename need: the parents' check, the stale check, and keeping the old version. */
export interface RenameGuard {
  readonly targetAbs: Buffer;
  readonly expect: Expectation;
  readonly label: string;
  readonly beforeRename: () => void;
  readonly keepReplaced: () => void;
  /** Set when `targetAbs` is a bare name: the directory (its descriptor path) it is a name in. */
  readonly enteredDir?: Buffer;
}

/**
 * The last checks and the rename over the target: every install (copy, stream, symlink) ends here. Where the
 * target was expected absent, nothing is renamed over: placeNew.
 */
export function renameIntoPlace(req: RenameGuard, tmpAbs: Buffer): void {
  req.beforeRename();
  stillInside(req);
  if (req.expect === null) {
    placeNew(tmpAbs, req.targetAbs, req.label);
    return;
  }
  assertExpected(req.targetAbs, req.expect, req.label);
  req.keepReplaced();
  stillInside(req);
  if (exchangeIntoPlace(tmpAbs, req.targetAbs, req.expect, req.label)) return;
  renameSync(tmpAbs, req.targetAbs);
}

/**
 * Puts the temp file at the target by swapping the two names (renameat2(2) with RENAME_EXCHANGE, through the addon),
 * then looks at what came out: rename(2) over the target would destroy whatever stood there at that instant, and
 * between the stale check and the rename someone may have put a new file there by rename (an editor's save, another
 * tool's copy), which would be lost without a trace. Swapped, it stands at the temp name. When it is the file the
 * check passed (same inode, kind, size and mtime; not the ctime, which keepReplaced's link into the trash changes),
 * that name is removed: the same end as a rename over it. Anything else is put back at the target by a second swap,
 * and the install fails as stale (the caller drops the temp file): the next run sees the new file and decides.
 * Should a third file have landed at the target between the two swaps, the temp name holds it afterwards; it is then
 * given a name that no run removes (keptAside), never unlinked. An in-place rewrite of the checked file in the last
 * instant is kept as before: the trash's link is the same inode. False where the addon or the file system cannot
 * swap names (a directory expected there, TSYNC_NATIVE=0, a kernel or file system without the flag): the caller
 * renames, and keeps that instant (docs/RELIABILITY.md).
 */
export function exchangeIntoPlace(tmpAbs: Buffer, targetAbs: Buffer, expect: NonNullable<Expectation>, label: string): boolean {
  const exchange = nativeRenameExchange();
  // a directory is never renamed over (rename(2) refuses it): swapped, it would stand at a temp name
  if (exchange === null || expect.kind === 'dir') return false;
  const ours = lstatSync(tmpAbs, { bigint: true }).ino;
  const outcome = exchange(tmpAbs, targetAbs);
  if (outcome === 'unsupported') return false;
  swappedTemps.set(tmpAbs, ours);
  if (outcome === 'missing') {
    // the target went away after the check (the temp name is ours, and there): take the free name without replacing anything
    placeNew(tmpAbs, targetAbs, label);
    return true;
  }
  const out = lstatSync(tmpAbs, { bigint: true, throwIfNoEntry: false });
  if (out === undefined) return true; // removed meanwhile by someone else: nothing of theirs to keep
  if (isChecked(out, expect)) {
    // the checked file's name, as a rename over it would have ended it (keepReplaced's link, if any, keeps the file)
    try {
      unlinkSync(tmpAbs);
    } catch {
      // gone already; a name that cannot be removed now is a leftover the next scan removes
    }
    return true;
  }
  // someone's file, put there since the check: back where it was, and ours out again
  try {
    exchange(tmpAbs, targetAbs);
  } finally {
    const back = lstatSync(tmpAbs, { bigint: true, throwIfNoEntry: false });
    if (back !== undefined && back.ino !== ours) keptAside(tmpAbs, label);
  }
  throw new StaleTargetError(`${label} was replaced since the scan`);
}

/**
 * Temp names an exchange swapped (exchangeIntoPlace), with the inode of the temp file made under each: such a name
 * may hold someone else's file afterwards, and discardTemp removes it only while it holds ours.
 */
const swappedTemps = new WeakMap<Buffer, bigint>();

/** Whether `st` is the entry the stale check passed: its inode, kind, size and mtime (its ctime moves when the trash links it). */
function isChecked(st: BigIntStats, expect: NonNullable<Expectation>): boolean {
  const kind = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'special';
  return kind === expect.kind && st.ino === expect.ino && st.mtimeNs === expect.mtimeNs && Number(st.size) === expect.size;
}

/**
 * A file someone put at the target while this install swapped names twice, now at the temp name: a temp name is
 * removed by the next scan (a leftover), so it takes a name of tsync's own that no run removes or syncs, beside the
 * target, and the error says where. Never overwrites: the name is a fresh one, taken without replacing anything.
 */
function keptAside(tmpAbs: Buffer, label: string): never {
  const slash = tmpAbs.lastIndexOf(0x2f);
  const kept = Buffer.concat([tmpAbs.subarray(0, slash + 1), Buffer.from(keptName(), 'latin1')]);
  placeNew(tmpAbs, kept, label);
  throw new StaleTargetError(`${label} was replaced twice while it was installed; the other version is kept as ${kept.subarray(slash + 1).toString('latin1')} beside it`);
}

/** What link(2) answers on a file system that has no hard links (vfat, exFAT, some FUSE and network ones). */
const NO_HARD_LINKS: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Gives the temp file (or link) the target's name where the scan found nothing, without replacing anything: rename(2)
 * would replace a file made at that name after the last check (someone's new work, lost without a trace). Where the
 * addon is in use, renameat2(2) with RENAME_NOREPLACE does it in one atomic call (fs/native-listing.ts). Otherwise, or
 * where the kernel or file system lacks that flag, link(2), which refuses with EEXIST, then the temp name's removal:
 * two calls, and a crash between them leaves two names of one inode (the next scan removes the temp name as a
 * leftover). A file system without hard links gets a check and a rename, and the instant between them.
 */
export function placeNew(tmpAbs: Buffer, targetAbs: Buffer, label: string): void {
  const noReplace = nativeRenameNoReplace();
  const outcome = noReplace === null ? 'unsupported' : noReplace(tmpAbs, targetAbs);
  if (outcome === 'exists') throw new StaleTargetError(`${label} appeared since the scan`);
  if (outcome === 'renamed') return;
  try {
    linkSync(tmpAbs, targetAbs);
  } catch (e) {
    const code = errCode(e);
    if (code === 'EEXIST') throw new StaleTargetError(`${label} appeared since the scan`);
    if (!NO_HARD_LINKS.has(code)) throw e;
    assertExpected(targetAbs, null, label);
    renameSync(tmpAbs, targetAbs);
    return;
  }
  // a temp name that cannot be removed now is a leftover the next scan removes
  discardTemp(tmpAbs);
}

/**
 * Bare names mean the directory entered (installSite): should a callback have moved the working directory
 * meanwhile (nothing does today; a walk says so to work-dir.ts), it is entered again before a name is used.
 */
function stillInside(req: RenameGuard): void {
  if (req.enteredDir !== undefined && !enterDirOf(req.enteredDir)) throw new StaleTargetError(`${req.label}: its directory could not be entered again`);
}

const DOT = Buffer.of(0x2e);

/** Where a synchronous install names its temp file and its target, and the checks before its rename. */
export interface InstallSite extends RenameGuard {
  readonly dirAbs: Buffer;
}

/**
 * Bare names from inside the target's directory when the working directory can be moved there (fs/work-dir.ts:
 * one resolution of the descriptor's link for every file installed there, instead of four per file), else the
 * descriptor paths. Only for code that runs to its rename without yielding: a bare name means nothing later.
 */
export function installSite(req: RenameGuard & { readonly targetDirAbs: Buffer }): InstallSite {
  const dir = req.targetDirAbs;
  const target = req.targetAbs;
  const bare = target.length > dir.length + 1 && target[dir.length] === 0x2f && target.indexOf(0x2f, dir.length + 1) === -1 && dir.equals(target.subarray(0, dir.length)) && enterDirOf(dir);
  if (!bare) return { dirAbs: dir, targetAbs: target, expect: req.expect, label: req.label, beforeRename: req.beforeRename, keepReplaced: req.keepReplaced };
  return { dirAbs: DOT, targetAbs: target.subarray(dir.length + 1), expect: req.expect, label: req.label, beforeRename: req.beforeRename, keepReplaced: req.keepReplaced, enteredDir: dir };
}

/** A new 0600 temp file in the target's directory; a name that is taken (a stale leftover) is skipped. */
export function createTemp(dirAbs: Buffer): { tmpAbs: Buffer; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const tmpAbs = Buffer.concat([dirAbs, SLASH, Buffer.from(tempName(), 'latin1')]);
    try {
      return { tmpAbs, fd: openSync(tmpAbs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600) };
    } catch (e) {
      if (errCode(e) !== 'EEXIST' || attempt >= 16) throw e;
    }
  }
}

/** The last checks and the rename (naming the target as `guard` does); returns what now stands at both ends. */
function finish(
  req: CopyRequest,
  guard: RenameGuard,
  tmpAbs: Buffer,
  sourceStat: StatId,
  mode: number,
  hash: string,
  bytes: number,
  meta: OwnerMeta & XattrMeta,
  statInstalled = (): BigIntStats => lstatSync(guard.targetAbs, { bigint: true }),
): CopyResult {
  renameIntoPlace(guard, tmpAbs);
  const after = statInstalled();
  const entry: Entry = { kind: 'file', size: bytes, mtimeNs: sourceStat.mtimeNs, mode, hash, ...meta };
  return {
    entry,
    // the source was checked to be the inode scanned (sameStat, before the copy): its scanned stat, shared,
    // keeps no second set of BigInts per file in the base records until the run's end (issue 11, memory)
    source: { entry, stat: sameStat(sourceStat, req.source.stat) ? req.source.stat : sourceStat, observedAtNs: nowNs() },
    target: { entry, stat: statIdOf(after), observedAtNs: nowNs() },
    bytes,
  };
}

/**
 * Streams a large file through XXH64 into the temp file with three buffers in flight: while one chunk
 * is hashed on the main thread, the next is read and the previous written on the thread pool.
 */
async function pipe(src: FileHandle, dst: FileHandle): Promise<{ hash: string; bytes: number }> {
  const h = streamingHash();
  const bufs = [Buffer.allocUnsafe(PIPE_CHUNK), Buffer.allocUnsafe(PIPE_CHUNK), Buffer.allocUnsafe(PIPE_CHUNK)];
  // A write that fails (ENOSPC, EIO) must not reject unobserved: that would end the process before the
  // temp file is cleaned up. Each write's failure is caught at once and rethrown by the loop.
  const failed: { error?: unknown; happened: boolean } = { happened: false };
  const writes: Promise<void>[] = [Promise.resolve(), Promise.resolve(), Promise.resolve()];
  let pos = 0;
  let i = 0;
  let reading = src.read(bufs[0] as Buffer, 0, PIPE_CHUNK, 0);
  try {
    for (;;) {
      const { bytesRead } = await reading;
      if (failed.happened) throw failed.error;
      if (bytesRead === 0) break;
      const cur = bufs[i % 3] as Buffer;
      const next = (i + 1) % 3;
      await writes[next]; // the buffer about to be refilled must be written out first
      if (failed.happened) throw failed.error;
      reading = src.read(bufs[next] as Buffer, 0, PIPE_CHUNK, pos + bytesRead);
      const chunk = cur.subarray(0, bytesRead);
      h.update(chunk);
      writes[i % 3] = writeAll(dst, chunk, pos).catch((error: unknown) => {
        if (!failed.happened) Object.assign(failed, { happened: true, error });
      });
      pos += bytesRead;
      i++;
    }
    await Promise.all(writes);
    if (failed.happened) throw failed.error;
    return { hash: h.digestHex(), bytes: pos };
  } finally {
    // on the way out early, let whatever is still in flight settle quietly before the handles close
    await Promise.allSettled([reading, ...writes]);
  }
}

async function writeAll(dst: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await dst.write(chunk, off, chunk.length - off, position + off);
    off += bytesWritten;
  }
}

export async function hashHandle(fh: FileHandle): Promise<string> {
  return (await hashAndSize(fh)).hash;
}

/** XXH64 of an open file from its start, reading the next chunk while the current one is hashed. */
async function hashAndSize(fh: FileHandle): Promise<{ hash: string; bytes: number }> {
  const h: StreamingHash = streamingHash();
  const bufs: readonly Buffer[] = [Buffer.allocUnsafe(PIPE_CHUNK), Buffer.allocUnsafe(PIPE_CHUNK)];
  let pos = 0;
  let i = 0;
  let reading = fh.read(bufs[0] as Buffer, 0, PIPE_CHUNK, 0);
  try {
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const cur = bufs[i % 2] as Buffer;
      reading = fh.read(bufs[(i + 1) % 2] as Buffer, 0, PIPE_CHUNK, pos + bytesRead);
      h.update(cur.subarray(0, bytesRead));
      pos += bytesRead;
      i++;
    }
  } finally {
    // an early exit (a hash that throws) must not leave a read in flight on a handle about to close
    await reading.catch(() => undefined);
  }
  return { hash: h.digestHex(), bytes: pos };
}

export interface SymlinkRequest {
  readonly targetDirAbs: Buffer;
  readonly targetAbs: Buffer;
  readonly linkTarget: Buffer;
  readonly mtimeNs: bigint;
  readonly expect: Expectation;
  readonly label: string;
  readonly beforeRename: () => void;
  readonly keepReplaced: () => void;
  /** Sets owner and group on the temp link (lchown); returns what it set. */
  readonly applyMeta?: (tmpAbs: Buffer) => OwnerMeta;
}

/** Creates the link under a temp name and renames it over the target: links are copied as links. */
export function copySymlinkAtomic(req: SymlinkRequest): ScannedEntry {
  const tmpAbs = Buffer.concat([req.targetDirAbs, SLASH, Buffer.from(tempName(), 'latin1')]);
  symlinkSync(req.linkTarget, tmpAbs);
  let renamed = false;
  let meta: OwnerMeta = {};
  try {
    meta = req.applyMeta?.(tmpAbs) ?? {};
    try {
      lutimesSync(tmpAbs, secondsOf(req.mtimeNs), secondsOf(req.mtimeNs));
    } catch {
      // link times are cosmetic; some file systems refuse them
    }
    renameIntoPlace(req, tmpAbs);
    renamed = true;
  } finally {
    if (!renamed) discardTemp(tmpAbs);
  }
  const after = lstatSync(req.targetAbs, { bigint: true });
  return {
    entry: { kind: 'symlink', target: req.linkTarget.toString('latin1'), mtimeNs: after.mtimeNs, ...meta },
    stat: statIdOf(after),
    observedAtNs: nowNs(),
  };
}

export function changedSince(st: BigIntStats, before: BigIntStats): boolean {
  return st.ctimeNs !== before.ctimeNs || st.mtimeNs !== before.mtimeNs || st.size !== before.size || st.ino !== before.ino;
}

/**
 * Whether a source is still the file the scan saw. Its ctime counts only where the scan saw one name: an inode
 * with several names changes its ctime whenever another of them is linked or removed, by a run's own
 * housekeeping too (the temp name left by a copy killed between its link and its unlink, placeNew, is removed
 * before the next run copies), as assertExpected judges a target. Content that changed under an unchanged mtime
 * is copied as it is now: the copy hashes what it reads.
 */
export function sameSource(now: StatId, scanned: StatId): boolean {
  return now.ino === scanned.ino && now.size === scanned.size && now.mtimeNs === scanned.mtimeNs && (now.ctimeNs === scanned.ctimeNs || (scanned.nlink ?? 1) > 1);
}

export function sameStat(a: StatId, b: StatId): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * Seconds as a double for utimes. Node takes no integer nanoseconds, and libuv truncates what it gets
 * to whole microseconds; aiming at the middle of the source's microsecond makes that truncation land
 * exactly on it, whatever the double's rounding. Sub-microsecond digits cannot be set.
 */
export function secondsOf(ns: bigint): number {
  const us = ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n); // floor, also before 1970
  return (Number(us) + 0.5) / 1e6;
}
