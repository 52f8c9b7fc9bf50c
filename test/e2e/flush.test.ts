// Which flush a run makes before the index records it (src/sync/durability.ts), seen from outside through
// the TSYNC_TIMINGS=1 lines of the real CLI: a few written paths get one fsync each (files and the
// directories whose names changed), many get one syncfs, --no-fsync gets none, and a watch cycle of one
// file gets a targeted flush. The counts are of fsyncs that really ran, so a flush that skipped the
// directories would show here. What a power cut would keep cannot be tested here; test/unit/written-paths
// pins which paths are chosen, and test/faults/power-cut.test.ts what the next run does after a restart.
// By default a one-shot run does not wait for that flush: it commits and owes it to the next run on the
// pair (src/sync/deferred-flush.ts), which the last describe block checks in the real index file;
// --flush-now waits, as every run did before.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TARGETED_FLUSH_MAX } from '../../src/core/written-paths.js';
import { binPath, makeTempDir, removeTempDir, runCli, sandbox } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

const TIMINGS = { env: { TSYNC_TIMINGS: '1' } };

const flushLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('tsync timing: flush ') && !l.includes('flush and commit'));

describe('the flush before the index records a run (--flush-now)', () => {
  it('a one-shot sync of 3 new files in a new directory fsyncs the 3 files, the new directory, the root and what holds the new root', () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'sub'));
    for (const n of [1, 2, 3]) writeFileSync(join(sb.src, 'sub', `f${n}`), `${n}\n`);
    const r = runCli(['sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
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
    const r = runCli(['sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    // sub/f1; sub (a name replaced, one moved out), the root, .tsync, .tsync/trash, .tsync/trash/<stamp>, .tsync/trash/<stamp>/sub
    expect(flushLines(r.stderr)).toEqual(['tsync timing: flush right: targeted 1 files, 6 dirs (0 skipped)']);
  });

  // The counts above are the flush's own; strace shows that each is an fsync(2) the kernel was asked for, on the
  // descriptor of the path it names (the addon fsyncs a batch of descriptors in one job: native/sync_fs.c).
  it.skipIf(!straceWorks())('the fsyncs it counts are made, once each, on the descriptors of exactly those paths (strace)', () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'sub'));
    for (const n of [1, 2]) writeFileSync(join(sb.src, 'sub', `f${n}`), `${n}\n`);
    expect(sb.sync('--flush-now').code).toBe(0); // nothing owed: the run below makes only its own flush
    writeFileSync(join(sb.src, 'sub', 'f1'), 'changed\n');
    rmSync(join(sb.src, 'sub', 'f2'));
    const log = join(sb.dir, 'strace.log');
    const r = spawnSync(
      'strace',
      ['-f', '-y', '-qq', '-e', 'trace=fsync', '-o', log, process.execPath, binPath, 'sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst],
      {
        encoding: 'utf8',
        env: { ...process.env, TSYNC_TIMINGS: '1' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toEqual(['tsync timing: flush right: targeted 1 files, 6 dirs (0 skipped)']);
    const fsynced = readFileSync(log, 'utf8')
      .split('\n')
      .map((line) => /fsync\(\d+<([^>]*)>\)\s+=\s+(-?\d+)/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && (m[1] === sb.dst || (m[1] ?? '').startsWith(`${sb.dst}/`)))
      .map((m) => `${(m[1] ?? '').slice(sb.dst.length).replace(/^\/\.tsync\/trash\/[^/]+/, '/.tsync/trash/<stamp>')} = ${m[2] ?? ''}`)
      .sort();
    // the root (''), the trash folders on the way to the replaced version's slot, sub, and the new sub/f1
    expect(fsynced).toEqual([' = 0', '/.tsync = 0', '/.tsync/trash = 0', '/.tsync/trash/<stamp> = 0', '/.tsync/trash/<stamp>/sub = 0', '/sub = 0', '/sub/f1 = 0']);
  });

  it(`more than ${TARGETED_FLUSH_MAX} paths: one syncfs instead`, () => {
    const sb = sandbox();
    for (let n = 0; n < TARGETED_FLUSH_MAX; n++) writeFileSync(join(sb.src, `f${n}`), `${n}\n`); // 64 files + the root
    const r = runCli(['sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
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

/** The owed-flush row and the count of base rows marked with its generation, read from the real index file. */
function owedState(state: string): { owed: number; bootId: string | null; sides: string | null; marked: number; rows: number } {
  const dbs = readdirSync(state).filter((n) => /^pair-.*\.db$/.test(n));
  expect(dbs).toHaveLength(1);
  const db = new Database(join(state, dbs[0] ?? ''), { readonly: true });
  try {
    const row = db.prepare('SELECT gen, owed, boot_id, sides FROM flush_owed').get() as { gen: number; owed: number; boot_id: string | null; sides: string | null };
    const marked = Number(db.prepare('SELECT count(*) FROM entries WHERE gen = ?').pluck().get(row.gen));
    const rows = Number(db.prepare('SELECT count(*) FROM entries').pluck().get());
    return { owed: row.owed, bootId: row.boot_id, sides: row.sides, marked, rows };
  } finally {
    db.close();
  }
}

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const owedLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /^tsync timing: (owed|deferred) flush /.test(l));

describe('the flush owed to the next run (the default)', () => {
  it('a default run commits at once: no flush at exit, its rows marked with the boot id; the next run flushes them and clears the marks', () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'sub'));
    for (const n of [1, 2, 3]) writeFileSync(join(sb.src, 'sub', `f${n}`), `${n}\n`);
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toEqual([]);
    expect(owedLines(r.stderr)).toEqual(['tsync timing: deferred flush right: targeted, 4 inodes and 2 dirs, owed to the next run']);
    // sub, sub/f1..f3: every row the run upserted carries its generation
    const after = owedState(sb.state);
    expect(after).toMatchObject({ owed: 1, bootId: BOOT_ID, marked: 4, rows: 4 });
    // one side owes it (keyed by the pair's canonical order, here 'first': dst sorts before src), whose root the run made
    expect(JSON.parse(after.sides ?? '{}')).toEqual({
      first: expect.objectContaining({ rootMade: true, paths: expect.objectContaining({ inodes: expect.arrayContaining(['sub/f1', 'sub/f2', 'sub/f3', 'sub']) }) }),
    });
    const next = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(next.code, next.stderr).toBe(0);
    const above = sb.dst.split('/').length - 1;
    expect(owedLines(next.stderr)).toEqual([`tsync timing: owed flush right: targeted 3 files, 2 dirs (0 skipped), ${above} dirs above the new root`]);
    expect(flushLines(next.stderr)).toEqual([]);
    expect(next.stderr).not.toMatch(/warning/);
    expect(owedState(sb.state)).toMatchObject({ owed: 0, bootId: null, rows: 4 });
  });

  it(`more than ${TARGETED_FLUSH_MAX} paths: a syncfs owed, made by the next run`, () => {
    const sb = sandbox();
    for (let n = 0; n < TARGETED_FLUSH_MAX; n++) writeFileSync(join(sb.src, `f${n}`), `${n}\n`);
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toEqual([]);
    expect(owedLines(r.stderr)).toEqual(['tsync timing: deferred flush right: syncfs, owed to the next run']);
    expect(owedState(sb.state)).toMatchObject({ owed: 1, marked: TARGETED_FLUSH_MAX });
    const next = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(next.code, next.stderr).toBe(0);
    expect(owedLines(next.stderr)).toEqual(['tsync timing: owed flush right: syncfs']);
    expect(owedState(sb.state)).toMatchObject({ owed: 0, rows: TARGETED_FLUSH_MAX });
  });

  it('the syncfs is made by the addon, not by running sync(1); without the addon, by `sync -f` on the root', () => {
    // a `sync` first on PATH that only notes its arguments: the real one leaves no trace a test can see
    const dir = makeTempDir('tsync-fake-sync-');
    const log = join(dir, 'calls.log');
    writeFileSync(join(dir, 'sync'), `#!/bin/sh\necho "$*" >> '${log}'\n`, { mode: 0o755 });
    const env = { ...TIMINGS.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
    const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    for (const native of ['1', '0']) {
      const sb = sandbox();
      for (let n = 0; n < TARGETED_FLUSH_MAX; n++) writeFileSync(join(sb.src, `f${n}`), `${n}\n`);
      const first = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env: { ...env, TSYNC_NATIVE: native } });
      expect(first.code, first.stderr).toBe(0);
      // the next run owes it (the same path as the flush of a --flush-now run: fs/flush.ts flushFileSystemAsync)
      const next = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env: { ...env, TSYNC_NATIVE: native } });
      expect(next.code, next.stderr).toBe(0);
      expect(owedLines(next.stderr)).toEqual(['tsync timing: owed flush right: syncfs']);
      expect(owedState(sb.state)).toMatchObject({ owed: 0 });
      expect(calls()).toEqual(native === '1' ? [] : [`-f ${sb.dst}`]);
    }
    removeTempDir(dir);
  });

  it('the next run makes the owed flush beside its walk: begun once the pair is open, ended before the run acts on anything', () => {
    const sb = sandbox();
    for (let n = 0; n < TARGETED_FLUSH_MAX; n++) writeFileSync(join(sb.src, `f${n}`), `${n}\n`);
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
    writeFileSync(join(sb.src, 'f0'), 'changed\n');
    const next = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(next.code, next.stderr).toBe(0);
    const lines = next.stderr.split('\n');
    const at = (prefix: string): number => lines.findIndex((l) => l.startsWith(`tsync timing: ${prefix}`));
    const opened = at('open (lock, index');
    const flushed = at('owed flush right: syncfs');
    const waited = at('the owed flush waited for after the walk');
    const acted = at('cycle (');
    expect(
      [opened, flushed, waited, acted].every((i) => i >= 0),
      next.stderr,
    ).toBe(true);
    // the flush is under way after the open (it no longer holds the open up), and has ended before the cycle
    expect(opened, next.stderr).toBeLessThan(flushed);
    expect(flushed, next.stderr).toBeLessThan(waited);
    expect(waited, next.stderr).toBeLessThan(acted);
    expect(owedState(sb.state)).toMatchObject({ owed: 1, marked: 1 });
    expect(readFileSync(join(sb.dst, 'f0'), 'utf8')).toBe('changed\n');
  });

  it('--flush-now: flushed before exit, nothing owed, no row marked', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'f'), 'x\n');
    const r = runCli(['sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toHaveLength(1);
    expect(owedLines(r.stderr)).toEqual([]);
    expect(owedState(sb.state)).toMatchObject({ owed: 0, marked: 0, rows: 1 });
  });

  it('the profile key flushNow waits as --flush-now does', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'f'), 'x\n');
    const config = join(sb.dir, 'config.json');
    writeFileSync(config, JSON.stringify({ profiles: { backup: { source: sb.src, destination: sb.dst, oneWay: true, stateDir: sb.state, flushNow: true } } }));
    const r = runCli(['sync', '--config', config, '--profile', 'backup'], TIMINGS);
    expect(r.code, r.stderr).toBe(0);
    expect(flushLines(r.stderr)).toHaveLength(1);
    expect(owedState(sb.state)).toMatchObject({ owed: 0, marked: 0, rows: 1 });
  });

  it('a dry run in the same boot leaves the flush owed; the next real run makes it', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'f'), 'x\n');
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
    const dry = runCli(['sync', '--one-way', '--dry-run', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(dry.code, dry.stderr).toBe(0);
    expect(owedLines(dry.stderr)).toEqual([]);
    expect(owedState(sb.state)).toMatchObject({ owed: 1, marked: 1 });
    const next = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], TIMINGS);
    expect(owedLines(next.stderr)).toHaveLength(1);
    expect(owedState(sb.state)).toMatchObject({ owed: 0 });
  });
});

/** Whether strace can trace a child here (installed, and ptrace allowed): .ci/run installs it. */
function straceWorks(): boolean {
  return spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', '-o', '/dev/null', 'true']).status === 0;
}
