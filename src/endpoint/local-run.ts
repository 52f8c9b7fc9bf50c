import { displayPath, parentOf } from '../core/paths.js';
import type { AbsPath, Expectation, RelPath, ScannedEntry, StatId } from '../core/types.js';
import { type BlockSignature, checkSignature } from '../delta/block-signature.js';
import type { RebuiltHash } from '../delta/delta-apply.js';
import { deltaOf } from '../delta/delta-match.js';
import { MetaWriter } from '../engine/apply-meta.js';
import { copySymlinkAtomic } from '../engine/copy-file.js';
import { type FileExpectation, rebuildFromBasis, signatureOfFile } from '../engine/delta-basis.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import { AncestorGuard, assertExpected, StaleTargetError } from '../engine/guards.js';
import { assertSourceUnchanged, linkAtomic } from '../engine/hard-link.js';
import { copyLocally, type LocalRunSide, mayBeLinkedTo } from '../engine/local-copy.js';
import { deleteEntry, makeDir, setLinkMeta, setMeta } from '../engine/operations.js';
import { readWholeFile } from '../engine/read-whole.js';
import { type InstallRequest, installBytes, installStream, openReadStream, type ReadStream, type StreamInstalled } from '../engine/stream-copy.js';
import type { Trash } from '../engine/trash.js';
import { digestOf } from '../fs/xattrs.js';
import type { ScannedXattrValues } from '../scan/xattr-values.js';
import type { BatchInstallItem, BatchReadItem, Copied, DeltaBasis, FileRead, Installed, LinkTarget, PerFile, RunOptions, Xattrs } from './endpoint.js';

/**
 * One run's writes to a local side, from beginRun to endRun (local-endpoint.ts): the descriptors pinned from the
 * root down, the guard where /proc is missing, the trash, the metadata writer, and every method that writes. The
 * endpoint keeps what reads (scans, hashes, the watch); this holds what a run writes with, and nothing in it
 * depends on the endpoint, so any code that has a root and the run's options can make one.
 */
export class LocalRun implements LocalRunSide {
  readonly anchors: DirAnchors;
  readonly guard: AncestorGuard;
  readonly trash: Trash | null;
  readonly meta: MetaWriter | null;
  readonly racyWindowNs: bigint;
  readonly installed = new Map<RelPath, StatId>();
  readonly warnings: string[] = [];

  /** `trash`: where this run keeps replaced and deleted versions (null: --no-trash); its owner closes it. */
  constructor(
    readonly root: AbsPath,
    o: RunOptions,
    readonly scannedXattrs: ScannedXattrValues,
    trash: Trash | null,
  ) {
    const none = !o.keep.owner && !o.keep.group && !o.keep.xattrs;
    this.meta = none && !o.chownRefused ? null : new MetaWriter(o.keep, (m) => this.warnings.push(m), o.chownRefused);
    this.guard = new AncestorGuard(root);
    this.anchors = new DirAnchors(root, this.guard);
    this.trash = trash;
    this.racyWindowNs = o.racyWindowNs;
  }

  /** Closes what the run holds open (not the trash: see LocalEndpoint.trashFor); returns its warnings. */
  end(): string[] {
    this.anchors.closeAll();
    return this.warnings;
  }

  async assertParents(path: RelPath): Promise<void> {
    this.anchors.assertParents(path);
  }

  async assertUnchanged(path: RelPath, scanned: ScannedEntry, label: string): Promise<void> {
    this.at(path, ({ fdPath }) => assertSourceUnchanged(fdPath, scanned, label));
  }

  async remove(path: RelPath, expect: Expectation, label: string): Promise<void> {
    const trash = this.trash;
    this.at(path, ({ fdPath }) => {
      if (trash !== null && expect !== null && expect.kind !== 'dir') {
        assertExpected(fdPath, expect, label);
        trash.moveToTrash(path, fdPath);
      } else {
        deleteEntry(fdPath, expect, label);
      }
    });
    this.guard.forget(path);
    this.anchors.forget(path);
  }

