// The safety guards: an empty source or a mass deletion halts the run with exit 4 and nothing changed,
// unless --force or --max-delete says it is meant.
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, sandbox, type CliResult, type Sandbox } from '../helpers/cli.js';
import { compareTrees, dir, link, pinTimes, put, snapshotTree } from '../helpers/tree.js';

function expectHalted(r: CliResult, message: RegExp): void {
  expect(r.code).toBe(4);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toEqual([expect.stringMatching(message)]);
}

/** SRC and DST mirror ten files; then SRC loses `remove` of them. */
function tenFilesThenRemove(sb: Sandbox, remove: number): void {
  for (let i = 0; i < 10; i++) put(sb.src, `dir/f${i}.txt`, `file ${i}\n`);
  pinTimes(sb.src);
  expect(sb.sync().code).toBe(0);
  for (let i = 0; i < remove; i++) unlinkSync(join(sb.src, 'dir', `f${i}.txt`));
  pinTimes(sb.src);
}

describe('empty source over a non-empty destination', () => {
  function emptySourceOverMirror(sb: Sandbox): void {
    put(sb.src, 'a.txt', 'a\n');
    put(sb.src, 'sub/b.txt', 'b\n');
    link(sb.src, 'l', 'a.txt');
    expect(sb.sync().code).toBe(0);
    rmSync(sb.src, { recursive: true });
    dir(sb.dir, 'src'); // the same root, now empty: what an unmounted disk looks like
  }

  it('halts with exit 4 and leaves DST untouched', () => {
    const sb = sandbox();
    emptySourceOverMirror(sb);
    const before = snapshotTree(sb.dst);

    const r = sb.sync();

    expectHalted(r, /^tsync: halted: the source is empty but the destination holds 4 entries; refusing to empty it/);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });

  it('halts even on a first run without state', () => {
    const sb = sandbox();
    put(sb.dst, 'precious.txt', 'x\n');
    const before = snapshotTree(sb.dst);

    expectHalted(sb.sync(), /^tsync: halted: the source is empty/);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });

  it('with --force, empties DST (exit 0)', () => {
    const sb = sandbox();
    emptySourceOverMirror(sb);

    const r = sb.sync('--force');

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(snapshotTree(sb.dst).size).toBe(0);
  });

  it('an empty source over an empty destination is fine', () => {
    const sb = sandbox();
    dir(sb.dir, 'dst');
    expect(sb.sync()).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('mass deletion', () => {
  it('more than 50% of DST files: exit 4, DST untouched', () => {
    const sb = sandbox();
    tenFilesThenRemove(sb, 6);
    const before = snapshotTree(sb.dst);

    const r = sb.sync();

    expectHalted(r, /^tsync: halted: the plan deletes 6 of 10 files in the destination \(60%, over the limit of 50%\); refusing/);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });

  it('exactly 50% is allowed by default', () => {
    const sb = sandbox();
    tenFilesThenRemove(sb, 5);
    const r = sb.sync();
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
  });

  it('halts the whole run: a new file in the same plan is not copied either', () => {
    const sb = sandbox();
    tenFilesThenRemove(sb, 8);
    put(sb.src, 'new.txt', 'would be copied\n');
    const before = snapshotTree(sb.dst);

    expectHalted(sb.sync(), /^tsync: halted: the plan deletes 8 of 10 files/);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });

  for (const allow of [['--max-delete', '90%'], ['--max-delete', '100'], ['--max-delete', '8'], ['--force']]) {
    it(`${allow.join(' ')} allows deleting 8 of 10`, () => {
      const sb = sandbox();
      tenFilesThenRemove(sb, 8);

      const r = sb.sync(...allow);

      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^0 copied, 0 dirs created, 8 deleted, /);
      expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    });
  }

  for (const [flag, value, limitText] of [
    ['--max-delete', '70%', '70%'],
    ['--max-delete', '7', '7 files'],
  ] as const) {
    it(`${flag} ${value} still refuses deleting 8 of 10`, () => {
      const sb = sandbox();
      tenFilesThenRemove(sb, 8);
      const before = snapshotTree(sb.dst);

      expectHalted(sb.sync(flag, value), new RegExp(`^tsync: halted: the plan deletes 8 of 10 files .*over the limit of ${limitText}\\)`));
      expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
    });
  }

  it('--max-delete 0 refuses any deletion', () => {
    const sb = sandbox();
    tenFilesThenRemove(sb, 1);
    expectHalted(sb.sync('--max-delete', '0'), /^tsync: halted: the plan deletes 1 of 10 files/);
  });

  it('a type change (file replaced by a directory) is not counted as a deletion', () => {
    const sb = sandbox();
    put(sb.src, 'a', 'file\n');
    put(sb.src, 'b', 'file\n');
    pinTimes(sb.src);
    expect(sb.sync().code).toBe(0);
    rmSync(join(sb.src, 'a'));
    rmSync(join(sb.src, 'b'));
    put(sb.src, 'a/inside', 'now a dir\n');
    link(sb.src, 'b', 'a');
    pinTimes(sb.src);

    const r = sb.sync('--max-delete', '0');

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
  });
});
