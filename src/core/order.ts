import { compareRel } from './paths.js';
import type { Action } from './types.js';

/** The phase an action runs in; the engine runs phases one after another. */
export type Phase = 'delete-entries' | 'delete-dirs' | 'conflicts' | 'mkdirs' | 'copies' | 'links' | 'file-metas' | 'dir-metas';

/** Hard links come after the copies: a link's first path may be copied in the same plan. */
export const PHASES: readonly Phase[] = ['delete-entries', 'delete-dirs', 'conflicts', 'mkdirs', 'copies', 'links', 'file-metas', 'dir-metas'];

export function phaseOf(a: Action): Phase {
  switch (a.type) {
    case 'delete':
      return a.expect?.kind === 'dir' ? 'delete-dirs' : 'delete-entries';
    case 'conflict':
      return 'conflicts';
    case 'mkdir':
      return 'mkdirs';
    case 'copy':
      return 'copies';
    case 'link':
      return 'links';
    case 'meta':
      return a.source.entry.kind === 'dir' ? 'dir-metas' : 'file-metas';
  }
}

/** Phases in order; within a phase, directories are removed and finished deepest first, created top-down. */
export function orderActions(actions: readonly Action[]): Action[] {
  const byPhase = new Map<Phase, Action[]>(PHASES.map((p) => [p, []]));
  for (const a of actions) byPhase.get(phaseOf(a))?.push(a);
  const out: Action[] = [];
  for (const phase of PHASES) {
    const list = byPhase.get(phase) ?? [];
    const deepestFirst = phase === 'delete-dirs' || phase === 'delete-entries' || phase === 'dir-metas';
    list.sort((a, b) => (deepestFirst ? compareRel(b.path, a.path) : compareRel(a.path, b.path)));
    for (const a of list) out.push(a); // not push(...list): a million arguments overflow the stack
  }
  return out;
}

/** Phases whose actions may run in parallel: they touch disjoint paths and no parent of one another. */
export function isParallelPhase(phase: Phase): boolean {
  return phase === 'delete-entries' || phase === 'copies' || phase === 'file-metas' || phase === 'conflicts';
}
