import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockedError, StateError } from '../errors.js';
import { isRunning, procStatOf } from '../fs/process-alive.js';
import { errCode } from '../fs/stat.js';

/** Who holds a root's lock: the agent process on this machine, and the tsync that started it. */
export interface RootLockHolder {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused pid apart. */
  readonly startTicks: string | null;
  readonly bootId: string | null;
  readonly host: string;
  /** The machine and process of the tsync run this agent serves (what the message names). */
  readonly clientHost: string;
  readonly clientPid: number;
  readonly sinceMs: number;
}

export interface RootLock {
  release(): void;
}

/**
 * The lock an agent takes on its root, so that two machines syncing into one remote root take turns
 * (the pair lock of each is on its own machine and cannot see the other). It lives in the agent's
 * state dir, not in the root: a one-way source is never written. There is no SQLite on the far side
 * to lend a kernel lock, so the lock is a file created with link(2), which fails if the name exists,
 * and a holder that is gone (its pid not running with the same start time, or another boot) is stale:
 * its file is moved aside and the link tried once more.
 */
export function acquireRootLock(stateDir: string, rootRealPath: Buffer, client: { host: string; pid: number }): RootLock {
  const dir = join(stateDir, 'root-locks');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateError(`cannot create ${dir} (${errCode(e)})`);
  }
  const file = join(dir, `${createHash('sha256').update(rootRealPath).digest('hex').slice(0, 24)}.lock`);
  const me: RootLockHolder = {
    pid: process.pid,
    startTicks: procStatOf(process.pid)?.startTicks ?? null,
    bootId: bootId(),
    host: hostname(),
    clientHost: client.host,
    clientPid: client.pid,
    sinceMs: Date.now(),
  };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryLink(file, text)) return { release: () => releaseIfMine(file, text) };
    const seen = readText(file);
    const holder = seen === null ? null : parseHolder(seen);
    if (holder !== null && !isGone(holder)) throw new LockedError(`another tsync syncs into this root (${describe(holder)})`);
    if (seen !== null) clearStale(file, seen);
  }
  throw new LockedError('another tsync syncs into this root (it took the lock as this one cleared a stale one)');
}

function tryLink(file: string, text: string): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (e) {
    if (errCode(e) === 'EEXIST') return false;
    throw new StateError(`cannot take the root lock ${file} (${errCode(e)})`);
  } finally {
    unlinkSync(temp);
  }
}

function releaseIfMine(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) unlinkSync(file);
  } catch {
    // already gone (cleared as stale by someone who judged wrongly): nothing of ours to release
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // released since: the next link may succeed
  }
}

function parseHolder(text: string): RootLockHolder | null {
  try {
    return JSON.parse(text) as RootLockHolder;
  } catch {
    return null; // not ours to read (link made it whole, so it is no lock of ours): stale
  }
}

/** A holder on this machine whose process is no longer the one that took the lock (a zombie included). */
function isGone(h: RootLockHolder): boolean {
  if (h.bootId !== null && bootId() !== null && h.bootId !== bootId()) return true;
  if (typeof h.pid !== 'number' || !isRunning(h.pid)) return true;
  const ticks = procStatOf(h.pid)?.startTicks ?? null;
  return h.startTicks !== null && ticks !== null && ticks !== h.startTicks;
}

/**
 * Clears the stale lock whose text was `staleText`. It is renamed to a name of this process first and
 * read again there: if another agent cleared the stale one and took the lock in between, what was moved
 * is that fresh lock, and it is linked back (the name is free, or it was taken by yet another, who then
 * holds the lock) rather than deleted.
 */
function clearStale(file: string, staleText: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else cleared it first: try the link again
  }
  if (readText(aside) !== staleText) {
    try {
      linkSync(aside, file);
    } catch {
      // taken by another since: that one holds the lock now
    }
  }
  unlinkSync(aside);
}

function describe(h: RootLockHolder): string {
  return `tsync pid ${h.clientPid} on ${h.clientHost}, through agent pid ${h.pid} on ${h.host}, since ${new Date(h.sinceMs).toISOString()}`;
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}
