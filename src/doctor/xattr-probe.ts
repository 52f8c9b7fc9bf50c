import { spawnSync } from 'node:child_process';

/** yes / no, or unknown where no tool to ask is installed. */
export type XattrSupport = 'yes' | 'no' | 'unknown';

const NAME = 'user.tsync-doctor';

/**
 * Can `file` carry a user.* extended attribute? `node:fs` has no xattr calls, so this asks the attr
 * tools (setfattr/getfattr). It is the one place that does: a native binding can replace it without
 * touching the check that uses it.
 */
export function probeXattr(file: string): XattrSupport {
  const set = spawnSync('setfattr', ['-n', NAME, '-v', '1', file], { encoding: 'utf8' });
  if (set.error !== undefined) return 'unknown'; // ENOENT: setfattr is not installed
  if (set.status !== 0) return 'no';
  const get = spawnSync('getfattr', ['--only-values', '-n', NAME, file], { encoding: 'utf8' });
  if (get.error !== undefined) return 'unknown';
  return get.status === 0 && get.stdout === '1' ? 'yes' : 'no';
}
