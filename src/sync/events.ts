import { displayPath } from '../core/paths.js';
import type { Outcomes } from '../core/outcomes.js';
import type { Action, Conflict, ConflictPolicy, ConflictResolution, OutcomeStatus, Problem, ProblemCode, Side } from '../core/types.js';
import type { SyncMode } from './settings.js';

/** Bumped when an event loses a field or changes a field's meaning (adding one does not). */
export const EVENT_SCHEMA = 1;

export type ActionType = Action['type'];
export type ActionCounts = Record<ActionType, number>;
export type EventCommand = 'sync' | 'plan' | 'apply' | 'watch';

/**
 * What `--json` prints, one object per line, for every command (sync, plan, apply, watch). Paths are
 * text, with bytes that are not UTF-8 shown as \xNN (displayPath). README "Scripting" documents them.
 */
export type RunEvent =
  | { readonly type: 'action'; readonly action: ActionType; readonly path: string; readonly target: Side; readonly status: OutcomeStatus | 'planned' }
  | {
      readonly type: 'conflict';
      readonly path: string;
      readonly policy: ConflictPolicy;
      readonly resolution: ConflictResolution;
      readonly winner: Side | null;
      readonly copyName: string | null;
    }
  | { readonly type: 'problem'; readonly side: Side; readonly path: string; readonly code: ProblemCode; readonly message: string }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'ready'; readonly entries: number; readonly ms: number }
  | {
      readonly type: 'cycle';
      readonly full: boolean;
      readonly counts: ActionCounts;
      readonly applied: number;
      readonly conflicts: number;
      readonly problems: number;
      readonly bytes: number;
      readonly ms: number;
    }
  | { readonly type: 'halted'; readonly message: string }
  | { readonly type: 'stopped' }
  | {
      readonly type: 'summary';
      readonly command: EventCommand;
      readonly mode: SyncMode;
      readonly dryRun: boolean;
      readonly counts: ActionCounts;
      readonly bytes: number;
      readonly durationMs: number;
      readonly conflicts: number;
      readonly unresolvedConflicts: number;
      readonly problems: number;
      readonly exitCode: number;
    }
  | { readonly type: 'error'; readonly message: string; readonly exitCode: number };

export function actionEvent(a: Action, status: OutcomeStatus | 'planned'): RunEvent {
  return { type: 'action', action: a.type, path: displayPath(a.path), target: a.target, status };
}

export function conflictEvent(c: Conflict): RunEvent {
  return { type: 'conflict', path: displayPath(c.path), policy: c.policy, resolution: c.resolution, winner: c.winner, copyName: c.copyName === null ? null : displayPath(c.copyName) };
}

export function problemEvent(p: Problem): RunEvent {
  return { type: 'problem', side: p.side, path: displayPath(p.path), code: p.code, message: p.message };
}

/** Applied actions by type (for a dry run: the planned ones). */
export function countActions(actions: Iterable<Action>): ActionCounts {
  const counts: ActionCounts = { copy: 0, mkdir: 0, delete: 0, meta: 0, conflict: 0, link: 0 };
  for (const a of actions) counts[a.type] += 1;
  return counts;
}

/** The events of one run (sync, plan, apply): its actions, conflicts and problems, then its summary. */
export function runEvents(
  command: EventCommand,
  s: {
    readonly mode: SyncMode;
    readonly dryRun: boolean;
    readonly plan: { readonly actions: readonly Action[]; readonly conflicts: readonly Conflict[] };
    readonly outcomes: Outcomes;
    readonly problems: readonly Problem[];
    readonly bytes: number;
    readonly unresolvedConflicts: number;
  },
  durationMs: number,
  exitCode: number,
): RunEvent[] {
  const events: RunEvent[] = s.dryRun ? s.plan.actions.map((a) => actionEvent(a, 'planned')) : Array.from(s.outcomes, (o) => actionEvent(o.action, o.status));
  for (const c of s.plan.conflicts) events.push(conflictEvent(c));
  for (const p of s.problems) events.push(problemEvent(p));
  events.push({
    type: 'summary',
    command,
    mode: s.mode,
    dryRun: s.dryRun,
    counts: countActions(s.dryRun ? s.plan.actions : s.outcomes.applied()),
    bytes: s.bytes,
    durationMs,
    conflicts: s.plan.conflicts.length,
    unresolvedConflicts: s.unresolvedConflicts,
    problems: s.problems.length,
    exitCode,
  });
  return events;
}

/** One NDJSON line: the schema version, the type, the time, then the event's own fields. */
export function eventLine(e: RunEvent, now: Date = new Date()): string {
  return JSON.stringify({ schema: EVENT_SCHEMA, ...e, time: now.toISOString() });
}
