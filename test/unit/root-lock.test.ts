// The agent's lock on its root (remote/root-lock.ts), on a real state dir: one holder at a time, a
// holder that is gone (dead pid, reused pid) is cleared, and the refusal names who holds it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockedError } from '../../src/errors.js';
import { acquireRootLock, type RootLockHolder } from '../../src/remote/root-lock.js';
import { makeZombie } from '../helpers/zombie.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-root-lock-'));
  dirs.push(d);
  return d;
}

const root = Buffer.from('/srv/notes');
const client = { host: 'laptop', pid: 4242 };

/** Puts a lock file as another agent would have left it. */
function plant(dir: string, holder: Partial<RootLockHolder>): void {
  const first = acquireRootLock(dir, root, client); // learn the file name the lock uses
  const name = readdirSync(join(dir, 'root-locks')).find((n) => n.endsWith('.lock')) as string;
  first.release();
  mkdirSync(join(dir, 'root-locks'), { recursive: true });
  writeFileSync(join(dir, 'root-locks', name), JSON.stringify({ host: 'server', clientHost: 'desk', clientPid: 1, sinceMs: 0, bootId: null, startTicks: null, ...holder }));
}

describe('acquireRootLock', () => {
  it('lets one holder in at a time and names the holder to the next', () => {
    const dir = stateDir();
    const lock = acquireRootLock(dir, root, client);
    expect(() => acquireRootLock(dir, root, { host: 'desk', pid: 7 })).toThrow(LockedError);
    expect(() => acquireRootLock(dir, root, { host: 'desk', pid: 7 })).toThrow(/tsync pid 4242 on laptop/);
    lock.release();
    acquireRootLock(dir, root, client).release();
    // another root is another lock
    const other = acquireRootLock(dir, Buffer.from('/srv/other'), client);
    acquireRootLock(dir, root, client).release();
    other.release();
  });

  it('clears the lock of a process that is gone', () => {
    const dir = stateDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    plant(dir, { pid: Number(dead.stdout) });
    acquireRootLock(dir, root, client).release();
  });

  it('clears the lock of a reused pid (same pid, another start time) and of another boot', () => {
    const dir = stateDir();
    plant(dir, { pid: process.pid, startTicks: '1' });
    acquireRootLock(dir, root, client).release();
    plant(dir, { pid: process.pid, bootId: 'an-earlier-boot' });
    acquireRootLock(dir, root, client).release();
  });

  // A killed agent whose parent does not reap it stays a zombie: kill(pid, 0) answers and its start time is the same.
  it.skipIf(process.platform !== 'linux')('clears the lock of a zombie (killed, never reaped)', async () => {
    const dir = stateDir();
    const zombie = await makeZombie();
    try {
      plant(dir, { pid: zombie.pid, startTicks: zombie.startTicks });
      acquireRootLock(dir, root, client).release();
    } finally {
      zombie.end();
    }
  });

  it('keeps the lock of a live holder', () => {
    const dir = stateDir();
    plant(dir, { pid: process.pid });
    expect(() => acquireRootLock(dir, root, client)).toThrow(/on desk, through agent pid/);
  });
});
