import { displayPath } from '../core/paths.js';
import type { Action, Plan, Problem } from '../core/types.js';
import type { RunSummary } from '../sync/one-way.js';

/** One line per action: `+ new`, `~ changed`, `- deleted`; directories end with `/`. */
export function formatPlan(plan: Pick<Plan, 'actions'>): string[] {
  return plan.actions.flatMap((a) => {
    const line = planLine(a);
    return line === null ? [] : [line];
  });
}

function planLine(a: Action): string | null {
  const p = displayPath(a.path);
  switch (a.type) {
    case 'delete':
      return `- ${p}${a.expect?.kind === 'dir' ? '/' : ''}`;
    case 'mkdir':
      return `+ ${p}/`;
    case 'copy':
      return `${a.expect === null || a.expect.kind !== a.source.entry.kind ? '+' : '~'} ${p}`;
    case 'meta':
      // restoring a directory's mtime after writing into it is housekeeping, not a change to show
      if (a.source.entry.kind === 'dir' && (a.expect === null || a.expect.kind === 'dir')) return a.expect === null ? null : `~ ${p}/ (mode/mtime)`;
      return `~ ${p} (mode/mtime)`;
  }
}

export function formatProblems(problems: readonly Problem[]): string[] {
  return problems.map((p) => `tsync: ${p.side === 'left' ? 'source' : 'destination'}: ${p.message}`);
}

export function formatSummary(s: RunSummary): string {
  const count = (t: Action['type']): number =>
    s.dryRun ? s.plan.actions.filter((a) => a.type === t).length : s.outcomes.filter((o) => o.status === 'applied' && o.action.type === t).length;
  const parts = [
    `${count('copy')} copied`,
    `${count('mkdir')} dirs created`,
    `${count('delete')} deleted`,
    `${count('meta')} metadata updates`,
  ];
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
