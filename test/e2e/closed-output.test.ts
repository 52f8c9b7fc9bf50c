// Output into a pipe whose reader has gone (`tsync log --json | head -1`): every command ends quietly, with
// the exit code it would have had, no stack trace; a sync still records what it applied, so the next run
// is a no-op. Two ways of closing the pipe: the reader end closed before tsync writes anything (so the
// very first write fails, every time), and a real `| head -1` on outputs larger than a pipe's buffer.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, makeTempDir, projectRoot, removeTempDir, runCli } from '../helpers/cli.js';
import { put } from '../helpers/tree.js';

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** `tsync args...` with its stdout a pipe whose read end is closed before the child starts. */
function runIntoClosedPipe(args: readonly string[], timeoutMs = 60_000): Promise<Ended> {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    }),
  );
}

/** `tsync args... | head -1` in a shell; the code is tsync's own (the shell's would be head's). */
function runIntoHead(args: readonly string[], scratch: string): Ended & { readonly head: string } {
  const rcFile = join(scratch, 'rc');
  rmSync(rcFile, { force: true });
  const r = spawnSync('sh', ['-c', '{ "$0" "$@"; echo "$?" > "$RC_FILE"; } | head -1', process.execPath, binPath, ...args], {
    cwd: projectRoot,
    env: { ...process.env, RC_FILE: rcFile },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: Number(readFileSync(rcFile, 'utf8').trim()), signal: r.signal, stderr: r.stderr, head: r.stdout };
}

/** Many small files: the events of their sync are far more than a pipe's 64 KiB buffer. */
function manyFiles(root: string, dir: string, n: number): void {
  mkdirSync(join(root, dir), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(root, dir, `file-${i}.txt`), `${dir} ${i}\n`);
}

const STACK_TRACE = /EPIPE|^\s+at |Error/m;

let work = '';
let a = '';
let b = '';
let state = '';
const pair = (...args: string[]): string[] => [...args, '--state-dir', state, a, b];

/** The next sync finds nothing to do: the run whose output was lost recorded all it applied. */
function expectNoOp(): void {
  const r = runCli(['sync', '--json', ...pair()]);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { type: string; counts: Record<string, number> };
  expect(summary.type).toBe('summary');
  expect(summary.counts).toEqual({ copy: 0, delete: 0, mkdir: 0, meta: 0, conflict: 0, link: 0 });
}

beforeAll(() => {
  work = makeTempDir('tsync-e2e-epipe-');
  a = join(work, 'a');
  b = join(work, 'b');
  state = join(work, 'state');
  mkdirSync(a);
  mkdirSync(b);
});

afterAll(() => {
  if (work !== '') removeTempDir(work);
});

describe('help into a closed pipe', () => {
  for (const args of [['--help'], ['sync', '--help'], ['help', 'sync'], ['--version']]) {
    it(`tsync ${args.join(' ')}: exit 0, nothing on stderr`, async () => {
      expect(await runIntoClosedPipe(args)).toEqual({ code: 0, signal: null, stderr: '' });
      const viaHead = runIntoHead(args, work);
      expect({ code: viaHead.code, stderr: viaHead.stderr }).toEqual({ code: 0, stderr: '' });
      expect(viaHead.head).not.toBe('');
    });
  }
});

// One pair, built up step by step: each sync below starts from the state the one before recorded.
describe('runs into a closed pipe (in order)', () => {
  it('sync --json: the run goes on, commits, exits 0 quietly; the next run is a no-op', async () => {
    manyFiles(a, 'first', 1500);
    expect(await runIntoClosedPipe(['sync', '--json', ...pair()])).toEqual({ code: 0, signal: null, stderr: '' });
    expectNoOp();
    expect(readFileSync(join(b, 'first', 'file-1499.txt'), 'utf8')).toBe('first 1499\n');
  });

  it('sync --json | head -1: the same', () => {
    manyFiles(b, 'second', 1500);
    const r = runIntoHead(['sync', '--json', ...pair()], work);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.head)).toMatchObject({ type: 'action' });
    expectNoOp();
  });

  it('sync --verbose (text) | head -1 and into a closed pipe: the same', async () => {
    manyFiles(a, 'third', 1500);
    const r = runIntoHead(['sync', '--verbose', ...pair()], work);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expectNoOp();
    manyFiles(a, 'fourth', 10);
    expect(await runIntoClosedPipe(['sync', '--verbose', ...pair()])).toEqual({ code: 0, signal: null, stderr: '' });
    expectNoOp();
  });

  it('status, check, log, conflicts and trash (with and without --json): their own exit code, nothing on stderr', async () => {
    // a conflict (kept both), a deletion (trashed) and a pending change, so that every listing has something to print
    put(a, 'first/file-0.txt', 'changed in a\n');
    put(b, 'first/file-0.txt', 'changed in b, longer\n');
    rmSync(join(a, 'first', 'file-1.txt'));
    expect(runCli(['sync', ...pair()]).code).toBe(0);
    put(a, 'pending.txt', 'not synced yet: status and check have something to say\n');
    const commands = [
      ['status', ...pair()],
      ['check', ...pair()],
      ['log', ...pair()],
      ['conflicts', ...pair()],
      ['trash', b],
    ];
    for (const command of commands) {
      for (const args of [[...command, '--json'], command]) {
        const normal = runCli(args);
        expect(normal.stdout, `${args.join(' ')} prints something`).not.toBe('');
        const closed = await runIntoClosedPipe(args);
        expect({ args, ...closed }).toEqual({ args, code: normal.code, signal: null, stderr: normal.stderr });
        const viaHead = runIntoHead(args, work);
        expect({ args, code: viaHead.code, stderr: viaHead.stderr }).toEqual({ args, code: normal.code, stderr: normal.stderr });
        expect(normal.stderr).not.toMatch(STACK_TRACE);
      }
    }
  });

  it('plan and apply --json into a closed pipe: the plan is written, applied and recorded', async () => {
    manyFiles(a, 'fifth', 1500);
    const planFile = join(work, 'plan.json');
    expect(await runIntoClosedPipe(['plan', '-o', planFile, ...pair()])).toEqual({ code: 0, signal: null, stderr: '' });
    expect(await runIntoClosedPipe(['apply', '--json', '--state-dir', state, planFile])).toEqual({ code: 0, signal: null, stderr: '' });
    expect(readFileSync(join(b, 'fifth', 'file-1499.txt'), 'utf8')).toBe('fifth 1499\n');
    expectNoOp();
  });

  it('watch --json into a closed pipe: stops cleanly after its first sync, which it recorded', async () => {
    manyFiles(a, 'sixth', 100);
    expect(await runIntoClosedPipe(['watch', '--json', ...pair()], 30_000)).toEqual({ code: 0, signal: null, stderr: '' });
    expectNoOp();
  });
});

