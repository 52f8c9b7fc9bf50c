import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import PQueue from 'p-queue';
import { commitChanges } from '../core/commit.js';
import { hashesNeeded } from '../core/hashes-needed.js';
import { baseName, displayPath } from '../core/paths.js';
import { planOneWay } from '../core/reconcile-one-way.js';
import { planTwoWay } from '../core/reconcile-two-way.js';
import { checkSafety, type DeleteLimit } from '../core/safety.js';
import type { AbsPath, Base, ConflictPolicy, Outcome, Plan, Problem, RelPath, ScannedEntry, Side, Snapshot } from '../core/types.js';
import { RootError, SafetyHaltError } from '../errors.js';
import { toBytes, under } from '../fs/paths.js';
import { flushFileSystem } from '../fs/flush.js';
import { errCode } from '../fs/stat.js';
import { executePlan } from '../engine/execute.js';
import { isLeftoverTemp } from '../engine/temp-name.js';
import { HASH_CHUNK, hashFile, loadHasher } from '../hash/xxhash.js';
import { scanTree, type ScanResult } from '../scan/scan.js';
import { acquirePairLock } from '../store/lock.js';
import { ensureStateDir, StateStore } from '../store/store.js';
import { resolveRoots, type ResolvedRoots } from './roots.js';

export type SyncMode = 'one-way' | 'two-way';

