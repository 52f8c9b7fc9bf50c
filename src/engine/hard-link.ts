import { lstatSync, linkSync, renameSync } from 'node:fs';
import type { Expectation, ScannedEntry } from '../core/types.js';
import { nowNs, statIdOf } from '../fs/stat.js';
import { tempName } from '../fs/temp-name.js';
import { discardTemp, exchangeIntoPlace, placeNew } from './copy-file.js';
import { assertExpected, StaleTargetError } from './guards.js';

export interface LinkRequest {
  /** The source as scanned: its entry is what the new name records (its side checks it: assertSourceUnchanged). */
  readonly source: ScannedEntry;
  /** The target's first path of the group (descriptor-anchored): the inode to give one more name. */
  readonly linkToAbs: Buffer;
  /** The inode, size and mtime that path must have: as scanned, or as installed earlier in this run. */
  readonly linkTo: { readonly ino: bigint; readonly size: number; readonly mtimeNs: bigint };
  readonly targetDirAbs: Buffer;
  readonly targetAbs: Buffer;
  readonly expect: Expectation;
  readonly label: string;
  readonly beforeRename: () => void;
  readonly keepReplaced: () => void;
}

const SLASH = Buffer.of(0x2f);

/** On the source side, before a link: the name must still be the file the scan saw (`abs` descriptor-anchored). */
export function assertSourceUnchanged(abs: Buffer, source: ScannedEntry, label: string): void {
  const src = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  if (src === undefined || !src.isFile() || src.ino !== source.stat.ino || Number(src.size) !== source.stat.size || src.mtimeNs !== source.stat.mtimeNs) {
    throw new StaleTargetError(`${label}: the source changed since the scan`);
  }
}

/**
 * Gives the target's inode at `linkToAbs` one more name, atomically: link() to a temp name in the
 * target's directory, check that what got linked is the inode expected (link() never follows a symlink:
 * a symlink planted there is linked as a symlink, and refused here), then rename over the target after
 * the usual stale check. A crash leaves the old file or the new link at the final name, never neither.
 */
export function linkAtomic(req: LinkRequest): ScannedEntry {
  const tmpAbs = Buffer.concat([req.targetDirAbs, SLASH, Buffer.from(tempName(), 'latin1')]);
  linkSync(req.linkToAbs, tmpAbs);
  let renamed = false;
  try {
    const linked = lstatSync(tmpAbs, { bigint: true });
    if (!linked.isFile() || linked.ino !== req.linkTo.ino || Number(linked.size) !== req.linkTo.size || linked.mtimeNs !== req.linkTo.mtimeNs) {
      throw new StaleTargetError(`${req.label}: the file it is a hard link of changed since the scan`);
    }
    req.beforeRename();
    if (req.expect === null) {
      placeNew(tmpAbs, req.targetAbs, req.label);
    } else {
      assertExpected(req.targetAbs, req.expect, req.label);
      req.keepReplaced();
      // swapped where the addon can (copy-file.ts exchangeIntoPlace: a file renamed onto the target meanwhile stays)
      if (!exchangeIntoPlace(tmpAbs, req.targetAbs, req.expect, req.label)) renameSync(tmpAbs, req.targetAbs);
    }
    renamed = true;
  } finally {
    // rename() between two names of one inode does nothing and succeeds: the temp name may still be there (and
    // after a swap it is removed only while it is ours: discardTemp)
    if (!renamed || lstatSync(tmpAbs, { throwIfNoEntry: false }) !== undefined) discardTemp(tmpAbs);
  }
  const after = lstatSync(req.targetAbs, { bigint: true });
  if (after.ino !== req.linkTo.ino) throw new StaleTargetError(`${req.label}: replaced while it was linked`);
  return { entry: req.source.entry, stat: statIdOf(after), observedAtNs: nowNs() };
}
