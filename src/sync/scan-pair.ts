import type { Side } from '../core/types.js';
import { PathFilter } from '../ignore/path-filter.js';
import { scanTree, type ScanResult } from '../scan/scan.js';
import type { OpenPair } from './pair.js';
import type { SyncSettings } from './settings.js';

/** A full scan of one side; a missing root is an empty side. The index's stat cache vouches for unchanged files. */
export function scanSide(pair: OpenPair, s: Pick<SyncSettings, 'checksum'>, side: Side, filter: PathFilter): ScanResult {
  if (side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing) return { side, entries: new Map(), problems: [], leftoverTemps: [] };
  const sideRecord = pair.store.sideRecordLookup(pair.base, side);
  return scanTree({ root: pair.root(side), side, base: pair.base, sideRecord, checksum: s.checksum, filter });
}

/** One filter for both sides of a run: the same paths are excluded on each (path-filter.ts). */
export function filterOf(pair: OpenPair, s: Pick<SyncSettings, 'filters'>): PathFilter {
  const roots = [pair.roots.leftMissing ? null : pair.roots.left, pair.roots.rightMissing ? null : pair.roots.right].filter((r) => r !== null);
  return new PathFilter(s.filters, roots);
}
