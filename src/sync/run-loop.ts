import { readFileSync } from 'node:fs';
import { nextBase } from '../core/commit.js';
import { isWritable } from '../core/sides.js';
import type { Outcomes } from '../core/outcomes.js';
import type { AbsPath, Plan, Problem, Side } from '../core/types.js';
import { UsageError } from '../errors.js';
import { textOfAbs } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import type { ScanResult } from '../scan/scan.js';
import { applyActions, runCycle, type CycleObserver, type CycleSide } from './cycle.js';
import { openPair, openPairOverlapped, type OpenPair } from './pair.js';
import type { PlanRoot } from './plan-file.js';
import { writtenPathsOf } from '../core/written-paths.js';
import { durabilityOf } from './deferred-flush.js';
import { persist, runRecordOf } from './persist.js';
import { prepareSides } from './prepare.js';
import { filterOf, scanBothSides, scanLocalBesideRemote } from './scan-pair.js';
import type { SyncMode, SyncSettings } from './settings.js';

export type { SyncMode, SyncSettings } from './settings.js';

/** What one `sync`, `plan` (a dry run) or `apply` did, for the reporter. */
export interface RunSummary {
  readonly mode: SyncMode;
  readonly plan: Plan;
  readonly outcomes: Outcomes;
  readonly problems: readonly Problem[];
  readonly warnings: readonly string[];
  readonly bytes: number;
  readonly dryRun: boolean;
  /** Conflicts left as they were (policy skip, or a resolution that failed). */
  readonly unresolvedConflicts: number;
  /** Stopped early (Ctrl-C): the actions not started are neither outcomes nor recorded. */
  readonly interrupted?: boolean;
}

/*
 * Every command takes the same stages: open the pair (lock, index, base), scan, plan and check the
 * guards (cycle.ts), prepare the writable sides (prepare.ts), apply, work out the next base, and persist
 * (persist.ts: flush, then one transaction with the base, the conflicts and the run-log row).
 * `sync` runs them once over everything; `apply` starts at "apply" with a plan from a file; `watch`
 * (watched-pair.ts, watch-loop.ts) runs a cycle per batch of hints and persists batches on a timer.
 */

/**
 * One `tsync sync` (or, as a dry run, `tsync plan` / `status`). `readIndex` sees the opened pair before
 * the run: `status` reads the run log and the open conflicts there instead of opening the pair again.
 */
export async function runSync(asked: SyncSettings, observer: CycleObserver = {}, readIndex?: (pair: OpenPair) => void): Promise<RunSummary> {
  const startedAtMs = Date.now();
  const t = phaseTimer();
  // a remote pair's local root is walked while ssh connects, when the last run's memo of the far root holds (pair.ts)
  // a flush the last run owes is made while the roots are walked: the walk only reads (pair.ts owedFlushSettled)
  const { pair, early } = await openPairOverlapped({ ...asked, overlapOwedFlush: true }, (p) => scanLocalBesideRemote(p, pairLimitsOf(asked, p).settings, p.localSide, p.localEndpoint));
  t(`open (lock, index; the base loads on first use)${early === null ? '' : ', the local root walked meanwhile'}`);
  try {
    // the same settings the early walk had: it is kept only when the far side's facts, which set the limits, are the memo's
    const s = withinPairLimits(asked, pair);
    readIndex?.(pair);
    const filter = filterOf(pair, s);
    let { left, right, way, reason } = await scanBothSides(pair, s, filter, early === null ? {} : { earlyLocal: early });
    t(
      `scan both roots, ${way}${reason === undefined ? '' : ` (${reason})`} (${left.entries.size} + ${right.entries.size} entries${listedAheadNote(left, right)}; the base from ${pair.store.baseSource ?? 'nowhere'})`,
    );
    // nothing acts on the base (prepareSides removes leftovers, the cycle plans and applies) before that flush has ended
    if (await pair.owedFlushSettled()) {
      // it failed, and the last run's rows were taken back: walked again against the base as it is now, as when
      // the flush was made before the walk (a walk takes hashes from the base's rows)
      ({ left, right, way, reason } = await scanBothSides(pair, s, filter));
      t("scan both roots again, the last run's rows taken back");
    }
    t('the owed flush waited for after the walk');
    await prepareSides(pair, s, { left: left.leftoverTemps, right: right.leftoverTemps });
    const r = await runCycle(pair, s, { left: asCycleSide(left), right: asCycleSide(right), scope: 'all', keepRecords: false }, observer);
    t(`cycle (${r.plan.actions.length} actions)`);
    const summary: RunSummary = {
      mode: s.mode,
      plan: r.plan,
      outcomes: r.outcomes,
      problems: r.problems,
      warnings: pair.warnings,
      bytes: r.bytes,
      dryRun: r.dryRun,
      unresolvedConflicts: r.unresolvedConflicts,
      interrupted: observer.stopSignal?.aborted === true && !r.dryRun,
    };
    if (r.dryRun) return summary;
    const run = runRecordOf('sync', s.mode, startedAtMs, {
      outcomes: r.outcomes,
      bytes: r.bytes,
      conflicts: r.plan.conflicts.length,
      problems: r.problems.length,
      exitCode: exitStatusOf(summary),
    });
    await persist(
      pair,
      { changes: r.changes, conflicts: r.plan.conflicts, openConflictScope: 'all', runs: [run], written: writtenPathsOf(r.outcomes, r.trashStamp), atMs: startedAtMs },
      durabilityOf(s.flush, s.flushNow === true),
    );
    t(`flush and commit (${r.changes.upserts.size} upserts, ${r.changes.removals.length} removals)`);
    return summary;
  } finally {
    await pair.close();
    t('close (the base snapshot written, the index closed, the lock released)');
  }
}

