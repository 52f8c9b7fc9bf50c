import { mkdirSync } from 'node:fs';
import PQueue from 'p-queue';
import { baseName } from '../core/paths.js';
import { flushStrategyOf, type WrittenSide } from '../core/written-paths.js';
import type { AbsPath, Expectation, RelPath, ScannedEntry, Side } from '../core/types.js';
import type { BlockSignature } from '../delta/block-signature.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import { StaleTargetError, UnsafePathError } from '../engine/guards.js';
import { removeLeftoverTemp } from '../engine/leftover-temp.js';
import type { LocalRunSide } from '../engine/local-copy.js';
import type { ReadStream } from '../engine/stream-copy.js';
import { fsyncAbove, fsyncWritten } from '../engine/targeted-flush.js';
import { listTrash, pruneTrash, restoreVersion, Trash, type TrashedVersion } from '../engine/trash.js';
import { currentBootId, mountIdOf } from '../fs/boot-id.js';
import { hasFineGrainedCtime } from '../fs/ctime-probe.js';
import { flushFileSystemAsync } from '../fs/flush.js';
import { toBytes } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { isLeftoverTemp } from '../fs/temp-name.js';
import { HASH_CHUNK, hashFile, hashSmallFileSync, loadHasher, SYNC_HASH_MAX } from '../hash/xxhash.js';
import { type StreamedWalkEnd, walkPaths, walkTree, walkTreeInSlices, walkTreeStreamed, type ScanResult } from '../scan/scan.js';
import { LateXattrs, type SeenInode } from '../scan/late-xattrs.js';
import { ScannedXattrValues } from '../scan/xattr-values.js';
import { watchRoot, type RootWatchEvents } from '../watch/watcher.js';
import { LocalRun } from './local-run.js';
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

/**
 * One side that is a directory on this machine: today's scanner and engine behind the Endpoint interface.
 * Synchronous work stays synchronous inside (the scan, small copies, metadata): the methods are async only
 * to share the interface with a remote side, and cost one resolved promise each.
 */
