// A watch cycle costs what changed, not what exists (issue 11), checked without timing anything: with
// TSYNC_TIMINGS=1 each cycle says how many known paths it visited (entries of either side, base rows,
// children in the directory index; sync/watched-pair.ts). On a tree of a few thousand paths, a change
// deep in it, a directory renamed and a directory deleted must each converge while their cycles visit
// about what they changed, far below what the watch knows. Real CLI, real trees, nothing mocked.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { binPath, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { compareTrees, sameTrees, snapshotTree } from '../helpers/tree.js';
import { until, readOrNull as read } from '../helpers/wait.js';

const DIRS = 40;
const FILES_PER_DIR = 50;
const DEEP = 'deep/a/b/c/d/e/f/g';

interface CycleLine {
  readonly full: boolean;
  readonly scope: number | 'all';
  readonly visited: number;
  readonly known: number;
}

function cycleLines(text: string): CycleLine[] {
  const out: CycleLine[] = [];
  for (const m of text.matchAll(/^tsync timing: watch cycle \((full|dirty)\): scope (all|\d+) paths, visited (\d+) of (\d+) known/gm)) {
    out.push({ full: m[1] === 'full', scope: m[2] === 'all' ? 'all' : Number(m[2]), visited: Number(m[3]), known: Number(m[4]) });
  }
  return out;
}

function makeTree(root: string): void {
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(root, `d${d}`));
    for (let f = 0; f < FILES_PER_DIR; f++) writeFileSync(join(root, `d${d}`, `f${f}`), `d${d}/f${f}\n`);
  }
  mkdirSync(join(root, DEEP), { recursive: true });
  writeFileSync(join(root, DEEP, 'leaf.txt'), 'before\n');
}

describe.each([
  ['two-way', []],
  ['one-way', ['--one-way']],
] as const)('tsync watch %s: a cycle visits what changed, not the tree', (_mode, extra) => {
  it('a deep change, a directory renamed and one deleted: each converges, visiting far fewer paths than are known', async () => {
    const dir = makeTempDir('tsync-watch-cost-');
    const [a, b, state] = ['A', 'B', 'state'].map((n) => join(dir, n)) as [string, string, string];
    mkdirSync(a);
    mkdirSync(b);
    makeTree(a);
    // synced before, as a user who watches a pair they synced: the watch starts from a known index
    const first = runCli(['sync', ...extra, '--state-dir', state, a, b]);
    expect(first.code, first.stderr).toBe(0);

    const child = spawn(process.execPath, [binPath, 'watch', '--json', ...extra, '--state-dir', state, a, b], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSYNC_TIMINGS: '1' },
    });
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
      30_000,
      () => `watch never became ready: ${out}${err}`,
    );
    const opening = cycleLines(err);
    expect(opening[0]?.full, err).toBe(true);
    const known = opening[0]?.known ?? 0;
    // both sides' entries and the base: three times the tree
    expect(known).toBeGreaterThan(3 * DIRS * FILES_PER_DIR);

    /** The dirty cycles since `from` (an offset into stderr) must each visit fewer than `most` paths. */
    const expectNarrow = async (from: number, most: number, what: string): Promise<void> => {
      // the copy lands before its cycle says what it visited
      await until(
        () => cycleLines(err.slice(from)).length > 0,
        10_000,
        () => `${what}: no cycle said what it visited\n${err.slice(from)}`,
      );
      const lines = cycleLines(err.slice(from));
      for (const l of lines) {
        expect(l.full, `${what}: a full cycle\n${err.slice(from)}`).toBe(false);
        expect(l.visited, `${what}: visited ${l.visited} of ${l.known} known\n${err.slice(from)}`).toBeLessThan(most);
      }
    };

    let mark = err.length;
    writeFileSync(join(a, DEEP, 'leaf.txt'), 'after, and longer\n');
    await until(
      () => read(join(b, DEEP, 'leaf.txt')) === 'after, and longer\n',
      10_000,
      () => `the deep change never reached B: ${out}${err}`,
    );
    await expectNarrow(mark, 50, 'a deep change');

    mark = err.length;
    renameSync(join(a, 'd5'), join(a, 'd5-moved'));
    await until(
      () => read(join(b, 'd5-moved', `f${FILES_PER_DIR - 1}`)) !== null && read(join(b, 'd5', 'f0')) === null,
      10_000,
      () => `the rename never reached B: ${out}${err}`,
    );
    // the old and the new subtree, on both sides and in the base: a few times one directory, not the tree
    await expectNarrow(mark, 12 * (FILES_PER_DIR + 1), 'a directory renamed');

    mark = err.length;
    rmSync(join(a, 'd6'), { recursive: true });
    // the whole directory gone from B, not its first file: rm -r removes one name at a time, and a cycle may start
    // before it is done (the rest comes with the next); the trees are compared once the watch is stopped
    await until(
      () => !existsSync(join(b, 'd6')),
      10_000,
      () => `the delete never reached B: ${out}${err}`,
    );
    await expectNarrow(mark, 12 * (FILES_PER_DIR + 1), 'a directory deleted');
    expect(12 * (FILES_PER_DIR + 1)).toBeLessThan(known / 4);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const diffs = extra.length === 0 ? sameTrees(a, b) : compareTrees(snapshotTree(a), snapshotTree(b));
    expect(diffs).toEqual([]);
  }, 60_000);
});
