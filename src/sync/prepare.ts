import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { baseName } from '../core/paths.js';
import { isWritable, writableSides } from '../core/sides.js';
import type { AbsPath, RelPath, Side } from '../core/types.js';
import { DirAnchors } from '../engine/dir-anchors.js';
import { pruneTrash } from '../engine/trash.js';
import { toBytes } from '../fs/paths.js';
import { isLeftoverTemp } from '../fs/temp-name.js';
import type { OpenPair } from './pair.js';
import type { SyncSettings } from './settings.js';

/** Leftover temp files a scan found, per side (none where nothing was scanned). */
export type LeftoverTemps = Readonly<Partial<Record<Side, readonly RelPath[]>>>;

/**
 * Gets the sides a run may write ready for it, before any action: a missing root is created, trash
 * folders past their retention period are dropped, and temp files of killed runs are removed. Only
 * on writable sides (a one-way source is never touched), and never in a dry run.
 */
export async function prepareSides(pair: OpenPair, s: Pick<SyncSettings, 'mode' | 'dryRun' | 'trash'>, temps: LeftoverTemps = {}): Promise<void> {
  if (s.dryRun) return;
  for (const side of writableSides(s.mode)) {
    if (isMissing(pair, side)) {
      mkdirSync(toBytes(pair.root(side)), { recursive: true });
      continue;
    }
    if (s.trash.enabled) pruneTrash(pair.root(side), s.trash.keepMs, Date.now());
    await removeLeftoverTemps(pair.root(side), temps[side] ?? []);
  }
}

/** Removes the temp files a partial rescan found (watch mode), on a side the run may write. */
export async function removeLeftoversOf(pair: OpenPair, mode: SyncSettings['mode'], side: Side, temps: readonly RelPath[]): Promise<void> {
  if (isWritable(mode, side) && temps.length > 0) await removeLeftoverTemps(pair.root(side), temps);
}

function isMissing(pair: OpenPair, side: Side): boolean {
  return side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing;
}

/** Temp files of killed runs are ours to remove; those of a live process are not. */
async function removeLeftoverTemps(root: AbsPath, temps: readonly RelPath[]): Promise<void> {
  if (temps.length === 0) return;
  const anchors = new DirAnchors(root);
  try {
    for (const rel of temps) {
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
