import type { BaseChanges } from '../core/commit.js';
import type { WrittenPaths } from '../core/written-paths.js';
import type { Conflict, Outcome, RelPath } from '../core/types.js';
import { makeDurable } from './durability.js';
import type { RunCommand, RunRecord } from '../store/store.js';
import type { OpenPair } from './pair.js';
import type { SyncMode } from './settings.js';

/** What a run (or a batch of watch cycles) decided and has not yet written to the index. */
export interface PendingCommit {
  readonly changes: BaseChanges;
  readonly conflicts: readonly Conflict[];
  /** The open conflicts this commit replaces: all of them after a full run, else those within the scope looked at. */
  readonly openConflictScope: ReadonlySet<RelPath> | 'all';
  readonly runs: readonly RunRecord[];
  /** What was written on each side (core/written-paths.ts): made durable before the index vouches for it. */
  readonly written: WrittenPaths;
  /** When the conflicts were met (the run's start, or the batch's commit). */
  readonly atMs: number;
}

/**
 * The last stage of every run: flush the sides written (the index must never vouch for data a power
 * cut could still take back), then one store transaction with the base changes, the conflicts and the
 * run-log rows. Either all of it lands or none.
 */
export async function persist(pair: OpenPair, pending: PendingCommit, flush: boolean): Promise<void> {
  if (flush) await makeDurable(pair.endpoints, pending.written, { left: pair.roots.leftMissing, right: pair.roots.rightMissing });
  pair.store.commit(pending);
}

/** What a run-log row says, from a run's (or a watch cycle's) outcomes. */
export function runRecordOf(
  command: RunCommand,
  mode: SyncMode,
  startedAtMs: number,
  r: { readonly outcomes: readonly Outcome[]; readonly bytes: number; readonly conflicts: number; readonly problems: number; readonly exitCode: number },
): RunRecord {
  const applied = r.outcomes.filter((o) => o.status === 'applied');
  return {
    command,
    startedAtMs,
    endedAtMs: Date.now(),
    mode,
    copied: applied.filter((o) => o.action.type === 'copy').length,
    deleted: applied.filter((o) => o.action.type === 'delete').length,
    bytes: r.bytes,
    conflicts: r.conflicts,
    problems: r.problems,
    exitCode: r.exitCode,
  };
}
