import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import PQueue from 'p-queue';
import { commitChanges } from '../core/commit.js';
import { hashesNeeded } from '../core/hashes-needed.js';
import { baseName, displayPath } from '../core/paths.js';
import { planOneWay } from '../core/reconcile-one-way.js';
import { checkOneWaySafety, type DeleteLimit } from '../core/safety.js';
import type { AbsPath, Outcome, Plan, Problem, RelPath, ScannedEntry, Snapshot } from '../core/types.js';
import { SafetyHaltError } from '../errors.js';
import { toBytes, under } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { executePlan } from '../engine/execute.js';
import { isLeftoverTemp } from '../engine/temp-name.js';
import { HASH_CHUNK, hashFile, loadHasher } from '../hash/xxhash.js';
import { scanTree, type ScanResult } from '../scan/scan.js';
import { StateStore } from '../store/store.js';
import { resolveRoots } from './roots.js';

export interface OneWaySettings {
  readonly source: string;
  readonly destination: string;
  readonly stateDir: string;
  readonly checksum: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly deleteLimit: DeleteLimit;
  readonly concurrency: number;
}

export interface RunSummary {
  readonly plan: Plan;
  readonly outcomes: readonly Outcome[];
  readonly problems: readonly Problem[];
  readonly warnings: readonly string[];
  readonly bytes: number;
  readonly dryRun: boolean;
}

/**
 * One one-way run: scan both roots (the index's stat cache vouches for unchanged files), hash only what
 * decides the plan, plan (pure), check the safety guards (pure), apply, and commit to the index what
 * was applied, in one transaction.
 */
export async function runOneWay(s: OneWaySettings): Promise<RunSummary> {
  const startedAtMs = Date.now();
  const roots = resolveRoots(s.source, s.destination, { createRight: true });
  await loadHasher();
  const { store, warning } = StateStore.open(s.stateDir, roots.left, roots.right);
  const warnings = warning === null ? [] : [warning];
  try {
    const base = store.loadBase();
    const scanSide = (root: AbsPath, side: 'left' | 'right'): ScanResult =>
      scanTree({ root, side, base, sideRecord: store.sideRecordLookup(base, side), checksum: s.checksum });
    const left = scanSide(roots.left, 'left');
    const right = roots.rightMissing ? emptyScan('right') : scanSide(roots.right, 'right');
    const [source, target] = await fillHashes(left, right, roots, s.concurrency);

    const plan = planOneWay({ source, target });
    const halt = checkOneWaySafety({ plan, source, target, force: s.force, deleteLimit: s.deleteLimit });
    if (halt !== null) throw new SafetyHaltError(halt.message);

    const scanProblems = [...source.problems, ...target.problems];
    if (s.dryRun) return { plan, outcomes: [], problems: scanProblems, warnings, bytes: 0, dryRun: true };

    if (roots.rightMissing) mkdirSync(toBytes(roots.right), { recursive: true });
    await removeLeftoverTemps(roots.right, right.leftoverTemps);
    const { outcomes, bytes } = await executePlan(plan.actions, { roots, concurrency: s.concurrency });
    store.applyChanges(commitChanges({ base, left: source, right: target, plan, outcomes }));

    const problems = [...scanProblems, ...outcomes.flatMap((o) => (o.problem === undefined ? [] : [o.problem]))];
    const applied = outcomes.filter((o) => o.status === 'applied');
    store.recordRun({
      startedAtMs,
      endedAtMs: Date.now(),
      mode: 'one-way',
      copied: applied.filter((o) => o.action.type === 'copy').length,
      deleted: applied.filter((o) => o.action.type === 'delete').length,
      bytes,
      problems: problems.length,
      exitCode: problems.length > 0 ? 1 : 0,
    });
    return { plan, outcomes, problems, warnings, bytes, dryRun: false };
  } finally {
    store.close();
  }
}

function emptyScan(side: 'left' | 'right'): ScanResult {
  return { side, entries: new Map(), problems: [], leftoverTemps: [] };
}

/** Reads the files whose content decides the plan (see core/hashes-needed.ts), in parallel. */
async function fillHashes(left: Snapshot, right: Snapshot, roots: { left: AbsPath; right: AbsPath }, concurrency: number): Promise<[Snapshot, Snapshot]> {
  const requests = hashesNeeded(left, right);
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

