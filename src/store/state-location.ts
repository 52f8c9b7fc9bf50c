import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { AbsPath } from '../core/types.js';
import { sha256Hex } from '../hash/sha256.js';

export interface StateDirSources {
  readonly flag: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly home?: string;
}

/**
 * --state-dir, else $TSYNC_STATE_DIR, else $XDG_STATE_HOME/tsync, else ~/.local/state/tsync; made absolute
 * against the working directory tsync started in (a synchronous install may move it: fs/work-dir.ts).
 */
export function resolveStateDir({ flag, env, home = homedir() }: StateDirSources): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  if (env.TSYNC_STATE_DIR) return resolve(env.TSYNC_STATE_DIR);
  if (env.XDG_STATE_HOME) return resolve(env.XDG_STATE_HOME, 'tsync');
  return resolve(home, '.local', 'state', 'tsync');
}

export interface PairKey {
  /** The file name of the pair's index inside the state dir. */
  readonly fileName: string;
  /** The pair's roots in canonical order: the index's "l" columns belong to `first`. */
  readonly first: AbsPath;
  readonly second: AbsPath;
}

/** The same two real paths give the same index, in either order. */
export function pairKey(a: AbsPath, b: AbsPath): PairKey {
  const [first, second] = a <= b ? [a, b] : [b, a];
  const digest = sha256Hex(Buffer.from(first, 'latin1'), Buffer.of(0), Buffer.from(second, 'latin1'));
  return { fileName: `pair-${digest.slice(0, 24)}.db`, first, second };
}
