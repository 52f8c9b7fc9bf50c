import { readFileSync } from 'node:fs';

/** The state letter (field 3) and start time in clock ticks since boot (field 22) of /proc/PID/stat. */
export interface ProcStat {
  readonly state: string;
  readonly startTicks: string | null;
}

/** /proc/PID/stat of a process, or null when it is gone or there is no /proc to ask. */
export function procStatOf(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', startTicks: fields[19] ?? null };
  } catch {
    return null;
  }
}

/**
 * Whether `pid` names a process that still runs. A zombie (killed, not yet reaped) answers kill(pid, 0) yet
 * does nothing more: where PID 1 does not reap orphans (many containers), a killed process whose parent
 * ended stays a zombie for good, and counting it alive would keep its lock or its temp files forever.
 * Without /proc, a pid that answers is taken to run.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it runs, under another user
    if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ESRCH') return false;
  }
  const state = procStatOf(pid)?.state;
  return state !== 'Z' && state !== 'X';
}