  /** Creates a directory; the guard trusts it from then on. */
  async makeDir(path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry> {
    const made = this.at(path, ({ fdPath }) => makeDir(fdPath, source, label));
    this.guard.trust(path, made.stat.ino);
    return made;
  }

  /**
   * Owner and group are in the entry; xattr values are not (only their digest): `xattrs` are the other
   * side's, and this side's own win when they hold the merged digest (core/merge-meta.ts kept them).
   */
  async setMeta(path: RelPath, source: ScannedEntry, expect: Expectation, xattrs: Xattrs, label: string): Promise<ScannedEntry> {
    const meta = this.meta;
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
    return this.at(path, ({ fdPath }) => setMeta(fdPath, source, expect, label, (fd, current) => meta.applyToFile(fd, fdPath, e, chosen, label, current)));
  }

  async readXattrs(path: RelPath, label: string): Promise<Xattrs> {
    const meta = this.meta;
    return meta === null ? null : this.at(path, ({ fdPath }) => meta.sourceXattrs(fdPath, label));
  }

  async noteOwnerLeft(path: RelPath): Promise<void> {
    const meta = this.meta;
    if (meta?.chownRefused === true) this.at(path, ({ fdPath }) => meta.noteOwnerLeft(fdPath));
  }

  async installSymlink(path: RelPath, source: ScannedEntry, expect: Expectation): Promise<ScannedEntry> {
    const e = source.entry;
    if (e.kind !== 'symlink') throw new Error(`cannot install a ${e.kind} as a symlink`);
    const meta = this.meta;
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
    const known = linkToExpect ?? this.installed.get(linkTo) ?? null;
    if (known === null) throw new StaleTargetError(`${label}: ${displayPath(linkTo)}, which it is a hard link of, was not installed`);
    return this.installing(path, expect, (to, beforeRename, keepReplaced) =>
      this.at(linkTo, (leader) =>
        linkAtomic({ source, linkToAbs: leader.fdPath, linkTo: known, targetDirAbs: to.dirFdPath, targetAbs: to.fdPath, expect, label, beforeRename, keepReplaced }),
      ),
    );
  }

  async copyWithin(fromPath: RelPath, from: ScannedEntry, toPath: RelPath, expect: Expectation): Promise<Copied> {
    return copyLocally(this, fromPath, from, this, toPath, expect);
  }

  openRead(path: RelPath, scanned: ScannedEntry): Promise<ReadStream> {
    return this.openReadOf(path, scanned, false);
  }

  private async openReadOf(path: RelPath, scanned: ScannedEntry, transientChunks: boolean): Promise<ReadStream> {
    const place = this.anchors.place(path);
    // the path through the directory's descriptor is read later, as the stream is pulled: keep it pinned till then
    const stream = openReadStream(place.fdPath, scanned, displayPath(path), this.racyWindowNs, transientChunks);
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
    const place = this.anchors.place(path);
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
    const place = this.anchors.place(basis.path);
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
    const meta = this.meta;
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
    if (mayBeLinkedTo(source)) this.installed.set(path, got.target.stat);
    return got;
  }

  async readBatch(items: readonly BatchReadItem[]): Promise<PerFile<FileRead>[]> {
    const out: PerFile<FileRead>[] = [];
    for (const item of items) {
      const label = displayPath(item.path);
      try {
        const xattrs = item.xattrs ? await this.readXattrs(item.path, label) : null;
        if (item.noteOwner) await this.noteOwnerLeft(item.path);
        const read = this.at(item.path, ({ fdPath }) => readWholeFile(fdPath, item.scanned, label, this.racyWindowNs));
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

  /** Runs `use` with `path` pinned through its directory's descriptor (dir-anchors.ts). */
  private at<T>(path: RelPath, use: (place: Place) => T): T {
    const place = this.anchors.place(path);
    try {
      return use(place);
    } finally {
      place.release();
    }
  }

  /** The frame of every install: parents checked now and right before the rename; the replaced version kept. */
  private async installing<T>(path: RelPath, expect: Expectation, use: (to: Place, beforeRename: () => void, keepReplaced: () => void) => T | Promise<T>): Promise<T> {
    const trash = this.trash;
    const beforeRename = (): void => this.anchors.assertParents(path);
    beforeRename();
    const to = this.anchors.place(path);
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
