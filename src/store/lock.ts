import Database from 'better-sqlite3';
import { withNativeBinding } from './sqlite-binding.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AbsPath } from '../core/types.js';
import { LockedError, StateError } from '../errors.js';
import { errCode } from '../fs/stat.js';
import { pairKey } from './state-location.js';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly sinceMs: number;
}

export interface PairLock {
  release(): void;
}

/**
 * One tsync per pair of roots. The lock is an exclusive SQLite transaction on a small lock file: the
 * kernel holds it (a POSIX record lock) for exactly as long as the process lives, so a lock left by a
 * killed process is released by the kernel itself; there is no stale-pid guesswork and no race when
 * two processes find a dead holder at once. A sidecar JSON file names the holder for the message.
 */
export async function acquirePairLock(stateDir: string, left: AbsPath, right: AbsPath, waitSeconds: number): Promise<PairLock> {
  const base = join(stateDir, pairKey(left, right).fileName.replace(/\.db$/, ''));
  const lockFile = `${base}.lock`;
  const holderFile = `${base}.holder.json`;
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const db = tryLock(lockFile);
    if (db !== null) {
      const me: LockHolder = { pid: process.pid, host: hostname(), sinceMs: Date.now() };
      try {
        writeFileSync(holderFile, `${JSON.stringify(me)}\n`);
      } catch {
        // only names the holder in another process's message (a full disk, say): the lock itself holds
      }
      return {
        release: () => {
          try {
            db.exec('COMMIT');
          } catch {
            // a full disk can refuse even this empty commit: closing the connection releases the lock anyway
          } finally {
            db.close();
          }
        },
      };
    }
    if (Date.now() >= deadline)
      throw new LockedError(
        `another tsync holds the lock on this pair (${describeHolder(holderFile)})${waitSeconds > 0 ? `; gave up after waiting ${waitSeconds}s` : '; use --wait to wait for it'}`,
      );
    await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
  }
}

function tryLock(file: string): Database.Database | null {
  let db: Database.Database;
  try {
    db = new Database(file, withNativeBinding({ timeout: 0 }));
  } catch (e) {
    throw new StateError(`cannot open the lock file ${file} (${errCode(e)})`);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (e) {
    db.close();
    if (errCode(e) === 'SQLITE_BUSY' || errCode(e) === 'SQLITE_LOCKED') return null;
    throw new StateError(`cannot lock ${file} (${errCode(e)})`);
  }
}

function describeHolder(holderFile: string): string {
  try {
    const h = JSON.parse(readFileSync(holderFile, 'utf8')) as Partial<LockHolder>;
    const since = typeof h.sinceMs === 'number' ? new Date(h.sinceMs).toISOString() : 'unknown time';
    return `pid ${String(h.pid ?? '?')} on ${String(h.host ?? '?')} since ${since}`;
  } catch {
    return 'holder unknown';
  }
}