/**
 * The settings narrowed to what the pair's sides can do, each limit said once: a far side without xattr
 * support keeps no xattrs on either side (they would differ for ever), and a far side whose agent may not
 * chown keeps no owners where it is written (a one-way source there is only read).
 */
function withinPairLimits(s: SyncSettings, pair: OpenPair): SyncSettings {
  const { settings, warnings } = pairLimitsOf(s, pair);
  pair.warnings.push(...warnings);
  return settings;
}

/** withinPairLimits without saying anything: the settings, and the warnings that say what they drop. */
function pairLimitsOf(s: SyncSettings, pair: Pick<OpenPair, 'xattrsUnavailable' | 'remoteChownRefused' | 'remote'>): { settings: SyncSettings; warnings: string[] } {
  const keep = s.keep;
  const warnings: string[] = [];
  if (keep === undefined) return { settings: s, warnings };
  let kept = keep;
  if (pair.xattrsUnavailable !== null && kept.xattrs) {
    warnings.push(pair.xattrsUnavailable);
    kept = { ...kept, xattrs: false };
  }
  const remoteWritten = pair.remote !== null && isWritable(s.mode, pair.remote);
  if (pair.remoteChownRefused !== null && remoteWritten && (kept.owner || kept.group)) {
    warnings.push(pair.remoteChownRefused);
    kept = { ...kept, owner: false, group: false };
  }
  return { settings: kept === keep ? s : { ...s, keep: kept }, warnings };
}

/**
 * `tsync apply plan.json`: carries out a stored plan. Nothing is planned again: each action's
 * preconditions (its target's and source's state when the plan was made) are re-checked by the engine
 * right before it writes, and an action whose preconditions no longer hold is refused (stale) and
 * reported; the others go ahead. The index records what was applied, and the plan's conflicts, as
 * after a sync.
 */
