import { spawnSync } from 'node:child_process';
import type { AbsPath } from '../core/types.js';
import { textOfAbs } from './paths.js';

/**
 * Flushes the file system that holds `root` to disk (syncfs(2) through coreutils' `sync -f`; Node has no
 * binding for it). The session calls this before it commits the base: the index must never vouch for
 * data that a power cut could still take back, or the next run would mistake a truncated file for an
 * edit and propagate it. One flush per run costs far less than an fsync per file.
 */
export function flushFileSystem(root: AbsPath): void {
  const r = spawnSync('sync', ['-f', textOfAbs(root)], { stdio: 'ignore' });
  if (r.status !== 0) spawnSync('sync', [], { stdio: 'ignore' }); // no `-f` support: flush everything
}
