// `tsync watch` as a real child process on real trees: the initial sync, live propagation both ways,
// deletes, new nested directories, in-place overwrites, no ping-pong, the lock against `tsync sync`,
// NDJSON output, and a clean stop on SIGTERM/SIGINT that leaves no temp file and saves the state.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { binPath, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { findOwnNames } from '../helpers/tree.js';
import { until, readOrNull as read } from '../helpers/wait.js';

interface Watching {
  readonly a: string;
  readonly b: string;
  readonly state: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly out: () => string;
  readonly exited: Promise<number | null>;
}

async function startWatch(extra: string[] = [], prepare?: (a: string, b: string) => void): Promise<Watching> {
  const dir = makeTempDir('tsync-watch-');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const state = join(dir, 'state');
  mkdirSync(a);
  mkdirSync(b);
  prepare?.(a, b);
  const child = spawn(process.execPath, [binPath, 'watch', '--json', '--state-dir', state, ...extra, a, b], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    child.kill('SIGKILL');
    await exited;
    removeTempDir(dir);
  });
  await until(
    () => out.includes('"type":"ready"'),
    10_000,
    () => `watch never became ready: ${out}`,
  );
  return { a, b, state, child, out: () => out, exited };
}

/**
 * Replaces A's `f.txt` with the content `${v}\n` and waits until B holds it. Each version lands whole (written outside A on
 * the same file system, then renamed over it): written in place, a cycle could copy the file while it was truncated and
 * not yet written, and that empty version was kept too (a CI run under load saw four versions in the trash).
 */
async function replaceWhole(w: Watching, v: string): Promise<void> {
  const next = join(w.a, '..', `next-${v}`);
  writeFileSync(next, `${v}\n`);
  renameSync(next, join(w.a, 'f.txt'));
  await until(
    () => read(join(w.b, 'f.txt')) === `${v}\n`,
    5_000,
    () => `${v} never reached B: ${w.out()}`,
  );
}

