import type { Problem, RelPath, ScannedEntry } from '../core/types.js';
import { forgetBelow, type LiveScan } from './scan.js';

/**
 * Replaces what a live scan knew at and below each of `roots` by what a fresh walk of them found
 * (scan.ts walkPaths): the same bookkeeping rescanPaths does in place, for a walk done elsewhere (a
 * remote side's agent). A root the walk did not find is gone, with everything below it.
 */
export function applyRescan(live: LiveScan, roots: readonly RelPath[], fresh: { readonly entries: ReadonlyMap<RelPath, ScannedEntry>; readonly problems: readonly Problem[] }): void {
  for (const path of roots) {
    live.entries.delete(path);
    live.problems.delete(path);
    // forgetBelow costs the subtree's size (live.below), so calling it for a file is cheap
    forgetBelow(live, path);
  }
  for (const [p, scanned] of fresh.entries) live.entries.set(p, scanned);
  for (const p of fresh.problems) live.problems.set(p.path, p);
}
