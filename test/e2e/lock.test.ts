// One tsync per pair of roots: a second run exits 5 naming the holder, or waits with --wait, and a lock
// left by a killed process is released by the kernel (no stale-lock cleanup needed).
//
// The lock is held by a child process that takes it with tsync's own lock code (dist/store/lock.js) and
// keeps it until it reads a line on stdin: how long it is held does not depend on how fast a copy runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { binPath, makeTempDir, projectRoot, removeTempDir, runCli } from '../helpers/cli.js';

interface Setup {
  readonly src: string;
  readonly dst: string;
  readonly state: string;
}

/** Two small roots (both exist, so the lock key does not depend on which run creates the destination). */
function setup(): Setup {
  const dir = makeTempDir('tsync-lock-');
  onTestFinished(() => removeTempDir(dir));
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  for (let i = 0; i < 3; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}\n`);
  return { src, dst, state: join(dir, 'state') };
}

// Takes the pair's lock the way the CLI does (real paths of both roots), says "locked", and releases it
// when a line arrives on stdin (or stdin closes: the test died).
const HOLDER_SCRIPT = `
const [lockUrl, pathsUrl, storeUrl, state, a, b] = process.argv.slice(1);
const { acquirePairLock } = await import(lockUrl);
const { absFromText, realpathAbs } = await import(pathsUrl);
const { ensureStateDir } = await import(storeUrl);
const abs = (p) => realpathAbs(absFromText(p));
ensureStateDir(state);
const lock = await acquirePairLock(state, abs(a), abs(b), 0);
process.stdout.write('locked\\n');
let released = false;
const release = () => {
  if (released) return;
  released = true;
  lock.release();
  process.stdout.write('released\\n');
  process.exit(0);
};
process.stdin.on('data', release);
process.stdin.on('end', release);
`;

interface Holder {
  readonly pid: number;
  /** Asks the holder to release the lock; resolves once it has (and exited). */
  release(): Promise<void>;
  /** SIGKILLs the holder with the lock still held; resolves once it is gone. */
  kill(): Promise<void>;
}

const distUrl = (rel: string): string => pathToFileURL(join(projectRoot, 'dist', rel)).href;

/** Starts a process that holds the lock on (a, b) until told to let go; resolves once it holds it. */
async function holdLock(state: string, a: string, b: string): Promise<Holder> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER_SCRIPT, distUrl('store/lock.js'), distUrl('fs/paths.js'), distUrl('store/store.js'), state, a, b], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  onTestFinished(async () => {
    child.stdin.end();
    await gone;
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const says = (line: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (out.split('\n').includes(line)) resolve();
      };
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      void gone.then((g) => reject(new Error(`the lock holder exited (${g.code ?? g.signal}) before saying "${line}"; stderr:\n${err}`)));
      check();
    });
  await says('locked');
  const pid = child.pid;
  if (pid === undefined) throw new Error('the lock holder has no pid');
  return {
    pid,
    release: async () => {
      const said = says('released');
      child.stdin.write('go\n');
      await said;
      expect((await gone).code).toBe(0);
    },
    kill: async () => {
      child.kill('SIGKILL');
      expect((await gone).signal).toBe('SIGKILL');
    },
  };
}

/** `tsync args…` as a running child: its exit code and stderr once it ends. */
function startCli(args: readonly string[]): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string; exitedAtMs: number }> } {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string; exitedAtMs: number }>((r) => child.on('exit', (code) => r({ code, stderr, exitedAtMs: Date.now() })));
  onTestFinished(async () => {
    child.kill('SIGKILL');
    await done;
  });
  return { child, done };
}

/** Who the holder file names: the last process that took the lock, and when. */
function holderRecord(state: string): { pid: number; sinceMs: number } {
  const name = readdirSync(state).find((n) => n.endsWith('.holder.json'));
  if (name === undefined) throw new Error('no holder file in the state dir');
  return JSON.parse(readFileSync(join(state, name), 'utf8')) as { pid: number; sinceMs: number };
}

const LOCKED = (pid: number): RegExp => new RegExp(`^tsync: error: another tsync holds the lock on this pair \\(pid ${pid} on .* since `);

describe('the pair lock', () => {
  it('a second run on the same pair exits 5, names the holder and touches nothing', async () => {
    const s = setup();
    const holder = await holdLock(s.state, s.src, s.dst);
    const second = runCli(['sync', '--one-way', '--state-dir', s.state, s.src, s.dst]);
    expect(second.code, second.stderr).toBe(5);
    expect(second.stderr).toMatch(LOCKED(holder.pid));
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(s.dst)).toEqual([]);
    await holder.release();
    const after = runCli(['sync', '--one-way', '--state-dir', s.state, s.src, s.dst]);
    expect(after.code, after.stderr).toBe(0);
    expect(
      readdirSync(s.dst)
        .filter((n) => !n.startsWith('.tsync'))
        .sort(),
    ).toEqual(['f0.txt', 'f1.txt', 'f2.txt']);
  });

  it('--wait=SECONDS gives up after that long with exit 5 while the lock stays held', async () => {
    const s = setup();
    const holder = await holdLock(s.state, s.src, s.dst);
    const started = Date.now();
    const waited = runCli(['sync', '--one-way', '--wait=1', '--state-dir', s.state, s.src, s.dst]);
    expect(waited.code, waited.stderr).toBe(5);
    expect(waited.stderr).toMatch(/gave up after waiting 1s/);
    // a lower bound only: it cannot have given up before its deadline
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(readdirSync(s.dst)).toEqual([]);
    await holder.release();
  });

  it('--wait waits for the holder to let go, then runs', async () => {
    const s = setup();
    const holder = await holdLock(s.state, s.src, s.dst);
    const waiter = startCli(['sync', '--one-way', '--wait=120', '--state-dir', s.state, s.src, s.dst]);
    // A run started beside it with --wait=1 gives up only after a second in the lock's retry loop: by
    // then the waiter, started at the same moment through the same code, is in that loop too.
    const probe = startCli(['sync', '--one-way', '--wait=1', '--state-dir', s.state, s.src, s.dst]);
    const probed = await probe.done;
    expect(probed.code, probed.stderr).toBe(5);
    expect(probed.stderr).toMatch(LOCKED(holder.pid));
    const early = await Promise.race([waiter.done, Promise.resolve(null)]);
    expect(early, 'the waiter ended while the lock was held').toBeNull();
    expect(readdirSync(s.dst)).toEqual([]);

    const releasedAt = Date.now();
    await holder.release();
    const done = await waiter.done;
    expect(done.code, done.stderr).toBe(0);
    // the waiter took the lock, and took it only after the holder let go
    const record = holderRecord(s.state);
    expect(record.pid).toBe(waiter.child.pid);
    expect(record.sinceMs).toBeGreaterThanOrEqual(releasedAt);
    expect(
      readdirSync(s.dst)
        .filter((n) => !n.startsWith('.tsync'))
        .sort(),
    ).toEqual(['f0.txt', 'f1.txt', 'f2.txt']);
  });

  it('the roots given in the other order share the lock', async () => {
    const s = setup();
    const holder = await holdLock(s.state, s.src, s.dst);
    const reversed = runCli(['sync', '--state-dir', s.state, s.dst, s.src]);
    expect(reversed.code, reversed.stderr).toBe(5);
    expect(reversed.stderr).toMatch(LOCKED(holder.pid));
    await holder.release();
    expect(runCli(['sync', '--state-dir', s.state, s.dst, s.src]).code).toBe(0);
  });

  it('a lock left by a killed process does not block the next run', async () => {
    const s = setup();
    const holder = await holdLock(s.state, s.src, s.dst);
    // held: a run now is refused
    expect(runCli(['sync', '--one-way', '--state-dir', s.state, s.src, s.dst]).code).toBe(5);
    await holder.kill();
    const next = runCli(['sync', '--one-way', '--state-dir', s.state, s.src, s.dst]);
    expect(next.code, next.stderr).toBe(0);
    expect(
      readdirSync(s.dst)
        .filter((n) => !n.startsWith('.tsync'))
        .sort(),
    ).toEqual(['f0.txt', 'f1.txt', 'f2.txt']);
  });
});
