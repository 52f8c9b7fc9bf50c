import { displayPath, parentOf } from '../core/paths.js';
import type { AbsPath, Expectation, RelPath, ScannedEntry, StatId } from '../core/types.js';
import { type MetaWriter, NO_XATTRS } from './apply-meta.js';
import { copyFileAtomic, copySymlinkAtomic, SMALL_FILE_MAX } from './copy-file.js';
import type { DirAnchors } from './dir-anchors.js';
import type { Trash } from './trash.js';
import type { ScannedXattrValues } from '../scan/xattr-values.js';

/** What one local side holds for the length of a run (endpoint/local-run.ts LocalRun): the fast copy reaches into it. */
export interface LocalRunSide {
  /** The side's root (a copy worker thread makes a run of its own on it, copy-in-worker.ts). */
  readonly root: AbsPath;
  readonly anchors: DirAnchors;
  readonly trash: Trash | null;
  readonly meta: MetaWriter | null;
  readonly racyWindowNs: bigint;
  /** Files this run installed here that a hard link may be made to (mayBeLinkedTo): what such a link must find. */
  readonly installed: Map<RelPath, StatId>;
  /** The xattr values this side's scan read, which a copy from here may use instead of reading them again. */
  readonly scannedXattrs?: ScannedXattrValues;
}

/**
 * Whether a later link action may name this copy's path as the inode to link to: only a source file
 * that has other names (nlink > 1, core/hard-links.ts), or whose link count is not known (a plan file).
 * Only those are remembered, so a run of 100k plain copies keeps no map of them (issue 11, memory).
 */
export function mayBeLinkedTo(source: ScannedEntry): boolean {
  const nlink = source.stat.nlink;
  return nlink === undefined || nlink > 1;
}

export interface LocalCopied {
  readonly target: ScannedEntry;
  readonly source: ScannedEntry;
  readonly bytes: number;
}

/**
 * Copies `from` (a file or symlink as scanned on side `src`) to `toPath` on side `dst`, atomically, when
 * both sides are on this machine (the same side for a conflict copy): the kernel copy, the sparse copy and
 * the synchronous small-file copy of copy-file.ts, through both sides' directory descriptors.
 */
export async function copyLocally(src: LocalRunSide, fromPath: RelPath, from: ScannedEntry, dst: LocalRunSide, toPath: RelPath, expect: Expectation): Promise<LocalCopied> {
  const label = displayPath(toPath);
  const trash = dst.trash;
  const beforeRename = (): void => dst.anchors.assertParents(toPath);
  // placing the target opens (or finds held) the chain of directories above it: the same check as beforeRename
  const to = dst.anchors.place(toPath);
  try {
    // Whatever the rename replaces is linked into the trash first (never over what cannot be kept).
    const keepReplaced = expect !== null && trash !== null ? (): void => trash.keepCopyOf(toPath, to.fdPath) : (): void => undefined;
    const e = from.entry;
    const meta = dst.meta;
    if (e.kind === 'symlink') {
      const target = copySymlinkAtomic({
        ...(meta === null ? {} : { applyMeta: (tmpAbs: Buffer) => meta.applyToSymlink(tmpAbs, e) }),
        targetDirAbs: to.dirFdPath,
        targetAbs: to.fdPath,
        linkTarget: Buffer.from(e.target, 'latin1'),
        mtimeNs: e.mtimeNs,
        expect,
        label,
        beforeRename,
        keepReplaced,
      });
      return { target, source: from, bytes: 0 };
    }
    if (e.kind !== 'file') throw new Error(`cannot copy a ${e.kind}`);
    const fromPlace = src.anchors.place(fromPath);
    try {
      const srcMeta = src.meta;
      // none at scan time means none now: adding one changes the ctime, which the copy checks (copy-file.ts)
      // the scan's values stand for the stat the copy holds the opened source to (copy-file.ts openSource)
      const xattrs =
        meta === null || srcMeta === null
          ? null
          : e.xattrs === '' && srcMeta.keepsXattrs
            ? NO_XATTRS
            : ((srcMeta.keepsXattrs ? src.scannedXattrs?.take(fromPath, from.stat, src.racyWindowNs) : undefined) ?? srcMeta.sourceXattrs(fromPlace.fdPath, label));
      if (srcMeta?.chownRefused === true) srcMeta.noteOwnerLeft(fromPlace.fdPath);
      // a small copy checks the owner after its rename (copy-file.ts), so it may take the cheaper path
      const dirKey = parentOf(toPath) ?? '';
      const applyMeta =
        meta === null
          ? null
          : e.size <= SMALL_FILE_MAX
            ? (fd: number, tmpAbs: Buffer) => meta.applyToTempFile(fd, tmpAbs, e, xattrs, label, dirKey)
            : (fd: number, tmpAbs: Buffer) => meta.applyToFile(fd, tmpAbs, e, xattrs, label);
      // no spread: a request built by spreading is a fresh object shape per copy, several times the allocation
      const r = await copyFileAtomic({
        applyMeta: applyMeta ?? undefined,
        sourceAbs: fromPlace.fdPath,
        targetDirAbs: to.dirFdPath,
        targetAbs: to.fdPath,
        source: from,
        expect,
        label,
        beforeRename,
        keepReplaced,
        sourceRacyWindowNs: src.racyWindowNs,
      });
      if (mayBeLinkedTo(from)) dst.installed.set(toPath, r.target.stat);
      return { target: r.target, source: r.source, bytes: r.bytes };
    } finally {
      fromPlace.release();
    }
  } finally {
    to.release();
  }
}