describe('tsync watch', () => {
  it('syncs first, then carries creations, edits, deletions and new nested directories both ways', async () => {
    const w = await startWatch([], (a) => writeFileSync(join(a, 'before.txt'), 'was there\n'));
    expect(read(join(w.b, 'before.txt'))).toBe('was there\n');

    writeFileSync(join(w.a, 'new.txt'), 'from A\n');
    await until(
      () => read(join(w.b, 'new.txt')) === 'from A\n',
      5_000,
      () => `new.txt never reached B: ${w.out()}`,
    );

    mkdirSync(join(w.b, 'x/y/z'), { recursive: true });
    writeFileSync(join(w.b, 'x/y/z/deep.txt'), 'from B\n');
    await until(
      () => read(join(w.a, 'x/y/z/deep.txt')) === 'from B\n',
      5_000,
      () => `deep.txt never reached A: ${w.out()}`,
    );

    rmSync(join(w.a, 'before.txt'));
    await until(
      () => read(join(w.b, 'before.txt')) === null,
      5_000,
      () => `the delete never reached B: ${w.out()}`,
    );
  });

  it('after an earlier sync, follows the directories the index knew and those made since the sync', async () => {
    const w = await startWatch([], (a, b) => {
      for (const d of ['known/deep', 'removed']) mkdirSync(join(a, d), { recursive: true });
      expect(runCli(['sync', '--state-dir', join(a, '..', 'state'), a, b]).code).toBe(0);
      mkdirSync(join(a, 'made-since/inner'), { recursive: true });
      rmSync(join(a, 'removed'), { recursive: true });
    });
    for (const [side, rel] of [
      [w.a, 'known/deep/one.txt'],
      [w.a, 'made-since/inner/two.txt'],
      [w.b, 'made-since/inner/three.txt'],
    ] as const) {
      writeFileSync(join(side, rel), `${rel}\n`);
      const other = side === w.a ? w.b : w.a;
      await until(
        () => read(join(other, rel)) === `${rel}\n`,
        5_000,
        () => `${rel} never reached the other side: ${w.out()}`,
      );
    }
    expect(readdirSync(w.b).sort()).toEqual(['known', 'made-since']); // the removal since the sync reached B at start
  });

  it('keeps what its cycles replace in one trash folder a minute, every version there (one-way)', async () => {
    const w = await startWatch(['--one-way'], (a) => writeFileSync(join(a, 'f.txt'), 'v0\n'));
    for (const v of ['v1', 'v2', 'v3']) await replaceWhole(w, v);
    // three cycles, each replacing B's copy: one folder (the minute has not passed), the three versions in it
    const trash = join(w.b, '.tsync', 'trash');
    const folders = readdirSync(trash);
    expect(folders).toHaveLength(1);
    const kept = readdirSync(join(trash, folders[0] as string)).sort();
    expect(kept).toEqual(['f.txt', 'f.txt.~2~', 'f.txt.~3~']);
    expect(kept.map((k) => read(join(trash, folders[0] as string, k))).sort()).toEqual(['v0\n', 'v1\n', 'v2\n']);
  });

  it('keeps a replaced version after its trash folder was removed while it watched: the folder is made again', async () => {
    // a watch holds its trash folder open from one cycle to the next (engine/trash.ts carryOver)
    const w = await startWatch(['--one-way'], (a) => writeFileSync(join(a, 'f.txt'), 'v0\n'));
    await replaceWhole(w, 'v1');
    rmSync(join(w.b, '.tsync'), { recursive: true });
    await replaceWhole(w, 'v2');
    const trash = join(w.b, '.tsync', 'trash');
    const folders = readdirSync(trash);
    expect(folders).toHaveLength(1);
    const folder = join(trash, folders[0] as string);
    expect(readdirSync(folder)).toEqual(['f.txt']);
    expect(read(join(folder, 'f.txt'))).toBe('v1\n');
    expect(read(join(w.b, '.tsync', '.gitignore'))).not.toBeNull(); // marked again
  });

  it('an in-place overwrite that starts empty still ends with the final content', async () => {
    const w = await startWatch();
    writeFileSync(join(w.a, 'log.txt'), 'old content\n');
    await until(
      () => read(join(w.b, 'log.txt')) === 'old content\n',
      5_000,
      () => w.out(),
    );
    const fd = openSync(join(w.a, 'log.txt'), 'w'); // truncates: the first event sees an empty file
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 20; i++) {
      writeSync(fd, `line ${i}\n`);
      await new Promise((r) => setTimeout(r, 2));
    }
    closeSync(fd);
    const final = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join('');
    await until(
      () => read(join(w.b, 'log.txt')) === final,
      5_000,
      () => `B/log.txt: ${JSON.stringify(read(join(w.b, 'log.txt')))}`,
    );
  });

  it('its own writes do not come back as changes (no ping-pong)', async () => {
    const w = await startWatch();
    writeFileSync(join(w.a, 'once.txt'), 'once\n');
    await until(
      () => read(join(w.b, 'once.txt')) === 'once\n',
      5_000,
      () => w.out(),
    );
    await new Promise((r) => setTimeout(r, 500));
    const actions = w
      .out()
      .split('\n')
      .filter((l) => l.includes('"type":"action"'));
    expect(actions, actions.join('\n')).toHaveLength(1);
  });

  it('holds the pair lock: a `tsync sync` meanwhile exits 5', async () => {
    const w = await startWatch();
    const r = runCli(['sync', '--state-dir', w.state, w.a, w.b]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`pid ${w.child.pid ?? 0}`);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops it cleanly: exit 0, no temp files, state saved', async (signal) => {
    const w = await startWatch();
    writeFileSync(join(w.a, 'f.txt'), 'x\n');
    await until(
      () => read(join(w.b, 'f.txt')) === 'x\n',
      5_000,
      () => w.out(),
    );
    w.child.kill(signal);
    expect(await w.exited).toBe(0);
    expect(w.out()).toContain('"type":"stopped"');
    expect([...findOwnNames(w.a), ...findOwnNames(w.b)]).toEqual([]);
    // the next one-shot run finds everything in sync
    const next = runCli(['sync', '-v', '--state-dir', w.state, w.a, w.b]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('0 copied');
    expect(readdirSync(w.b)).toEqual(['f.txt']);
  });

  it('every cycle that changed something is a row of `tsync log` (command watch), and --json events carry schema and type', async () => {
    const w = await startWatch([], (a) => writeFileSync(join(a, 'first.txt'), 'at the start\n'));
    writeFileSync(join(w.a, 'live.txt'), 'while watching\n');
    await until(
      () => read(join(w.b, 'live.txt')) === 'while watching\n',
      5_000,
      () => w.out(),
    );
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);

    const events = w
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { schema: number; type: string; action?: string; path?: string });
    expect(events.every((e) => e.schema === 1)).toBe(true);
    expect(events).toContainEqual(expect.objectContaining({ type: 'action', action: 'copy', path: 'live.txt', target: 'right', status: 'applied' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'cycle', full: false, applied: 1 }));

    const log = runCli(['log', '--json', '--state-dir', w.state, w.a, w.b]);
    expect(log.code, log.stderr).toBe(0);
    const rows = log.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command: string; copied: number });
    // newest first: the cycle that carried live.txt, then the opening sync that carried first.txt
    expect(rows).toEqual([expect.objectContaining({ command: 'watch', copied: 1 }), expect.objectContaining({ command: 'watch', copied: 1 })]);
    const text = runCli(['log', '--state-dir', w.state, w.a, w.b]);
    expect(text.stdout.split('\n').filter((l) => l.includes(' watch ') && l.includes('copied 1'))).toHaveLength(2);
  });
});
