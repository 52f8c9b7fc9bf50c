// One tsync per pair of roots: a second run exits 5 naming the holder, or waits with --wait, and a lock
// left by a killed process is released by the kernel (no stale-lock cleanup needed).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { absFromText, realpathAbs } from '../../src/fs/paths.js';
import { acquirePairLock } from '../../src/store/lock.js';
import { ensureStateDir } from '../../src/store/store.js';
import { binPath, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';

const absOf = (p: string): ReturnType<typeof absFromText> => realpathAbs(absFromText(p));

interface Setup {
  readonly src: string;
  readonly dst: string;
  readonly state: string;
}

/** A source big enough that a one-way sync is still running when the second process starts. */
function setup(): Setup {
  const dir = makeTempDir('tsync-lock-');
  onTestFinished(() => removeTempDir(dir));
  const src = join(dir, 'src');
  mkdirSync(src);
  const chunk = Buffer.alloc(16 << 20, 7);
  for (let i = 0; i < 24; i++) writeFileSync(join(src, `big${i}.bin`), chunk);
  const state = join(dir, 'state');
  ensureStateDir(state);
  return { src, dst: join(dir, 'dst'), state };
}

function startSync(s: Setup): ChildProcess {
  return spawn(process.execPath, [binPath, 'sync', '--one-way', '--no-fsync', '--concurrency', '1', '--state-dir', s.state, s.src, s.dst], { stdio: 'ignore' });
}

/** Waits until the first process has taken the lock (it writes the holder file right after). */
async function lockTaken(s: Setup): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (existsSync(s.state) && readdirSync(s.state).some((n) => n.endsWith('.holder.json'))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the first sync never took the lock');
}

const exited = (c: ChildProcess): Promise<number | null> => new Promise((r) => c.on('exit', (code) => r(code)));

describe('the pair lock', () => {
  it('a second run on the same pair exits 5 and names the holder; --wait waits for it', async () => {
    const s = setup();
    const first = startSync(s);
    const firstDone = exited(first);
    await lockTaken(s);
    const second = runCli(['sync', '--one-way', '--state-dir', s.state, s.src, s.dst]);
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(new RegExp(`another tsync holds the lock on this pair \\(pid ${first.pid ?? 0} on .* since `));
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    const waited = runCli(['sync', '--one-way', '--wait=60', '--state-dir', s.state, s.src, s.dst], { timeoutMs: 60_000 });
    expect(waited.code, waited.stderr).toBe(0);
    expect(await firstDone).toBe(0);
  });

  it('the roots given in the other order share the lock', async () => {
    const s = setup();
    mkdirSync(s.dst);
    // Hold the lock in this process with tsync's own lock code, so the timing cannot race.
    const held = await acquirePairLock(s.state, absOf(s.src), absOf(s.dst), 0);
    try {
      const reversed = runCli(['sync', '--state-dir', s.state, s.dst, s.src]);
      expect(reversed.code).toBe(5);
      expect(reversed.stderr).toContain(`pid ${process.pid}`);
    } finally {
      held.release();
    }
    expect(runCli(['sync', '--state-dir', s.state, s.dst, s.src]).code).toBe(0);
  });

  it('a lock left by a killed process does not block the next run', async () => {
    const s = setup();
    const first = startSync(s);
    const firstDone = exited(first);
    await lockTaken(s);
    first.kill('SIGKILL');
    await firstDone;
    const next = runCli(['sync', '--one-way', '--state-dir', s.state, s.src, s.dst]);
    expect(next.code, next.stderr).toBe(0);
  });
});
