// The processes of a remote run, found by pid in /proc (Linux): the ssh client a tsync run started (its
// child named ssh), and the agents one test's sshd serves (node processes running `… agent` whose
// environment holds a variable only that sshd sets). Scoped that way, test files that each run their own
// sshd never see, or kill, one another's processes.
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  /** 'Z' for a zombie: gone for our purposes. */
  readonly state: string;
  readonly argv: readonly string[];
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    return { pid, ppid: Number(fields[1]), state: fields[0] ?? '?', argv };
  } catch {
    return null; // exited while we looked
  }
}

function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p !== null && p.state !== 'Z') out.push(p);
  }
  return out;
}

/** The live ssh clients `cliPid` started. */
export function sshClientsOf(cliPid: number): number[] {
  return allProcs()
    .filter((p) => p.ppid === cliPid && /(^|\/)ssh$/.test(p.argv[0] ?? ''))
    .map((p) => p.pid);
}

/**
 * The live agents whose environment holds `marker` (a `NAME=value` only one test's sshd gives its sessions,
 * through SetEnv): `node <tsync.js|bundle> agent`. Not by the process tree: an agent whose session ended is
 * reparented away from its sshd, and one that outlives its session is exactly what must be found.
 */
export function agentsWith(marker: string): number[] {
  return allProcs()
    .filter((p) => p.argv.at(-1) === 'agent' && /(^|\/)node$/.test(p.argv[0] ?? '') && environOf(p.pid).includes(marker))
    .map((p) => p.pid);
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** SIGKILLs each pid; returns how many were still there to kill. */
export function killAll(pids: readonly number[]): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // exited just before
    }
  }
  return n;
}

/** Polls until `live()` is empty; returns what is still alive after `ms` (empty: all gone). */
export async function waitGone(live: () => number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = live();
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}
