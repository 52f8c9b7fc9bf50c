import { randomBytes } from 'node:crypto';

const TEMP_PREFIX = '.tsync-tmp-';

/**
 * A fresh temp name for the target's directory. It carries our pid so that a later run can tell a temp
 * file of a live process from one left by a process that was killed. Its length does not depend on the
 * final name, so even a 255-byte name can be written atomically.
 */
export function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`;
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** True when the temp file's writer is gone (or the name is not ours to judge, in which case: false). */
export function isLeftoverTemp(name: string): boolean {
  if (!isTempName(name)) return false;
  const pid = Number.parseInt(name.slice(TEMP_PREFIX.length), 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ESRCH';
  }
}
