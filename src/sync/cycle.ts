import { NextBase, type BaseChanges } from '../core/commit.js';
import { hashesNeeded } from '../core/hashes-needed.js';
import { fullCycleScope } from '../core/quiet.js';
import { columnarQuiet } from './quiet-columns.js';
import { Outcomes } from '../core/outcomes.js';
import { displayPath } from '../core/paths.js';
import { planOneWay } from '../core/reconcile-one-way.js';
import { planTwoWay } from '../core/reconcile-two-way.js';
import { withEntry } from '../core/scanned.js';
import { checkSafety } from '../core/safety.js';
import type { Scope } from '../core/scope.js';
import { isWritable } from '../core/sides.js';
import type { Action, Base, Outcome, Plan, Problem, RelPath, ScannedEntry, Side } from '../core/types.js';
import { executePlan } from '../engine/execute.js';
import { trashStamp } from '../engine/trash.js';
import { SafetyHaltError } from '../errors.js';
import { ScanTable } from '../scan/scan-table.js';
import { BaseTable } from '../store/base-table.js';
import { timing } from '../runtime/timings.js';
import type { OpenPair } from './pair.js';
import type { SyncSettings } from './settings.js';

/** One side as a cycle sees it: the entries are filled with hashes in place. */
export interface CycleSide {
  readonly side: Side;
  readonly entries: Map<RelPath, ScannedEntry>;
  readonly problems: Problem[];
  /** Its files with nlink > 1, when the caller keeps them apart (a watch): hard links are planned from those, not from a pass over the side. */
  readonly linked?: ReadonlyMap<RelPath, ScannedEntry>;
}

export interface CycleInput {
  readonly left: CycleSide;
  readonly right: CycleSide;
  readonly scope: Scope;
  /**
   * Whether the result's outcomes keep the records of what was applied (default: yes; a watch absorbs
   * them into its live scans). `sync` needs only the base changes: each outcome's records are folded
   * into them as it arrives and then dropped, so a run does not hold every copy's stats to its end.
   */
  readonly keepRecords?: boolean;
  /** The trash folder to keep replaced and deleted versions in (a watch keeps one a while); default: one stamped now. */
  readonly trashStamp?: string;
}

export interface CycleResult {
  readonly plan: Plan;
  readonly outcomes: Outcomes;
  readonly bytes: number;
  /** Scan and hashing problems, then the actions' problems. */
  readonly problems: readonly Problem[];
  /** What the base becomes; not yet applied to the pair's base or its index. */
  readonly changes: BaseChanges;
  readonly unresolvedConflicts: number;
  readonly dryRun: boolean;
  /** The run's trash folder name (null: no trash); persist makes it durable with what was written. */
  readonly trashStamp: string | null;
}

/** Who wants to follow a cycle as it applies its plan (the CLI's progress bar), and may ask it to stop early (Ctrl-C). */
export interface CycleObserver {
  /** The plan is made and about to be applied. */
  readonly onPlan?: (actions: number, bytes: number) => void;
  readonly onOutcome?: (o: Outcome, bytes: number) => void;
  /** Once aborted, no new action starts; those in flight finish and are reported as usual. */
  readonly stopSignal?: AbortSignal;
}

/**
 * One reconcile-and-apply cycle over already scanned sides: hash what decides the plan, plan (pure),
 * check the guards (pure), apply, and work out the next base (pure). Shared by `sync` (scope: all)
 * and `watch` (scope: the dirty paths); nothing is written to the index here (see persist.ts).
 */
