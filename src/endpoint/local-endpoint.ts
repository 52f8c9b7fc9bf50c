import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import PQueue from 'p-queue';
import { baseName, displayPath, parentOf } from '../core/paths.js';
import { flushStrategyOf, type WrittenSide } from '../core/written-paths.js';
import type { AbsPath, Expectation, RelPath, ScannedEntry, Side, StatId } from '../core/types.js';
import { MetaWriter } from '../engine/apply-meta.js';
import { copySymlinkAtomic } from '../engine/copy-file.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import { AncestorGuard, assertExpected, StaleTargetError, UnsafePathError } from '../engine/guards.js';
import { assertSourceUnchanged, linkAtomic } from '../engine/hard-link.js';
import { copyLocally, type LocalRunSide, mayBeLinkedTo } from '../engine/local-copy.js';
import { deleteEntry, makeDir, setLinkMeta, setMeta } from '../engine/operations.js';
import { type InstallRequest, installBytes, installStream, openReadStream, type ReadStream, type StreamInstalled } from '../engine/stream-copy.js';
import { type BlockSignature, checkSignature } from '../delta/block-signature.js';
import type { RebuiltHash } from '../delta/delta-apply.js';
import { deltaOf } from '../delta/delta-match.js';
import { type FileExpectation, rebuildFromBasis, signatureOfFile } from '../engine/delta-basis.js';
import { fsyncAbove, fsyncWritten } from '../engine/targeted-flush.js';
import { listTrash, pruneTrash, restoreVersion, Trash, type TrashedVersion } from '../engine/trash.js';
import { currentBootId, mountIdOf } from '../fs/boot-id.js';
import { hasFineGrainedCtime } from '../fs/ctime-probe.js';
import { flushFileSystemAsync } from '../fs/flush.js';
import { toBytes } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { isLeftoverTemp } from '../fs/temp-name.js';
import { digestOf } from '../fs/xattrs.js';
import { HASH_CHUNK, hashFile } from '../hash/xxhash.js';
import { type StreamedWalkEnd, walkPaths, walkTree, walkTreeInSlices, walkTreeStreamed, type ScanResult } from '../scan/scan.js';
import { LateXattrs, type SeenInode } from '../scan/late-xattrs.js';
import { ScannedXattrValues } from '../scan/xattr-values.js';
import { watchRoot, type RootWatchEvents } from '../watch/watcher.js';
import { readWholeFile } from '../engine/read-whole.js';
import type {
  BatchInstallItem,
  BatchReadItem,
  CacheStamp,
  Copied,
  DeltaBasis,
  FileRead,
  PerFile,
  Endpoint,
  EndpointWatch,
  HashResult,
  Installed,
  LinkTarget,
  PrepareRequest,
  RunOptions,
  ScanRequest,
  TrashVersionRef,
  Xattrs,
} from './endpoint.js';

/** The run's state on this side: descriptors pinned from the root down, the guard where /proc is missing, the trash. */
interface RunState extends LocalRunSide {
  readonly guard: AncestorGuard;
  readonly warnings: string[];
}

/**
 * One side that is a directory on this machine: today's scanner and engine behind the Endpoint interface.
 * Synchronous work stays synchronous inside (the scan, small copies, metadata): the methods are async only
 * to share the interface with a remote side, and cost one resolved promise each.
 */
export class LocalEndpoint implements Endpoint {
  readonly isLocal = true;
  private run: RunState | null = null;
  /** The xattr values this side's scans read, for the run's copies from here (scan/xattr-values.ts). */
  private readonly scannedXattrs = new ScannedXattrValues();

  constructor(readonly root: AbsPath) {}

  direct(): LocalRunSide | null {
    return this.run;
  }

  async scan(req: ScanRequest): Promise<ScanResult> {
    this.scannedXattrs.clear();
    const opts = { ...req, root: this.root, xattrValues: this.scannedXattrs };
    return req.sliceMs === undefined ? walkTree(opts) : walkTreeInSlices(opts, req.sliceMs);
  }

  /**
   * scan, in slices, with the entries each slice made final handed on as it goes (scan/scan.ts walkTreeStreamed):
   * what an agent sends while it walks. Not on the Endpoint interface: only the agent, which serves this endpoint
   * over the wire, asks for it.
   */
  scanStreamed(req: ScanRequest, sliceMs: number): AsyncGenerator<[RelPath, ScannedEntry][], StreamedWalkEnd> {
    this.scannedXattrs.clear();
    return walkTreeStreamed({ ...req, root: this.root, xattrValues: this.scannedXattrs }, sliceMs);
  }

