import { errCode } from '../fs/stat.js';
import { mkdirSync } from 'node:fs';
import type { Outcome, Plan, Problem, Side } from '../core/types.js';
import { flushFileSystem } from '../fs/flush.js';
import { toBytes } from '../fs/paths.js';
import { PathFilter } from '../ignore/path-filter.js';
import { scanTree, type ScanResult } from '../scan/scan.js';
import { pruneTrashes, removeLeftoverTemps, runCycle, runRecordOf, sidesWritten, type CycleObserver, type CycleSide } from './cycle.js';
import { openPair, type OpenPair } from './pair.js';
import type { SyncMode, SyncSettings } from './settings.js';

export type { SyncMode, SyncSettings } from './settings.js';

export interface RunSummary {
  readonly mode: SyncMode;
  readonly plan: Plan;
  readonly outcomes: readonly Outcome[];
  readonly problems: readonly Problem[];
  readonly warnings: readonly string[];
  readonly bytes: number;
  readonly dryRun: boolean;
  /** Conflicts left as they were (policy skip, or a resolution that failed). */
  readonly unresolvedConflicts: number;
}

/**
 * One `tsync sync` run: lock the pair, scan both roots (the index's stat cache vouches for unchanged
 * files), run one cycle over everything, flush what was written, and commit to the index what was
 * applied, in one transaction.
 */
export async function runSync(s: SyncSettings, observer: CycleObserver = {}): Promise<RunSummary> {
  const startedAtMs = Date.now();
  const t = phaseTimer();
  const pair = await openPair(s);
  t('open (lock, index, base)');
  try {
    const filter = filterOf(pair, s);
    const left = scanSide(pair, s, 'left', filter);
    t(`scan first root (${left.entries.size} entries)`);
    const right = scanSide(pair, s, 'right', filter);
    t(`scan second root (${right.entries.size} entries)`);
    if (!s.dryRun) {
      pruneTrashes(pair, s);
      if (pair.roots.rightMissing) mkdirSync(toBytes(pair.roots.right), { recursive: true });
      await removeLeftoverTemps(pair.roots.right, right.leftoverTemps);
      if (s.mode === 'two-way') await removeLeftoverTemps(pair.roots.left, left.leftoverTemps);
    }
    const r = await runCycle(pair, s, { left: asCycleSide(left), right: asCycleSide(right), scope: 'all' }, observer);
    t(`cycle (${r.plan.actions.length} actions)`);
    const summary: RunSummary = {
      mode: s.mode, plan: r.plan, outcomes: r.outcomes, problems: r.problems, warnings: pair.warnings, bytes: r.bytes, dryRun: r.dryRun, unresolvedConflicts: r.unresolvedConflicts,
    };
    if (r.dryRun) return summary;
    if (s.flush) for (const side of sidesWritten(r.outcomes)) flushFileSystem(pair.root(side));
    t('flush');
    pair.store.applyChanges(r.changes, r.plan.conflicts, startedAtMs);
    t(`commit (${r.changes.upserts.size} upserts, ${r.changes.removals.length} removals)`);
    try {
      pair.store.recordRun(runRecordOf(s.mode, startedAtMs, r.outcomes, r.bytes, r.problems.length, exitStatusOf(summary)));
    } catch (e) {
      // the run log (`tsync log`) is a convenience: the index itself is committed by now
      return { ...summary, warnings: [...summary.warnings, `could not add this run to the run log (${errCode(e)})`] };
    }
    return summary;
  } finally {
    pair.close();
  }
}

/** TSYNC_TIMINGS=1 prints how long each phase of a run took, on stderr (for profiling, not a contract). */
function phaseTimer(): (label: string) => void {
  if (process.env.TSYNC_TIMINGS !== '1') return () => undefined;
  let last = performance.now();
  return (label) => {
    const now = performance.now();
    process.stderr.write(`tsync timing: ${label}: ${(now - last).toFixed(1)} ms\n`);
    last = now;
  };
}

export function scanSide(pair: OpenPair, s: SyncSettings, side: Side, filter: PathFilter): ScanResult {
  if (side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing) return { side, entries: new Map(), problems: [], leftoverTemps: [] };
  const sideRecord = pair.store.sideRecordLookup(pair.base, side);
  return scanTree({ root: pair.root(side), side, base: pair.base, sideRecord, checksum: s.checksum, filter });
}

/** One filter for both sides of a run: the same paths are excluded on each (path-filter.ts). */
export function filterOf(pair: OpenPair, s: SyncSettings): PathFilter {
  const roots = [pair.roots.leftMissing ? null : pair.roots.left, pair.roots.rightMissing ? null : pair.roots.right].filter((r) => r !== null);
  return new PathFilter(s.filters, roots);
}

function asCycleSide(r: ScanResult): CycleSide {
  return { side: r.side, entries: r.entries, problems: r.problems };
}

/** 0 in sync, 1 partial, 3 conflicts left unresolved (problems take precedence: they need a look first). */
export function exitStatusOf(s: Pick<RunSummary, 'problems' | 'unresolvedConflicts'>): 0 | 1 | 3 {
  if (s.problems.length > 0) return 1;
  if (s.unresolvedConflicts > 0) return 3;
  return 0;
}
