import { isWritable, writableSides } from '../core/sides.js';
import type { RelPath, Side } from '../core/types.js';
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
    await pair.endpoints[side].prepare({ createRoot: isMissing(pair, side), trashKeepMs: s.trash.enabled ? s.trash.keepMs : null, leftoverTemps: temps[side] ?? [] });
  }
}

/** Removes the temp files a partial rescan found (watch mode), on a side the run may write. */
export async function removeLeftoversOf(pair: OpenPair, mode: SyncSettings['mode'], side: Side, temps: readonly RelPath[]): Promise<void> {
  if (isWritable(mode, side) && temps.length > 0) await pair.endpoints[side].removeTemps(temps);
}

function isMissing(pair: OpenPair, side: Side): boolean {
  return side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing;
}