  /**
   * The kept xattrs' digests of entries a scan left without them (an agent's, remote/remote-endpoint.ts), each only
   * if the entry is still the inode, at the ctime, that the scan saw (scan/late-xattrs.ts); the values read are
   * kept for the copy that may follow, as the scan would have kept them. Not on the Endpoint interface: only the
   * agent, which serves this endpoint over the wire, asks for it.
   */
  xattrDigests(asked: readonly (SeenInode & { readonly path: RelPath })[]): Map<RelPath, string> {
    const late = new LateXattrs(this.root, () => undefined, this.scannedXattrs);
    const out = new Map<RelPath, string>();
    try {
      for (const a of asked) {
        const digest = late.readIfUnchanged(a.path, a);
        if (digest !== undefined) out.set(a.path, digest);
      }
    } finally {
      late.close();
    }
    return out;
  }

  async rescan(req: ScanRequest, roots: readonly RelPath[]): Promise<ScanResult> {
    // a watch cycle's rescan starts afresh, as a scan does: a cycle with nothing to write begins and ends no run
    // (engine/execute.ts), so endRun is not there to drop what the last cycle kept and did not copy
    this.scannedXattrs.clear();
    return walkPaths({ ...req, root: this.root, xattrValues: this.scannedXattrs }, roots);
  }

  async watch(side: Side, knownDirs: readonly RelPath[] | undefined, events: RootWatchEvents): Promise<EndpointWatch> {
    const w = watchRoot(this.root, side, events, knownDirs);
    await w.ready;
    return { adopt: async (dirs) => w.adopt(dirs), close: () => w.close() };
  }

  ended(): Promise<Error> {
    return new Promise<Error>(() => undefined);
  }

  /** Files are read through their directory's descriptor: never through a directory swapped for a symlink. */
  async hash(paths: readonly RelPath[], concurrency: number): Promise<Map<RelPath, HashResult>> {
    const out = new Map<RelPath, HashResult>();
    if (paths.length === 0) return out;
    const queue = new PQueue({ concurrency });
    const buffers: Buffer[] = [];
    const anchors = new DirAnchors(this.root);
    for (const path of paths) {
      void queue.add(async () => {
        const buffer = buffers.pop() ?? Buffer.allocUnsafe(HASH_CHUNK);
        let place: Place | null = null;
        try {
          place = anchors.place(path);
          out.set(path, { hash: (await hashFile(place.fdPath, buffer)).hash });
        } catch (e) {
          out.set(path, { code: e instanceof StaleTargetError ? 'ENOENT' : e instanceof UnsafePathError ? 'ELOOP' : errCode(e) });
        } finally {
          place?.release();
          buffers.push(buffer);
        }
      });
    }
    try {
      await queue.onIdle();
    } finally {
      anchors.closeAll();
    }
    return out;
  }

  async prepare(req: PrepareRequest): Promise<void> {
    if (req.createRoot) {
      mkdirSync(toBytes(this.root), { recursive: true });
      return;
    }
    if (req.trashKeepMs !== null) pruneTrash(this.root, req.trashKeepMs, Date.now());
    await this.removeTemps(req.leftoverTemps);
  }

  /** Temp files of killed runs are ours to remove; those of a live process are not. */
  async removeTemps(paths: readonly RelPath[]): Promise<void> {
    if (paths.length === 0) return;
    const anchors = new DirAnchors(this.root);
    try {
      for (const rel of paths) {
        if (!isLeftoverTemp(baseName(rel))) continue;
        try {
          const place = anchors.place(rel);
          await unlink(place.fdPath)
            .catch(() => undefined)
            .finally(place.release);
        } catch {
          // its directory is gone or not a real directory any more: nothing of ours to remove there
        }
      }
    } finally {
      anchors.closeAll();
    }
  }

  async hasFineCtime(): Promise<boolean> {
    return hasFineGrainedCtime(toBytes(this.root));
  }

  async beginRun(o: RunOptions): Promise<void> {
    await this.endRun();
    const warnings: string[] = [];
    const none = !o.keep.owner && !o.keep.group && !o.keep.xattrs;
    const meta = none && !o.chownRefused ? null : new MetaWriter(o.keep, (m) => warnings.push(m), o.chownRefused);
    const guard = new AncestorGuard(this.root);
    this.run = {
      anchors: new DirAnchors(this.root, guard),
      guard,
      trash: o.trashStamp === null ? null : new Trash(this.root, o.trashStamp),
      meta,
      racyWindowNs: o.racyWindowNs,
      installed: new Map<RelPath, StatId>(),
      scannedXattrs: this.scannedXattrs,
      warnings,
    };
  }