export async function runCycle(pair: OpenPair, s: SyncSettings, input: CycleInput, observer: CycleObserver = {}): Promise<CycleResult> {
  const { left, right } = input;
  // a full cycle plans only the paths that are not quiet since the base (core/quiet.ts); on a no-op run, none
  // (proven from the columns where they can, sync/quiet-columns.ts)
  const scope = input.scope === 'all' ? fullCycleScope(s.mode, pair.base, left, right, columnarQuiet(s.mode, pair.base, left, right)) : input.scope;
  // One-way compares source with target only; the base matters to two-way's change detection.
  await fillHashes(pair, left, right, s.mode === 'one-way' ? new Map() : pair.base, scope, s.concurrency);
  const plan =
    s.mode === 'one-way'
      ? planOneWay({ source: left, target: right, scope, linked: left.linked !== undefined && right.linked !== undefined ? { source: left.linked, target: right.linked } : undefined })
      : planTwoWay({ base: pair.base, left, right, policy: s.policy, nowMs: Date.now(), scope, trash: s.trash.enabled });
  const halt = checkSafety({ mode: s.mode, plan, base: pair.base, left, right, force: s.force, deleteLimit: s.deleteLimit });
  if (halt !== null) throw new SafetyHaltError(halt.message);

  const scanProblems = [...left.problems, ...right.problems];
  const skippedConflicts = plan.conflicts.filter((c) => c.resolution === 'skipped').length;
  if (s.dryRun) {
    return {
      plan,
      outcomes: new Outcomes(),
      bytes: 0,
      problems: scanProblems,
      changes: { upserts: new Map(), removals: [] },
      unresolvedConflicts: skippedConflicts,
      dryRun: true,
      trashStamp: null,
    };
  }
  const bytesOf = (a: (typeof plan.actions)[number]): number => (a.type === 'copy' && a.source.entry.kind === 'file' ? a.source.entry.size : 0);
  observer.onPlan?.(
    plan.actions.length,
    plan.actions.reduce((n, a) => n + bytesOf(a), 0),
  );
  const racyWindowNs = await racyWindowsOf(pair, plan.actions);
  // the next base is worked out as the outcomes arrive: their records need not outlive them
  // the records go straight into columns (store/base-table.ts): an initial copy of 100k files kept an entry,
  // two side records and six BigInts per file here until the index was written
  const records = new BaseTable(plan.actions.length + 16);
  const next = new NextBase({ base: pair.base, left, right, plan, racyWindowNs, records });
  const onOutcome = (o: Outcome): void => {
    next.add(o);
    observer.onOutcome?.(o, o.status === 'applied' ? bytesOf(o.action) : 0);
  };
  const keepRecords = input.keepRecords !== false;
  const { outcomes, bytes, trashStamp } = await applyActions(pair, s, plan.actions, {
    onOutcome,
    stopSignal: observer.stopSignal,
    racyWindowNs,
    keepRecords,
    ...(input.trashStamp === undefined ? {} : { trashStamp: input.trashStamp }),
  });
  const failedConflicts = outcomes.conflictsNotApplied();
  const changes = next.finish(scope);
  const problems = [...scanProblems, ...outcomes.problems()];
  return { plan, outcomes, bytes, problems, changes, unresolvedConflicts: skippedConflicts + failedConflicts, dryRun: false, trashStamp };
}

export interface AppliedActions {
  readonly outcomes: Outcomes;
  readonly bytes: number;
  /** Per side, the racy window the records of this run must use (see fs/ctime-probe.ts). */
  readonly racyWindowNs: Readonly<Record<Side, bigint>>;
  /** The name of this run's trash folders (null: --no-trash). */
  readonly trashStamp: string | null;
}

/**
 * Runs actions through the engine with what they need from the pair: the ctime granularity of the
 * sides written (probed once) and a trash folder for this run on each side written (never a one-way
 * source). Shared by cycles and `tsync apply` (which has no scan: it starts here).
 */
export interface ApplyOptions {
  readonly onOutcome?: (o: Outcome) => void;
  readonly stopSignal?: AbortSignal;
  /** The sides' racy windows, when the caller took them already (racyWindowsOf). */
  readonly racyWindowNs?: Readonly<Record<Side, bigint>>;
  /** Whether the outcomes returned keep the records of applied actions (engine/execute.ts; default: yes). */
  readonly keepRecords?: boolean;
  /** The trash folder's name (CycleInput.trashStamp); default: one stamped now. */
  readonly trashStamp?: string;
}

