import { displayPath } from '../core/paths.js';
import { sideLabel } from '../core/sides.js';
import type { Action, Conflict, Plan, Side } from '../core/types.js';
import { countActions } from '../sync/events.js';
import type { RunSummary, SyncMode } from '../sync/run-loop.js';

/**
 * One line per action: `+ new`, `~ changed`, `- deleted`, `! conflict`. In two-way mode the line also
 * says the direction: `>` towards the second root, `<` towards the first. Directories end with `/`.
 */
export function formatPlan(plan: Pick<Plan, 'actions'>, mode: SyncMode): string[] {
  return plan.actions.flatMap((a) => {
    const line = planLine(a);
    if (line === null) return [];
    return [mode === 'two-way' ? `${line.symbol} ${arrow(a.target)} ${line.text}` : `${line.symbol} ${line.text}`];
  });
}

function arrow(target: Side): string {
  return target === 'right' ? '>' : '<';
}

function planLine(a: Action): { symbol: string; text: string } | null {
  const p = displayPath(a.path);
  switch (a.type) {
    case 'delete':
      return { symbol: '-', text: `${p}${a.expect?.kind === 'dir' ? '/' : ''}` };
    case 'mkdir':
      return { symbol: '+', text: `${p}/` };
    case 'copy':
      return { symbol: a.expect === null || a.expect.kind !== a.source.entry.kind ? '+' : '~', text: p };
    case 'link':
      return { symbol: a.expect === null ? '+' : '~', text: `${p} (hard link to ${displayPath(a.linkTo)})` };
    case 'conflict':
      return { symbol: '!', text: `${p} (conflict: the other version ${a.copyName === null ? 'goes to the trash' : `is kept as ${displayPath(a.copyName)}`})` };
    case 'meta':
      // mode, mtime, owner, group or xattrs (the action carries the wanted values, not the old ones);
      // finishing a directory just created, or restoring its mtime after writing into it, is housekeeping
      if (a.source.entry.kind === 'dir') return a.expect === null ? null : { symbol: '~', text: `${p}/ (metadata)` };
      return { symbol: '~', text: `${p} (metadata)` };
  }
}

export function formatProblems(s: Pick<RunSummary, 'problems' | 'mode'>): string[] {
  return s.problems.map((p) => problemLine(p.side, p.message, s.mode));
}

export function problemLine(side: Side, message: string, mode: SyncMode): string {
  return `tsync: ${sideLabel(side, mode)}: ${message}`;
}

export function formatConflicts(conflicts: readonly Conflict[]): string[] {
  return conflicts.map((c) =>
    c.resolution === 'skipped'
      ? `tsync: conflict left unresolved (--conflict skip): ${displayPath(c.path)}`
      : `tsync: conflict on ${displayPath(c.path)}: the ${c.winner === 'left' ? 'first' : 'second'} root's version keeps the name, the other ${c.copyName === null ? 'went to the trash (tsync trash)' : `is kept as ${displayPath(c.copyName)}`}`,
  );
}

export function formatSummary(s: RunSummary): string {
  const counts = countActions(s.dryRun ? s.plan.actions : s.outcomes.applied());
  const count = (t: Action['type']): number => counts[t];
  const parts = [`${count('copy')} copied`, `${count('mkdir')} dirs created`, `${count('delete')} deleted`, `${count('meta')} metadata updates`];
  if (count('link') > 0) parts.push(`${count('link')} hard-linked`);
  if (s.plan.conflicts.length > 0) parts.push(`${s.plan.conflicts.length} conflict${s.plan.conflicts.length === 1 ? '' : 's'}`);
  if (!s.dryRun) parts.push(formatBytes(s.bytes));
  if (s.problems.length > 0) parts.push(`${s.problems.length} problem${s.problems.length === 1 ? '' : 's'}`);
  return `${s.dryRun ? 'dry run, would do: ' : ''}${parts.join(', ')}`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