/** `tsync args...` with its stdout on /dev/full: every write to it fails with ENOSPC. */
function runIntoFullDisk(args: readonly string[]): Ended {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, signal: r.signal, stderr: r.stderr };
  } finally {
    closeSync(full);
  }
}

const NO_SPACE = 'tsync: error: could not write to stdout: ENOSPC: no space left on device, write\n';

// Output onto a full disk (`tsync status > file` with no space left): not a reader gone, an error. The command does its
// work, then says so in one line on stderr and exits 1 (0 would hide it), with no stack trace.
describe.skipIf(!existsSync('/dev/full'))('output onto a full disk (/dev/full)', () => {
  it('--version and status: one line on stderr, exit 1', () => {
    expect(runIntoFullDisk(['--version'])).toEqual({ code: 1, signal: null, stderr: NO_SPACE });
    expect(runIntoFullDisk(['status', ...pair()])).toEqual({ code: 1, signal: null, stderr: NO_SPACE });
  });

  it('sync --verbose: the run goes on and records all it applied, then one line on stderr, exit 1', () => {
    manyFiles(a, 'seventh', 50);
    expect(runIntoFullDisk(['sync', '--verbose', ...pair()])).toEqual({ code: 1, signal: null, stderr: NO_SPACE });
    expect(readFileSync(join(b, 'seventh', 'file-49.txt'), 'utf8')).toBe('seventh 49\n');
    expectNoOp();
  });
});