export async function applyPlanFile(
  file: string,
  s: Pick<SyncSettings, 'stateDir' | 'concurrency' | 'flush' | 'flushNow' | 'trash' | 'waitSeconds' | 'keep' | 'chownRefused' | 'sshCommand'>,
): Promise<RunSummary> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the plan ${file} (${errCode(e)})`);
  }
  // imported here, not at the top: the schema library it needs is for `apply` alone
  const { parsePlan } = await import('./plan-parse.js');
  const parsed = parsePlan(text, file);
  const startedAtMs = Date.now();
  const settings = { ...s, mode: parsed.mode, dryRun: false };
  const pair = await openPair({
    left: rootArgument(parsed.left),
    right: rootArgument(parsed.right),
    mode: parsed.mode,
    stateDir: s.stateDir,
    force: false,
    waitSeconds: s.waitSeconds,
    dryRun: false,
    ...(s.sshCommand === undefined ? {} : { sshCommand: s.sshCommand }),
  });
  try {
    assertSameRemoteRoot(pair, parsed, file);
    await prepareSides(pair, settings);
    const { outcomes, bytes, racyWindowNs, trashStamp } = await applyActions(pair, settings, parsed.actions);
    const conflicts = parsed.actions.flatMap((a) => (a.type === 'conflict' ? [a.conflict] : []));
    const plan: Plan = { actions: parsed.actions, agreed: [], skipped: [], conflicts };
    const empty = { side: 'left' as const, entries: new Map(), problems: [] };
    // Scope: nothing beyond the records of what was applied (no scan ran, so nothing can be judged gone).
    const changes = nextBase({ base: pair.base, left: empty, right: { ...empty, side: 'right' }, plan, outcomes, scope: new Set(), racyWindowNs });
    const problems = outcomes.problems();
    const unresolvedConflicts = outcomes.conflictsNotApplied();
    const summary: RunSummary = { mode: parsed.mode, plan, outcomes, problems, warnings: pair.warnings, bytes, dryRun: false, unresolvedConflicts };
    const run = runRecordOf('apply', parsed.mode, startedAtMs, { outcomes, bytes, conflicts: conflicts.length, problems: problems.length, exitCode: exitStatusOf(summary) });
    // The open conflicts stay as they are: a plan says nothing about paths it does not touch.
    await persist(
      pair,
      { changes, conflicts, openConflictScope: new Set(), runs: [run], written: writtenPathsOf(outcomes, trashStamp), atMs: startedAtMs },
      durabilityOf(s.flush, s.flushNow === true),
    );
    return summary;
  } finally {
    await pair.close();
  }
}

/** How apply names a root again: a local one by its real path, a remote one as it was given to plan. */
function rootArgument(r: PlanRoot): string {
  return r.kind === 'local' ? textOfAbs(r.path as AbsPath) : r.spec;
}

/**
 * A remote root given as `host:path` may now be another directory (another machine behind the name, a
 * moved symlink, a relative path under another home): the plan's preconditions were taken on the one
 * it names by identity, so anything else is refused before a single write.
 */
function assertSameRemoteRoot(pair: OpenPair, parsed: Record<Side, PlanRoot>, file: string): void {
  for (const side of ['left', 'right'] as const) {
    const planned = parsed[side];
    if (planned.kind !== 'remote') continue;
    const now = pair.root(side);
    if (now !== planned.identity)
      throw new UsageError(`${file}: ${planned.spec} is not the root the plan was made for (planned ${displayRoot(planned.identity)}, now ${displayRoot(now)}); make a new plan`);
  }
}

function displayRoot(identity: string): string {
  return Buffer.from(identity, 'latin1').toString('utf8');
}

/**
 * 0 in sync, 1 partial, 3 conflicts left unresolved (problems take precedence: they need a look first),
 * 130 stopped by Ctrl-C (before all of those: the run is not done).
 */
export function exitStatusOf(s: Pick<RunSummary, 'problems' | 'unresolvedConflicts' | 'interrupted'>): 0 | 1 | 3 | 130 {
  if (s.interrupted === true) return 130;
  if (s.problems.length > 0) return 1;
  if (s.unresolvedConflicts > 0) return 3;
  return 0;
}

/** For TSYNC_TIMINGS: how many directories the walks took from the addon's reader (scan/list-ahead.ts), where any. */
function listedAheadNote(left: ScanResult, right: ScanResult): string {
  const n = (left.listedAhead ?? 0) + (right.listedAhead ?? 0);
  return n === 0 ? '' : `, ${n} directories listed ahead`;
}

function asCycleSide(r: ScanResult): CycleSide {
  return { side: r.side, entries: r.entries, problems: r.problems };
}

/**
 * TSYNC_TIMINGS=1 prints how long each phase of a run took, on stderr (for profiling, not a contract),
 * with the heap in use, the RSS, and the peak RSS so far: the phase where the peak grew is the one that
 * holds or churns the memory (issue 11).
 */
function phaseTimer(): (label: string) => void {
  if (process.env.TSYNC_TIMINGS !== '1') return () => undefined;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
  return (label) => {
    const now = performance.now();
    // the process's CPU (every thread: the pool's and a worker's too), which says whether a phase waited
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    const m = process.memoryUsage();
    const peak = process.resourceUsage().maxRSS * 1024;
    process.stderr.write(
      `tsync timing: ${label}: ${(now - last).toFixed(1)} ms to ${now.toFixed(0)} ms after the process began, cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms (heap ${mib(m.heapUsed)} of ${mib(m.heapTotal)} MiB, outside the heap ${mib(m.external)} MiB, rss ${mib(m.rss)} MiB, peak ${mib(peak)} MiB)\n`,
    );
    last = now;
  };
}
