// Which flush a run makes before the index records it (src/sync/durability.ts), seen from outside through
// the TSYNC_TIMINGS=1 lines of the real CLI: a few written paths get one fsync each (files and the
// directories whose names changed), many get one syncfs, --no-fsync gets none, and a watch cycle of one
// file gets a targeted flush. The counts are of fsyncs that really ran, so a flush that skipped the
// directories would show here. What a power cut would keep cannot be tested here; test/unit/written-paths
// pins which paths are chosen.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TARGETED_FLUSH_MAX } from '../../src/core/written-paths.js';
import { binPath, makeTempDir, removeTempDir, runCli, sandbox } from '../helpers/cli.js';

const TIMINGS = { env: { TSYNC_TIMINGS: '1' } };

const flushLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('tsync timing: flush ') && !l.includes('flush and commit'));

describe('the flush before the index records a run', () => {
  it('a one-shot sync of 3 new files in a new directory fsyncs the 3 files, the new directory, the root and what holds the new root', () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'sub'));
    for (const n of [1, 2, 3]) writeFileSync(join(sb.src, 'sub', `f${n}`), `${n}\n`);
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    // the destination root was made by the run: every directory above it holds a new name, up to /
    const above = sb.dst.split('/').length - 1;
    expect(flushLines(r.stderr)).toEqual([`tsync timing: flush right: targeted 3 files, 2 dirs (0 skipped), ${above} dirs above the new root`]);
  });

  it('an overwrite and a delete with the trash on: the changed directory and the trash folders on the way', () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'sub'));
    for (const n of [1, 2]) writeFileSync(join(sb.src, 'sub', `f${n}`), `${n}\n`);
    expect(sb.sync().code).toBe(0);
    writeFileSync(join(sb.src, 'sub', 'f1'), 'changed\n');
    rmSync(join(sb.src, 'sub', 'f2'));
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    // sub/f1; sub (a name replaced, one moved out), the root, .tsync, .tsync/trash, .tsync/trash/<stamp>, .tsync/trash/<stamp>/sub
    expect(flushLines(r.stderr)).toEqual(['tsync timing: flush right: targeted 1 files, 6 dirs (0 skipped)']);
  });

  it(`more than ${TARGETED_FLUSH_MAX} paths: one syncfs instead`, () => {
    const sb = sandbox();
    for (let n = 0; n < TARGETED_FLUSH_MAX; n++) writeFileSync(join(sb.src, `f${n}`), `${n}\n`); // 64 files + the root
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toEqual(['tsync timing: flush right: syncfs']);
  });

  it('--no-fsync: no flush at all', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'f'), 'x\n');
    const r = runCli(['sync', '--one-way', '--no-fsync', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toEqual([]);
    expect(readFileSync(join(sb.dst, 'f'), 'utf8')).toBe('x\n');
  });

  it('a watch cycle of one new file: a targeted flush of that file and its directory', async () => {
    const dir = makeTempDir('tsync-flush-');
    const [a, b, state] = ['A', 'B', 'state'].map((n) => join(dir, n)) as [string, string, string];
    mkdirSync(a);
    mkdirSync(b);
    const child = spawn(process.execPath, [binPath, 'watch', '--json', '--state-dir', state, a, b], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSYNC_TIMINGS: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    onTestFinished(async () => {
      child.kill('SIGKILL');
      await exited;
      removeTempDir(dir);
    });
    await until(
      () => out.includes('"type":"ready"'),
      10_000,
      () => `watch never became ready: ${out}${err}`,
    );
    writeFileSync(join(a, 'one.txt'), 'one\n');
    await until(
      () => flushLines(err).length > 0,
      10_000,
      () => `no flush after the change: ${out}${err}`,
    );
    expect(flushLines(err)).toEqual(['tsync timing: flush right: targeted 1 files, 1 dirs (0 skipped)']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

async function until(cond: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(why());
    await new Promise((r) => setTimeout(r, 10));
  }
}
