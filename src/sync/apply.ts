import { mkdirSync, readFileSync } from 'node:fs';
import { commitChanges } from '../core/commit.js';
import type { Plan } from '../core/types.js';
import { UsageError } from '../errors.js';
import { flushFileSystem } from '../fs/flush.js';
import { errCode } from '../fs/stat.js';
import { textOfAbs, toBytes } from '../fs/paths.js';
import type { AbsPath } from '../core/types.js';
import { applyActions, runRecordOf, sidesWritten } from './cycle.js';
import { openPair } from './pair.js';
import { parsePlan } from './plan-file.js';
import type { RunSummary } from './session.js';
import type { SyncSettings } from './settings.js';

/**
 * `tsync apply plan.json`: carries out a stored plan. Nothing is planned again: each action's
 * preconditions (its target's and source's state when the plan was made) are re-checked by the engine
 * right before it writes, and an action whose preconditions no longer hold is refused (stale) and
 * reported; the others go ahead. The index records what was applied, as after a sync.
 */
export async function applyPlanFile(file: string, s: Pick<SyncSettings, 'stateDir' | 'concurrency' | 'flush' | 'trash' | 'waitSeconds'>): Promise<RunSummary> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the plan ${file} (${errCode(e)})`);
  }
  const parsed = parsePlan(text, file);
  const startedAtMs = Date.now();
  const pair = await openPair({
    left: textOfAbs(parsed.left as AbsPath),
    right: textOfAbs(parsed.right as AbsPath),
    mode: parsed.mode,
    stateDir: s.stateDir,
    force: false,
    waitSeconds: s.waitSeconds,
    dryRun: false,
  });
  try {
    if (pair.roots.rightMissing) mkdirSync(toBytes(pair.roots.right), { recursive: true });
    const { outcomes, bytes, racyWindowNs } = await applyActions(pair, { ...s, mode: parsed.mode }, parsed.actions);
    const conflicts = parsed.actions.flatMap((a) => (a.type === 'conflict' ? [a.conflict] : []));
    const plan: Plan = { actions: parsed.actions, agreed: [], skipped: [], conflicts };
    const empty = { side: 'left' as const, entries: new Map(), problems: [] };
    // Scope: nothing beyond the records of what was applied (no scan ran, so nothing can be judged gone).
    const changes = commitChanges({ base: pair.base, left: empty, right: { ...empty, side: 'right' }, plan, outcomes, scope: new Set(), racyWindowNs });
    if (s.flush) for (const side of sidesWritten(outcomes)) flushFileSystem(pair.root(side));
    pair.store.applyChanges(changes, [], startedAtMs, new Set());
    const problems = outcomes.flatMap((o) => (o.problem === undefined ? [] : [o.problem]));
    pair.store.recordRun(runRecordOf(parsed.mode, startedAtMs, outcomes, bytes, problems.length, problems.length > 0 ? 1 : 0));
    return { mode: parsed.mode, plan, outcomes, problems, warnings: pair.warnings, bytes, dryRun: false, unresolvedConflicts: 0 };
  } finally {
    pair.close();
  }
}
