import type { BaseChanges } from '../core/commit.js';
import type { WrittenPaths } from '../core/written-paths.js';
import type { Outcomes } from '../core/outcomes.js';
import type { Conflict, RelPath } from '../core/types.js';
import { countActions } from './events.js';
import { timing } from '../runtime/timings.js';
import { cacheStampsOf, owedFlushOf, type Durability } from './deferred-flush.js';
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
 * The last stage of every run: one store transaction with the base changes, the conflicts and the
 * run-log rows; either all of it lands or none. The index must never vouch for data a power cut could
 * still take back: with 'now' the sides written are flushed first; with 'owed' (the default of a
 * one-shot run) the commit records the flush as owed and the next run settles it before trusting the
 * base (deferred-flush.ts says why that is as safe, a remote side's too).
 */
export async function persist(pair: OpenPair, pending: PendingCommit, durability: Durability): Promise<void> {
  const rootsMade = { left: pair.roots.leftMissing, right: pair.roots.rightMissing };
  if (durability === 'off') {
    pair.store.commit(pending);
    return;
  }
  if (durability === 'now') {
    await makeDurable(pair.endpoints, pending.written, rootsMade);
    pair.store.commit(pending);
    return;
  }
  const { now, owed } = owedFlushOf(pending.written, await cacheStampsOf(pair.endpoints, pending.written), rootsMade);
  await makeDurable(pair.endpoints, now, rootsMade);
  for (const [side, s] of Object.entries(owed?.sides ?? {}))
    timing(`deferred flush ${side}: ${s.paths === null ? 'syncfs' : `targeted, ${s.paths.inodes.length} inodes and ${s.paths.dirs.length} dirs`}, owed to the next run`);
  pair.store.commit(owed === null ? pending : { ...pending, owed });
}

/** What a run-log row says, from a run's (or a watch cycle's) outcomes. */
export function runRecordOf(
  command: RunCommand,
  mode: SyncMode,
  startedAtMs: number,
  r: { readonly outcomes: Outcomes; readonly bytes: number; readonly conflicts: number; readonly problems: number; readonly exitCode: number },
): RunRecord {
  const applied = countActions(r.outcomes.applied());
  return {
    command,
    startedAtMs,
    endedAtMs: Date.now(),
    mode,
    copied: applied.copy,
    deleted: applied.delete,
    bytes: r.bytes,
    conflicts: r.conflicts,
    problems: r.problems,
    exitCode: r.exitCode,
  };
}
