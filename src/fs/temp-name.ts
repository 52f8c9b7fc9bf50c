import { isRunning } from './process-alive.js';

const TEMP_PREFIX = '.tsync-tmp-';

/**
 * pid + the thread + a per-thread counter is unique among live processes; O_EXCL catches anything else. Each
 * worker thread has its own copy of this module (and of the counter), so a worker that makes temp files names
 * its thread (setTempThread): the copy worker (engine/copy-worker.ts) writes in the same directories as the main
 * thread. (Set by the worker rather than read from node:worker_threads here: every command loads this module,
 * and loading that one costs each of them a few milliseconds.)
 */
let counter = 0;
let thread = '';

/** Called once by a worker thread that makes temp files, with its threadId. */
export function setTempThread(threadId: number): void {
  thread = `t${threadId}-`;
}

/**
 * A fresh temp name for the target's directory. It carries our pid so that a later run can tell a temp
 * file of a live process from one left by a process that was killed. Its length does not depend on the
 * final name, so even a 255-byte name can be written atomically.
 */
export function tempName(tag = ''): string {
  counter += 1;
  return `${TEMP_PREFIX}${process.pid}-${thread}${tag}${counter.toString(36)}`;
}

/**
 * A name of tsync's own (it starts with `.tsync`: never synced) that is not a temp name (no run removes it as a
 * leftover), unique as tempName's are: for a file someone else left at one of our temp names, which must be kept
 * (engine/copy-file.ts keptAside).
 */
export function keptName(): string {
  counter += 1;
  return `.tsync-kept-${process.pid}-${thread}${counter.toString(36)}`;
}

/** Before 2026-11-22 the ctime probe had a name of its own; a killed run could leave one behind. */
const OLD_PROBE_PREFIX = '.tsync-probe-';

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name.startsWith(OLD_PROBE_PREFIX);
}

/** True when the temp file's writer is gone (or the name is not ours to judge, in which case: false). */
export function isLeftoverTemp(name: string): boolean {
  if (!isTempName(name)) return false;
  const pid = Number.parseInt(name.slice(name.startsWith(TEMP_PREFIX) ? TEMP_PREFIX.length : OLD_PROBE_PREFIX.length), 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Scans run while no copy of ours is in flight, so a temp file with our own pid is from an
  // earlier process that had the same pid.
  if (pid === process.pid) return true;
  return !isRunning(pid);
}
