import { displayPath } from '../core/paths.js';
import type { Action, Conflict, Problem } from '../core/types.js';
import type { RunSummary } from '../sync/session.js';

/**
 * `--json`: NDJSON on stdout, one event per action, conflict and problem, then one summary object.
 * Paths are shown as text (non-UTF-8 bytes as \xNN, as everywhere in tsync's output).
 */
export function jsonEvents(s: RunSummary, durationMs: number, exitCode: number): string[] {
  const lines: string[] = [];
  const emit = (obj: Record<string, unknown>): void => void lines.push(JSON.stringify(obj));
  const actionEvent = (a: Action, status: string): Record<string, unknown> => ({
    event: 'action',
    type: a.type,
    path: displayPath(a.path),
    target: a.target,
    status,
  });
  if (s.dryRun) for (const a of s.plan.actions) emit(actionEvent(a, 'planned'));
  else for (const o of s.outcomes) emit(actionEvent(o.action, o.status));
  for (const c of s.plan.conflicts) emit(conflictEvent(c));
  for (const p of s.problems) emit(problemEvent(p));
  const counts: Record<string, number> = { copy: 0, mkdir: 0, delete: 0, meta: 0, conflict: 0 };
  const done = s.dryRun ? s.plan.actions : s.outcomes.filter((o) => o.status === 'applied').map((o) => o.action);
  for (const a of done) counts[a.type] = (counts[a.type] ?? 0) + 1;
  emit({
    event: 'summary',
    mode: s.mode,
    dryRun: s.dryRun,
    counts,
    bytes: s.bytes,
    durationMs,
    conflicts: s.plan.conflicts.length,
    unresolvedConflicts: s.unresolvedConflicts,
    problems: s.problems.length,
    exitCode,
  });
  return lines;
}

function conflictEvent(c: Conflict): Record<string, unknown> {
  return { event: 'conflict', path: displayPath(c.path), policy: c.policy, resolution: c.resolution, winner: c.winner, copyName: c.copyName === null ? null : displayPath(c.copyName) };
}

function problemEvent(p: Problem): Record<string, unknown> {
  return { event: 'problem', side: p.side, path: displayPath(p.path), code: p.code, message: p.message };
}