export async function applyActions(
  pair: OpenPair,
  s: Pick<SyncSettings, 'mode' | 'concurrency' | 'trash' | 'keep' | 'chownRefused'>,
  actions: readonly Action[],
  { onOutcome, stopSignal, keepRecords, ...o }: ApplyOptions = {},
): Promise<AppliedActions> {
  const warn = (message: string): void => {
    if (!pair.warnings.includes(message)) pair.warnings.push(message);
  };
  const writes = (side: Side): boolean => writesTo(actions, side);
  const racyWindowNs = o.racyWindowNs ?? (await racyWindowsOf(pair, actions));
  // no actions, nothing to put in a trash: no stamp (a no-op run's first Date takes a few ms to set up)
  const stamp = o.trashStamp ?? (actions.length === 0 ? null : trashStamp(Date.now()));
  const trashOf = (side: Side): string | null => (s.trash.enabled && writes(side) && isWritable(s.mode, side) ? stamp : null);
  const { outcomes, bytes, copiesShared } = await executePlan(actions, {
    endpoints: pair.endpoints,
    concurrency: s.concurrency,
    racyWindowNs,
    trashStamp: { left: trashOf('left'), right: trashOf('right') },
    onOutcome,
    stopSignal,
    ...(keepRecords === undefined ? {} : { keepRecords }),
    keep: s.keep,
    chownRefused: s.chownRefused,
    warn,
  });
  if (copiesShared !== undefined) timing(`small copies shared with the copy worker: ${copiesShared.here} here, ${copiesShared.worker} in the worker`);
  return { outcomes, bytes, racyWindowNs, trashStamp: s.trash.enabled ? stamp : null };
}

/** Whether the actions write to `side` (a conflict unit writes to both). */
function writesTo(actions: readonly Action[], side: Side): boolean {
  return actions.some((a) => a.target === side || (a.type === 'conflict' && a.target !== side));
}

/** Per side, the racy window the records of a run of these actions must use (probed on the sides written, fs/ctime-probe.ts). */
export async function racyWindowsOf(pair: OpenPair, actions: readonly Action[]): Promise<Readonly<Record<Side, bigint>>> {
  return { left: await pair.racyWindowNs('left', writesTo(actions, 'left')), right: await pair.racyWindowNs('right', writesTo(actions, 'right')) };
}

/** Reads the files whose content decides the plan (see core/hashes-needed.ts), in parallel, in place. */
export async function fillHashes(pair: OpenPair, left: CycleSide, right: CycleSide, base: Base, scope: Scope, concurrency: number): Promise<void> {
  const requests = hashesNeeded(left, right, base, scope);
  if (requests.length === 0) return;
  // both sides at once, as one queue did: the two roots are often on different disks
  const pathsOf = (cs: CycleSide): RelPath[] => requests.filter((r) => r.side === cs.side && cs.entries.get(r.path)?.entry.kind === 'file').map((r) => r.path);
  const sides = [left, right];
  const results = await Promise.all(sides.map((cs) => pair.endpoints[cs.side].hash(pathsOf(cs), concurrency)));
  sides.forEach((cs, i) => {
    for (const [path, got] of results[i] ?? []) {
      const scanned = cs.entries.get(path);
      if (scanned === undefined || scanned.entry.kind !== 'file') continue;
      if ('hash' in got) {
        // into the scan's columns where it is kept so (scan-table.ts fillHash), else the entry set anew
        if (!(cs.entries instanceof ScanTable && cs.entries.fillHash(path, got.hash))) cs.entries.set(path, withEntry(scanned, { ...scanned.entry, hash: got.hash }));
      } else cs.problems.push({ path, side: cs.side, code: got.code === 'ENOENT' ? 'vanished' : 'unreadable', message: `${displayPath(path)}: cannot read (${got.code})` });
    }
  });
}
