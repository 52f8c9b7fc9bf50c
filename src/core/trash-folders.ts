// Which trash folders a run will keep versions in, known from its plan before it starts: the engine hands them to
// each side so that they can be made ahead, on another thread (engine/trash.ts makeAhead). Pure: no I/O.
import { type Phase, phaseOf } from './order.js';
import { parentOf } from './paths.js';
import type { Action, RelPath, Side } from './types.js';

/** At most this many folders are handed over: a bound on the list and on the job that makes them. */
export const TRASH_FOLDERS_AHEAD_MAX = 4096;

/** The phases whose actions keep a version of what they replace or delete (everything else keeps none). */
const KEEPING_PHASES: readonly Phase[] = ['delete-entries', 'copies', 'links'];

/** Whether `a`, run with a trash on its side, keeps the version its target holds (engine: remove, installing). */
function keepsVersion(a: Action): boolean {
  if (a.expect === null) return false;
  if (a.type === 'delete') return a.expect.kind !== 'dir';
  return a.type === 'copy' || a.type === 'link';
}

/**
 * The directories of the tree whose folders in `side`'s trash the actions (in the order the engine runs them:
 * phase by phase, each phase in the given order) keep versions in, each once, **last needed first**: the run
 * works through its plan from the start, so the folders it needs last are the ones a second thread can make
 * before it gets there. The root (a version of a name at the top) needs no folder of its own, and conflicts
 * (few, and their copies go elsewhere) are left to the run.
 */
export function trashFoldersAhead(actions: readonly Action[], side: Side): RelPath[] {
  const seen = new Set<RelPath>();
  const firstNeeded: RelPath[] = [];
  for (const phase of KEEPING_PHASES) {
    for (const a of actions) {
      if (a.target !== side || !keepsVersion(a) || phaseOf(a) !== phase) continue;
      const dir = parentOf(a.path);
      if (dir === null || seen.has(dir)) continue;
      seen.add(dir);
      firstNeeded.push(dir);
    }
  }
  return firstNeeded.slice(Math.max(0, firstNeeded.length - TRASH_FOLDERS_AHEAD_MAX)).reverse();
}