export interface SyncSettings {
  readonly left: string;
  readonly right: string;
  readonly mode: SyncMode;
  readonly policy: ConflictPolicy;
  readonly stateDir: string;
  readonly checksum: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly deleteLimit: DeleteLimit;
  readonly concurrency: number;
  /** How long to wait for another tsync on the same pair (0: exit 5 at once). */
  readonly waitSeconds: number;
  /** Flush written roots to disk before the index records them (--no-fsync turns it off). */
  readonly flush: boolean;
}

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
 * One sync run: scan both roots (the index's stat cache vouches for unchanged files), hash only what
 * decides the plan, plan (pure), check the safety guards (pure), apply, and commit to the index what
 * was applied, in one transaction.
 */
export async function runSync(s: SyncSettings): Promise<RunSummary> {
  const startedAtMs = Date.now();
  const roots = resolveRoots(s.left, s.right, { createRight: s.mode === 'one-way', allowMissing: s.mode === 'two-way' });
  await loadHasher();
  ensureStateDir(s.stateDir);
  const lock = await acquirePairLock(s.stateDir, roots.left, roots.right, s.waitSeconds);
  try {
    return await runLocked(s, roots, startedAtMs);
  } finally {
    lock.release();
  }
}

async function runLocked(s: SyncSettings, roots: ResolvedRoots, startedAtMs: number): Promise<RunSummary> {
  const { store, warning } = StateStore.open(s.stateDir, roots.left, roots.right);
  const warnings = warning === null ? [] : [warning];
  try {
    const base = store.loadBase();
    if (s.mode === 'two-way') guardMissingRoots(roots, base, s.force);
    const scanSide = (side: Side): ScanResult => {
      if (side === 'left' ? roots.leftMissing : roots.rightMissing) return emptyScan(side);
      const root = side === 'left' ? roots.left : roots.right;
      return scanTree({ root, side, base, sideRecord: store.sideRecordLookup(base, side), checksum: s.checksum });
    };
    const scannedLeft = scanSide('left');
    const scannedRight = scanSide('right');
    // One-way compares source with target only; the base matters to two-way's change detection.
    const hashBase = s.mode === 'one-way' ? new Map() : base;
    const [left, right] = await fillHashes(scannedLeft, scannedRight, hashBase, roots, s.concurrency);

    const plan = s.mode === 'one-way' ? planOneWay({ source: left, target: right }) : planTwoWay({ base, left, right, policy: s.policy, nowMs: Date.now() });
    const halt = checkSafety({ mode: s.mode, plan, base, left, right, force: s.force, deleteLimit: s.deleteLimit });
    if (halt !== null) throw new SafetyHaltError(halt.message);

    const scanProblems = [...left.problems, ...right.problems];
    const skippedConflicts = plan.conflicts.filter((c) => c.resolution === 'skipped').length;
    if (s.dryRun) {
      return { mode: s.mode, plan, outcomes: [], problems: scanProblems, warnings, bytes: 0, dryRun: true, unresolvedConflicts: skippedConflicts };
    }

    for (const side of ['left', 'right'] as const) {
      const missing = side === 'left' ? roots.leftMissing : roots.rightMissing;
      if (missing) mkdirSync(toBytes(side === 'left' ? roots.left : roots.right), { recursive: true });
    }
    await removeLeftoverTemps(roots.right, scannedRight.leftoverTemps);
    if (s.mode === 'two-way') await removeLeftoverTemps(roots.left, scannedLeft.leftoverTemps);

    const { outcomes, bytes } = await executePlan(plan.actions, { roots, concurrency: s.concurrency });
    const failedConflicts = outcomes.filter((o) => o.action.type === 'conflict' && o.status !== 'applied').length;
    if (s.flush) for (const side of sidesWritten(outcomes)) flushFileSystem(side === 'left' ? roots.left : roots.right);
    store.applyChanges(commitChanges({ base, left, right, plan, outcomes }), plan.conflicts, startedAtMs);

    const problems = [...scanProblems, ...outcomes.flatMap((o) => (o.problem === undefined ? [] : [o.problem]))];
    const summary: RunSummary = {
      mode: s.mode, plan, outcomes, problems, warnings, bytes, dryRun: false, unresolvedConflicts: skippedConflicts + failedConflicts,
    };
    const applied = outcomes.filter((o) => o.status === 'applied');
    store.recordRun({
      startedAtMs,
      endedAtMs: Date.now(),
      mode: s.mode,
      copied: applied.filter((o) => o.action.type === 'copy').length,
      deleted: applied.filter((o) => o.action.type === 'delete').length,
      bytes,
      problems: problems.length,
      exitCode: exitStatusOf(summary),
    });
    return summary;
  } finally {
    store.close();
  }
}

function sidesWritten(outcomes: readonly Outcome[]): Side[] {
  const sides = new Set<Side>();
  for (const o of outcomes) {
    if (o.status === 'applied' || (o.records?.length ?? 0) > 0) sides.add(o.action.target);
    if (o.action.type === 'conflict' && (o.records?.length ?? 0) > 0) sides.add(o.action.target === 'left' ? 'right' : 'left');
  }
  return [...sides];
}

/** 0 in sync, 1 partial, 3 conflicts left unresolved (problems take precedence: they need a look first). */
export function exitStatusOf(s: RunSummary): 0 | 1 | 3 {
  if (s.problems.length > 0) return 1;
  if (s.unresolvedConflicts > 0) return 3;
  return 0;
}

/**
 * Two-way: a root that is gone is an unmounted disk until proven otherwise. With a base, propagating
 * its absence would delete everything on the other side: halt. Without one, it is simply a bad argument.
 */
function guardMissingRoots(roots: ResolvedRoots, base: Base, force: boolean): void {
  for (const [missing, text] of [[roots.leftMissing, roots.leftText], [roots.rightMissing, roots.rightText]] as const) {
    if (!missing) continue;
    if (base.size === 0) throw new RootError(`${text} does not exist`);
    if (!force) throw new SafetyHaltError(`${text} is missing but held ${base.size} entries at the last sync; refusing to propagate that (an unmounted disk?); use --force if it is really meant`);
  }
}

function emptyScan(side: Side): ScanResult {
  return { side, entries: new Map(), problems: [], leftoverTemps: [] };
}

/** Reads the files whose content decides the plan (see core/hashes-needed.ts), in parallel. */
async function fillHashes(left: Snapshot, right: Snapshot, base: Base, roots: ResolvedRoots, concurrency: number): Promise<[Snapshot, Snapshot]> {
  const requests = hashesNeeded(left, right, base);
  if (requests.length === 0) return [left, right];
  const filled = { left: new Map(left.entries), right: new Map(right.entries) };
  const problems = { left: [...left.problems], right: [...right.problems] };
  const queue = new PQueue({ concurrency });
  const buffers: Buffer[] = [];
  for (const req of requests) {
    void queue.add(async () => {
      const entries = filled[req.side];
      const scanned = entries.get(req.path);
      if (scanned === undefined || scanned.entry.kind !== 'file') return;
      const buffer = buffers.pop() ?? Buffer.allocUnsafe(HASH_CHUNK);
      try {
        const root = req.side === 'left' ? roots.left : roots.right;
        const { hash } = await hashFile(toBytes(under(root, req.path)), buffer);
        entries.set(req.path, { ...scanned, entry: { ...scanned.entry, hash } } satisfies ScannedEntry);
      } catch (e) {
        const code = errCode(e);
        problems[req.side].push({ path: req.path, side: req.side, code: code === 'ENOENT' ? 'vanished' : 'unreadable', message: `${displayPath(req.path)}: cannot read (${code})` });
      } finally {
        buffers.push(buffer);
      }
    });
  }
  await queue.onIdle();
  return [
    { side: 'left', entries: filled.left, problems: problems.left },
    { side: 'right', entries: filled.right, problems: problems.right },
  ];
}

/** Temp files of killed runs are ours to remove; those of a live process are not. */
async function removeLeftoverTemps(root: AbsPath, temps: readonly RelPath[]): Promise<void> {
  for (const rel of temps) {
    if (isLeftoverTemp(baseName(rel))) await unlink(toBytes(under(root, rel))).catch(() => undefined);
  }
}