  async endRun(): Promise<string[]> {
    const r = this.run;
    if (r === null) return [];
    this.run = null;
    // what the run did not copy is not kept for later runs (a watch's next scan reads afresh)
    this.scannedXattrs.clear();
    r.anchors.closeAll();
    r.trash?.close();
    return r.warnings;
  }

  async assertParents(path: RelPath): Promise<void> {
    this.running().anchors.assertParents(path);
  }

  async assertUnchanged(path: RelPath, scanned: ScannedEntry, label: string): Promise<void> {
    this.at(path, ({ fdPath }) => assertSourceUnchanged(fdPath, scanned, label));
  }

  async remove(path: RelPath, expect: Expectation, label: string): Promise<void> {
    const r = this.running();
    const trash = r.trash;
    this.at(path, ({ fdPath }) => {
      if (trash !== null && expect !== null && expect.kind !== 'dir') {
        assertExpected(fdPath, expect, label);
        trash.moveToTrash(path, fdPath);
      } else {
        deleteEntry(fdPath, expect, label);
      }
    });
    r.guard.forget(path);
    r.anchors.forget(path);
  }

  /** Creates a directory; the guard trusts it from then on. */
  async makeDir(path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry> {
    const made = this.at(path, ({ fdPath }) => makeDir(fdPath, source, label));
    this.running().guard.trust(path, made.stat.ino);
    return made;
  }

  /**
   * Owner and group are in the entry; xattr values are not (only their digest): `xattrs` are the other
   * side's, and this side's own win when they hold the merged digest (core/merge-meta.ts kept them).
   */
  async setMeta(path: RelPath, source: ScannedEntry, expect: Expectation, xattrs: Xattrs, label: string): Promise<ScannedEntry> {
    const meta = this.running().meta;
    const e = source.entry;
    if (e.kind === 'symlink') {
      const owner = meta === null ? undefined : (abs: Buffer) => meta.applyToSymlink(abs, e);
      return this.at(path, ({ fdPath }) => setLinkMeta(fdPath, e, expect, label, owner));
    }
    if (meta === null) return this.at(path, ({ fdPath }) => setMeta(fdPath, source, expect, label));
    let chosen = xattrs;
    if (xattrs !== null && e.xattrs !== undefined && digestOf(xattrs) !== e.xattrs) {
      const own = this.at(path, ({ fdPath }) => meta.sourceXattrs(fdPath, label));
      if (own !== null && digestOf(own) === e.xattrs) chosen = own;
    }
    return this.at(path, ({ fdPath }) => setMeta(fdPath, source, expect, label, (fd) => meta.applyToFile(fd, fdPath, e, chosen, label)));
  }

  async readXattrs(path: RelPath, label: string): Promise<Xattrs> {
    const meta = this.running().meta;
    return meta === null ? null : this.at(path, ({ fdPath }) => meta.sourceXattrs(fdPath, label));
  }

  async noteOwnerLeft(path: RelPath): Promise<void> {
    const meta = this.running().meta;
    if (meta?.chownRefused === true) this.at(path, ({ fdPath }) => meta.noteOwnerLeft(fdPath));
  }

  async installSymlink(path: RelPath, source: ScannedEntry, expect: Expectation): Promise<ScannedEntry> {
    const e = source.entry;
    if (e.kind !== 'symlink') throw new Error(`cannot install a ${e.kind} as a symlink`);
    const r = this.running();
    const meta = r.meta;
    return this.installing(path, expect, (to, beforeRename, keepReplaced) =>
      copySymlinkAtomic({
        ...(meta === null ? {} : { applyMeta: (tmpAbs: Buffer) => meta.applyToSymlink(tmpAbs, e) }),
        targetDirAbs: to.dirFdPath,
        targetAbs: to.fdPath,
        linkTarget: Buffer.from(e.target, 'latin1'),
        mtimeNs: e.mtimeNs,
        expect,
        label: displayPath(path),
        beforeRename,
        keepReplaced,
      }),
    );
  }

  async link(path: RelPath, linkTo: RelPath, linkToExpect: LinkTarget | null, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry> {
    const known = linkToExpect ?? this.running().installed.get(linkTo) ?? null;
    if (known === null) throw new StaleTargetError(`${label}: ${displayPath(linkTo)}, which it is a hard link of, was not installed`);
    return this.installing(path, expect, (to, beforeRename, keepReplaced) =>
      this.at(linkTo, (leader) =>
        linkAtomic({ source, linkToAbs: leader.fdPath, linkTo: known, targetDirAbs: to.dirFdPath, targetAbs: to.fdPath, expect, label, beforeRename, keepReplaced }),
      ),
    );
  }

  async copyWithin(fromPath: RelPath, from: ScannedEntry, toPath: RelPath, expect: Expectation): Promise<Copied> {
    const r = this.running();
    return copyLocally(r, fromPath, from, r, toPath, expect);
  }

  openRead(path: RelPath, scanned: ScannedEntry): Promise<ReadStream> {
    return this.openReadOf(path, scanned, false);
  }

  private async openReadOf(path: RelPath, scanned: ScannedEntry, transientChunks: boolean): Promise<ReadStream> {
    const r = this.running();
    const place = r.anchors.place(path);
    // the path through the directory's descriptor is read later, as the stream is pulled: keep it pinned till then
    const stream = openReadStream(place.fdPath, scanned, displayPath(path), r.racyWindowNs, transientChunks);
    const chunks = stream.chunks;
    return {
      done: stream.done,
      chunks: (async function* () {
        try {
          yield* chunks;
        } finally {
          place.release();
        }
      })(),
    };
  }

  async signature(path: RelPath, expect: Expectation, blockSize: number): Promise<BlockSignature> {
    const place = this.running().anchors.place(path);
    try {
      return await signatureOfFile(place.fdPath, basisExpectation(expect, displayPath(path)), blockSize, displayPath(path));
    } finally {
      place.release();
    }
  }

  async openDelta(path: RelPath, scanned: ScannedEntry, basis: BlockSignature): Promise<ReadStream> {
    checkSignature(basis);
    // the matcher copies what it keeps of a chunk (delta-match.ts), so the file's chunks may share buffers
    const read = await this.openReadOf(path, scanned, true);
    return { done: read.done, chunks: deltaOf(read.chunks, basis, async () => (await read.done).hash) };
  }

  async installDelta(path: RelPath, source: ScannedEntry, expect: Expectation, basis: DeltaBasis, ops: AsyncIterable<Buffer>, xattrs: Xattrs): Promise<Installed> {
    const label = displayPath(path);
    const basisExpect = basisExpectation(basis.expect, displayPath(basis.path));
    const place = this.running().anchors.place(basis.path);
    try {
      const sent: RebuiltHash = { hash: null };
      const chunks = rebuildFromBasis(place.fdPath, basisExpect, basis.blockSize, ops, sent, label);
      return await this.install(path, source, expect, chunks, xattrs, () => sent.hash);
    } finally {
      place.release();
    }
  }

  async install(path: RelPath, source: ScannedEntry, expect: Expectation, chunks: AsyncIterable<Buffer>, xattrs: Xattrs, finalHash?: () => string | null): Promise<Installed> {
    return this.installFrom(path, source, expect, xattrs, (req) => installStream(finalHash === undefined ? req : { ...req, finalHash }, chunks));
  }

  /** install for bytes already here (a batch's small file): installBytes, which names the target's entries from inside its directory. */
  private installWhole(path: RelPath, source: ScannedEntry, expect: Expectation, bytes: Buffer, xattrs: Xattrs): Promise<Installed> {
    return this.installFrom(path, source, expect, xattrs, (req) => installBytes(req, bytes));
  }

  private async installFrom(
    path: RelPath,
    source: ScannedEntry,
    expect: Expectation,
    xattrs: Xattrs,
    write: (req: InstallRequest) => StreamInstalled | Promise<StreamInstalled>,
  ): Promise<Installed> {
    const e = source.entry;
    if (e.kind !== 'file') throw new Error(`cannot install a ${e.kind} from a stream`);
    const r = this.running();
    const meta = r.meta;
    const label = displayPath(path);
    const dirKey = parentOf(path) ?? '';
    const got = await this.installing(path, expect, (to, beforeRename, keepReplaced) =>
      write({
        // the cheaper path of a local copy (apply-meta.ts): installStream checks the owner after the rename
        ...(meta === null ? {} : { applyMeta: (fd: number, tmpAbs: Buffer) => meta.applyToTempFile(fd, tmpAbs, e, xattrs, label, dirKey) }),
        targetDirAbs: to.dirFdPath,
        targetAbs: to.fdPath,
        source,
        expect,
        label,
        beforeRename,
        keepReplaced,
      }),
    );
    if (mayBeLinkedTo(source)) r.installed.set(path, got.target.stat);
    return got;
  }

  async readBatch(items: readonly BatchReadItem[]): Promise<PerFile<FileRead>[]> {
    const r = this.running();
    const out: PerFile<FileRead>[] = [];
    for (const item of items) {
      const label = displayPath(item.path);
      try {
        const xattrs = item.xattrs ? await this.readXattrs(item.path, label) : null;
        if (item.noteOwner) await this.noteOwnerLeft(item.path);
        const read = this.at(item.path, ({ fdPath }) => readWholeFile(fdPath, item.scanned, label, r.racyWindowNs));
        out.push({ ok: { ...read, xattrs } });
      } catch (error) {
        out.push({ error });
      }
    }
    return out;
  }

  /** One install after another, each with all of install's checks; a failure is that file's only. */
  async installBatch(items: readonly BatchInstallItem[]): Promise<PerFile<Installed>[]> {
    const out: PerFile<Installed>[] = [];
    for (const item of items) {
      try {
        out.push({ ok: await this.installWhole(item.path, item.source, item.expect, item.bytes, item.xattrs) });
      } catch (error) {
        out.push({ error });
      }
    }
    return out;
  }

  async flush(written: WrittenSide, rootMade: boolean): Promise<readonly string[]> {
    if (flushStrategyOf(written) === 'targeted') {
      const r = await fsyncWritten(this.root, written);
      // a root made by this run: its own name, and those of the directories made above it, too
      const above = r.failure === null && rootMade ? await fsyncAbove(this.root) : null;
      const failure = r.failure ?? above?.failure ?? null;
      if (failure === null) return [`targeted ${r.files} files, ${r.dirs} dirs (${r.skipped} skipped)${above === null ? '' : `, ${above.dirs} dirs above the new root`}`];
      await flushFileSystemAsync(this.root);
      return [`targeted failed (${failure}), syncfs instead`, 'syncfs'];
    }
    await flushFileSystemAsync(this.root);
    return ['syncfs'];
  }

  async flushFileSystem(): Promise<readonly string[]> {
    await flushFileSystemAsync(this.root);
    return ['syncfs'];
  }

  async cacheStamp(): Promise<CacheStamp | null> {
    const bootId = currentBootId();
    const mount = bootId === null ? null : mountIdOf(this.root);
    return bootId === null || mount === null ? null : { bootId, mount };
  }

  async listTrash(): Promise<TrashedVersion[]> {
    return listTrash(this.root);
  }

  async restoreFromTrash(version: TrashVersionRef): Promise<void> {
    restoreVersion(this.root, version, Date.now());
  }

  async close(): Promise<void> {
    await this.endRun();
  }

  private running(): RunState {
    if (this.run === null) throw new Error('endpoint: a write outside a run (beginRun first)');
    return this.run;
  }

  /** Runs `use` with `path` pinned through its directory's descriptor (dir-anchors.ts). */
  private at<T>(path: RelPath, use: (place: Place) => T): T {
    const place = this.running().anchors.place(path);
    try {
      return use(place);
    } finally {
      place.release();
    }
  }

  /** The frame of every install: parents checked now and right before the rename; the replaced version kept. */
  private async installing<T>(path: RelPath, expect: Expectation, use: (to: Place, beforeRename: () => void, keepReplaced: () => void) => T | Promise<T>): Promise<T> {
    const r = this.running();
    const trash = r.trash;
    const beforeRename = (): void => r.anchors.assertParents(path);
    beforeRename();
    const to = r.anchors.place(path);
    try {
      // Whatever the rename replaces is linked into the trash first (never over what cannot be kept).
      const keepReplaced = expect !== null && trash !== null ? (): void => trash.keepCopyOf(path, to.fdPath) : (): void => undefined;
      return await use(to, beforeRename, keepReplaced);
    } finally {
      to.release();
    }
  }
}

/** A delta's basis must be a file the scan saw. */
function basisExpectation(expect: Expectation, label: string): FileExpectation {
  if (expect === null || expect.kind !== 'file') throw new StaleTargetError(`${label}: no file to update in place`);
  return expect as FileExpectation;
}
