// While ssh connects, a run with a remote root opens its local half on the word of the last run's memo of the far
// root (store/remote-root-memo.ts): the pair lock, the index, the base, and the walk of the local root. These tests
// run the built CLI through the ssh stand-in (a real agent, real trees, a real index) and check that the early work
// is done when the memo holds, dropped when the far root is no longer the one the memo names, and never done
// without the pair lock. Which way a run took is read from its TSYNC_TIMINGS lines (a profiling aid, not a contract).
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AbsPath } from '../../src/core/types.js';
import { type CliResult, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { standinSsh } from '../helpers/remote-side.js';
import { put, sameTrees } from '../helpers/tree.js';

const { acquirePairLock } = (await import(new URL('../../dist/store/lock.js', import.meta.url).href)) as typeof import('../../src/store/lock.js');

const EARLY = 'the local root walked meanwhile';

interface Setup {
  readonly dir: string;
  readonly state: string;
  /** The bundle cache the stand-in's bootstrap uses. */
  readonly env: Record<string, string>;
}

function setup(): Setup {
  const dir = makeTempDir('tsync-overlap-');
  onTestFinished(() => removeTempDir(dir));
  return { dir, state: join(dir, 'state'), env: { XDG_CACHE_HOME: join(dir, 'cache'), TSYNC_TIMINGS: '1' } };
}

function sync(s: Setup, args: readonly string[]): CliResult {
  return runCli(['sync', '--ssh', standinSsh, '--state-dir', s.state, ...args], { env: s.env, timeoutMs: 60_000 });
}

function ok(r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const memos = (state: string): string[] => readdirSync(state).filter((n) => n.startsWith('remote-') && n.endsWith('.json'));

describe('the local half of a remote pair, opened while ssh connects', () => {
  it('is opened and walked on the second run, and the run syncs what changed on both sides since', () => {
    const s = setup();
    const a = join(s.dir, 'a');
    const b = join(s.dir, 'b');
    mkdirSync(b);
    for (let i = 0; i < 20; i++) put(a, `d${i % 4}/f${i}.txt`, `a ${i}\n`);
    const first = ok(sync(s, [a, `127.0.0.1:${b}`]));
    expect(first.stderr).not.toContain(EARLY);
    expect(memos(s.state)).toHaveLength(1);
    expect(sameTrees(a, b)).toEqual([]);

    put(a, 'd0/new-near.txt', 'near\n');
    put(b, 'd1/new-far.txt', 'far\n');
    rmSync(join(a, 'd2/f2.txt'));
    put(b, 'd3/f3.txt', 'edited far\n');
    const second = ok(sync(s, [a, `127.0.0.1:${b}`]));
    expect(second.stderr).toContain(EARLY);
    expect(sameTrees(a, b)).toEqual([]);
    expect(readFileSync(join(a, 'd1/new-far.txt'), 'utf8')).toBe('far\n');
    expect(readFileSync(join(b, 'd0/new-near.txt'), 'utf8')).toBe('near\n');
    expect(readFileSync(join(a, 'd3/f3.txt'), 'utf8')).toBe('edited far\n');
    expect(() => readFileSync(join(b, 'd2/f2.txt'))).toThrow();

    // the second run wrote on both sides and owed both flushes (the far one stamped with the agent's boot id);
    // the third, walking early, made the far flush once the agent answered
    expect(second.stderr).toMatch(/deferred flush right: targeted, \d+ inodes and \d+ dirs, owed to the next run/);
    expect(second.stderr).toMatch(/deferred flush left: targeted/);
    const third = ok(sync(s, ['--json', a, `127.0.0.1:${b}`]));
    expect(third.stderr).toContain(EARLY);
    expect(third.stderr).toMatch(/owed flush right: remote: targeted \d+ files/);
    expect(third.stderr).toMatch(/owed flush left: targeted \d+ files/);
    expect(third.stderr).not.toMatch(/warning/);
    const counts = (JSON.parse(third.stdout.trim().split('\n').at(-1) ?? '{}') as { counts: Record<string, number> }).counts;
    expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(0);
  });

  it('is dropped when the far root is another directory than the memo names: the new pair has no history, nothing is deleted', () => {
    const s = setup();
    const a = join(s.dir, 'a');
    const first = join(s.dir, 'far-1');
    const second = join(s.dir, 'far-2');
    const link = join(s.dir, 'far');
    mkdirSync(first);
    mkdirSync(second);
    symlinkSync(first, link);
    for (let i = 0; i < 10; i++) put(a, `f${i}.txt`, `a ${i}\n`);
    ok(sync(s, [a, `127.0.0.1:${link}`]));
    expect(sameTrees(a, first)).toEqual([]);

    // the same root text now leads to an empty directory: with the first pair's base, two-way would read every
    // file as deleted there; as a pair of its own, with no base, the files are copied
    rmSync(link);
    symlinkSync(second, link);
    const r = ok(sync(s, [a, `127.0.0.1:${link}`]));
    expect(r.stderr).not.toContain(EARLY);
    expect(readdirSync(a).filter((n) => n.endsWith('.txt'))).toHaveLength(10);
    expect(sameTrees(a, second)).toEqual([]);
    // and the memo now names the new root: the next run opens early again
    expect(ok(sync(s, [a, `127.0.0.1:${link}`])).stderr).toContain(EARLY);
  });

  it('never without the pair lock: another holder makes it exit 5, and the run after it goes ahead', async () => {
    const s = setup();
    const a = join(s.dir, 'a');
    const b = join(s.dir, 'b');
    mkdirSync(b);
    put(a, 'x.txt', 'x\n');
    ok(sync(s, ['--one-way', a, `127.0.0.1:${b}`]));
    const [memo] = memos(s.state);
    const identity = (JSON.parse(readFileSync(join(s.state, memo ?? ''), 'utf8')) as { identity: AbsPath }).identity;
    const lock = await acquirePairLock(s.state, realpathSync(a) as AbsPath, identity, 0);
    let released = false;
    onTestFinished(() => {
      if (!released) lock.release();
    });
    put(a, 'y.txt', 'y\n');
    const busy = sync(s, ['--one-way', a, `127.0.0.1:${b}`]);
    expect(busy.code, busy.stderr).toBe(5);
    expect(() => readFileSync(join(b, 'y.txt'))).toThrow();
    lock.release();
    released = true;
    const after = ok(sync(s, ['--one-way', a, `127.0.0.1:${b}`]));
    expect(after.stderr).toContain(EARLY);
    expect(readFileSync(join(b, 'y.txt'), 'utf8')).toBe('y\n');
  });
});