export class LocalEndpoint implements Endpoint {
  readonly isLocal = true;
  /** The run begun by beginRun, till endRun. */
  private run: LocalRun | null = null;
  /** The xattr values this side's scans read, for the run's copies from here (scan/xattr-values.ts). */
  private readonly scannedXattrs = new ScannedXattrValues();
  /** The trash of the last run, kept open for the next one with the same stamp (a watch's cycles within a minute). */
  private trash: Trash | null = null;

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
    const failed = (path: RelPath, e: unknown): void => {
      out.set(path, { code: e instanceof StaleTargetError ? 'ENOENT' : e instanceof UnsafePathError ? 'ELOOP' : errCode(e) });
    };
    await loadHasher();
    const small = Buffer.allocUnsafe(SYNC_HASH_MAX);
    for (const path of paths) {
      // a small file is read here and now (hashSmallFileSync); a larger one is streamed on the thread pool
      let place: Place | null = null;
      try {
        place = anchors.place(path);
        const hashed = hashSmallFileSync(place.fdPath, small);
        if (hashed !== null) {
          out.set(path, { hash: hashed.hash });
          continue;
        }
      } catch (e) {
        failed(path, e);
        continue;
      } finally {
        place?.release();
      }
      void queue.add(async () => {
        const buffer = buffers.pop() ?? Buffer.allocUnsafe(HASH_CHUNK);
        let place: Place | null = null;
        try {
          place = anchors.place(path);
          out.set(path, { hash: (await hashFile(place.fdPath, buffer)).hash });
        } catch (e) {
          failed(path, e);
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
          await removeLeftoverTemp(place).finally(place.release);
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
    const trash = this.trashFor(o.trashStamp);
    if (trash !== null && o.trashFolders !== undefined) trash.makeAhead(o.trashFolders);
    this.run = new LocalRun(this.root, o, this.scannedXattrs, trash);
  }

  /**
   * The trash a run with this stamp keeps its versions in: the one the last run had when the stamp is the same (a
   * watch's next cycle, engine/trash.ts carryOver), else a new one, and the old one is closed.
   */
  private trashFor(stamp: string | null): Trash | null {
    if (this.trash !== null && this.trash.stamp === stamp) {
      this.trash.carryOver();
      return this.trash;
    }
    this.trash?.close();
    this.trash = stamp === null ? null : new Trash(this.root, stamp);
    return this.trash;
  }

  async endRun(): Promise<string[]> {
    const r = this.run;
    if (r === null) return [];
    this.run = null;
    // what the run did not copy is not kept for later runs (a watch's next scan reads afresh)
    this.scannedXattrs.clear();
    return r.end();
  }

  // The writes are the run's (local-run.ts), begun by beginRun. Async, as before: no run is a rejection, not a throw.

  async assertParents(path: RelPath): Promise<void> {
    return this.running().assertParents(path);
  }

  async assertUnchanged(path: RelPath, scanned: ScannedEntry, label: string): Promise<void> {
    return this.running().assertUnchanged(path, scanned, label);
  }

  async remove(path: RelPath, expect: Expectation, label: string): Promise<void> {
    return this.running().remove(path, expect, label);
  }

  async makeDir(path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry> {
    return this.running().makeDir(path, source, label);
  }

  async setMeta(path: RelPath, source: ScannedEntry, expect: Expectation, xattrs: Xattrs, label: string): Promise<ScannedEntry> {
    return this.running().setMeta(path, source, expect, xattrs, label);
  }

  async readXattrs(path: RelPath, label: string): Promise<Xattrs> {
    return this.running().readXattrs(path, label);
  }

  async noteOwnerLeft(path: RelPath): Promise<void> {
    return this.running().noteOwnerLeft(path);
  }

  async installSymlink(path: RelPath, source: ScannedEntry, expect: Expectation): Promise<ScannedEntry> {
    return this.running().installSymlink(path, source, expect);
  }

  async link(path: RelPath, linkTo: RelPath, linkToExpect: LinkTarget | null, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry> {
    return this.running().link(path, linkTo, linkToExpect, source, expect, label);
  }

  async copyWithin(fromPath: RelPath, from: ScannedEntry, toPath: RelPath, expect: Expectation): Promise<Copied> {
    return this.running().copyWithin(fromPath, from, toPath, expect);
  }

  async openRead(path: RelPath, scanned: ScannedEntry): Promise<ReadStream> {
    return this.running().openRead(path, scanned);
  }

  async signature(path: RelPath, expect: Expectation, blockSize: number): Promise<BlockSignature> {
    return this.running().signature(path, expect, blockSize);
  }

  async openDelta(path: RelPath, scanned: ScannedEntry, basis: BlockSignature): Promise<ReadStream> {
    return this.running().openDelta(path, scanned, basis);
  }

  async installDelta(path: RelPath, source: ScannedEntry, expect: Expectation, basis: DeltaBasis, ops: AsyncIterable<Buffer>, xattrs: Xattrs): Promise<Installed> {
    return this.running().installDelta(path, source, expect, basis, ops, xattrs);
  }

  async install(path: RelPath, source: ScannedEntry, expect: Expectation, chunks: AsyncIterable<Buffer>, xattrs: Xattrs, finalHash?: () => string | null): Promise<Installed> {
    return this.running().install(path, source, expect, chunks, xattrs, finalHash);
  }

  async readBatch(items: readonly BatchReadItem[]): Promise<PerFile<FileRead>[]> {
    return this.running().readBatch(items);
  }

  async installBatch(items: readonly BatchInstallItem[]): Promise<PerFile<Installed>[]> {
    return this.running().installBatch(items);
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
    this.trash?.close();
    this.trash = null;
  }

  private running(): LocalRun {
    if (this.run === null) throw new Error('endpoint: a write outside a run (beginRun first)');
    return this.run;
  }
}
