// Output into a pipe whose reader is slow: every line still arrives, and the exit code is the command's own.
// bin/tsync.js ends the process with process.exit once nothing it printed is queued (to skip Node's teardown
// of the heap); a write into a pipe is asynchronous on Linux, so an exit while the pipe's buffer is full would
// cut the output short. Here the reader takes nothing until the child has either ended or had time to fill
// the pipe's 64 KiB and queue the rest, then reads everything.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, makeTempDir, projectRoot, removeTempDir } from '../helpers/cli.js';

interface Read {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `tsync args...` with its stdout read only after `holdMs`, or after the child has ended if that is sooner. */
async function runWithSlowReader(args: readonly string[], holdMs: number): Promise<Read> {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pause();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // not a timing assertion: the hold only gives a child that would exit early the chance to do so
  await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, holdMs))]);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stdout.resume();
  const code = await closed;
  return { code, stdout: Buffer.concat(chunks).toString('utf8'), stderr };
}

/** The NDJSON events of a run: its copies and its closing summary. */
function eventsOf(stdout: string): { copies: number; last: string | undefined } {
  const rows = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; action?: string });
  return { copies: rows.filter((row) => row.type === 'action' && row.action === 'copy').length, last: rows.at(-1)?.type };
}

let work = '';
let a = '';
let b = '';
let state = '';

beforeAll(() => {
  work = makeTempDir('tsync-e2e-slow-reader-');
  a = join(work, 'a');
  b = join(work, 'b');
  state = join(work, 'state');
  mkdirSync(b, { recursive: true });
  // 2,000 actions of about 150 bytes of JSON each: several times a pipe's buffer
  mkdirSync(join(a, 'many'), { recursive: true });
  for (let i = 0; i < 2000; i++) writeFileSync(join(a, 'many', `a-file-with-a-rather-long-name-${i}.txt`), `${i}\n`);
});

afterAll(() => {
  if (work !== '') removeTempDir(work);
});

describe('a slow reader of stdout', () => {
  it('sync --dry-run --json: every planned copy and the summary arrive; exit 0', async () => {
    const r = await runWithSlowReader(['sync', '--dry-run', '--json', '--state-dir', state, a, b], 1500);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.length).toBeGreaterThan(4 * 65536);
    expect(eventsOf(r.stdout)).toEqual({ copies: 2000, last: 'summary' });
  });

  it('sync --json: the same for the copies made', async () => {
    const r = await runWithSlowReader(['sync', '--json', '--state-dir', state, a, b], 1500);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(eventsOf(r.stdout)).toEqual({ copies: 2000, last: 'summary' });
  });
});
