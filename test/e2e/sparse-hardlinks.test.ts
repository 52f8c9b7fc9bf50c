// Sparse files and hard links through the built CLI on real trees (ext4 or whatever the temp dir is on):
// a one-way replica keeps the source's holes (like `cp --sparse=auto`) and its hard links (like `rsync -H`);
// two-way syncs linked paths as separate files and loses nothing.
import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runCli, sandbox } from '../helpers/cli.js';

const MiB = 1 << 20;

/** A file of `size` bytes that is all hole except `blocks` random 4 KiB blocks written at `at`. */
function sparseFile(path: string, size: number, at: number, blocks: number): void {
  execFileSync('truncate', ['-s', String(size), path]);
  const fd = openSync(path, 'r+');
  try {
    for (let i = 0; i < blocks; i++) writeSync(fd, Buffer.alloc(4096, (i % 250) + 1), 0, 4096, at + i * 4096);
  } finally {
    closeSync(fd);
  }
}

const blocksOf = (p: string): number => Number(lstatSync(p, { bigint: true }).blocks);
const same = (a: string, b: string): boolean => readFileSync(a).equals(readFileSync(b));

describe('sparse files', () => {
  it('a 100 MiB sparse file is copied one-way with its holes, as `cp -a` copies it', () => {
    const sb = sandbox();
    sparseFile(join(sb.src, 'big.img'), 100 * MiB, 50 * MiB, 3);
    sparseFile(join(sb.src, 'small-sparse'), 900 * 1024, 300 * 1024, 2); // below the small-file limit: the synchronous path
    sparseFile(join(sb.src, 'ends-in-hole'), 5 * MiB, 0, 1);
    writeFileSync(join(sb.src, 'zeros'), Buffer.alloc(3 * MiB)); // all zero but not sparse: cp --sparse=auto keeps it dense
    const cpCopy = join(sb.dir, 'cp');
    execFileSync('cp', ['-a', sb.src, cpCopy]);
    const r = sb.sync();
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['big.img', 'small-sparse', 'ends-in-hole']) {
      const src = join(sb.src, name);
      const dst = join(sb.dst, name);
      expect(lstatSync(dst).size, name).toBe(lstatSync(src).size);
      expect(same(src, dst), name).toBe(true);
      // about as many blocks as the source and as cp's copy (a few KiB of slack for the file system's own choices)
      expect(blocksOf(dst), name).toBeLessThanOrEqual(blocksOf(src) + 16);
      expect(blocksOf(dst), name).toBeLessThanOrEqual(blocksOf(join(cpCopy, name)) + 16);
    }
    expect(blocksOf(join(sb.dst, 'big.img')) * 512).toBeLessThan(MiB);
    // the dense zero file stays dense, as cp leaves it
    expect(blocksOf(join(sb.dst, 'zeros')) * 512).toBeGreaterThanOrEqual(3 * MiB);
    expect(blocksOf(join(cpCopy, 'zeros')) * 512).toBeGreaterThanOrEqual(3 * MiB);
    // the hashes recorded are of the logical content: check agrees, and a second run does nothing
    expect(runCli(['check', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).stdout).toContain('identical');
    expect(lines(sb.sync().stdout).at(-1)).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates/);
  });

  it('check compares holes as zeros: a dense copy of a sparse file is identical', () => {
    const sb = sandbox();
    sparseFile(join(sb.src, 'img'), 4 * MiB, MiB, 1);
    mkdirSync(sb.dst);
    execFileSync('cp', ['--sparse=never', join(sb.src, 'img'), join(sb.dst, 'img')]);
    expect(blocksOf(join(sb.dst, 'img')) * 512).toBeGreaterThanOrEqual(4 * MiB);
    const r = runCli(['check', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(r.stdout).toContain('identical');
    expect(r.code).toBe(0);
  });
});

/** The replica's names for each inode, as sorted groups of paths (only inodes with several names). */
function linkGroups(root: string, names: readonly string[]): string[][] {
  const byIno = new Map<bigint, string[]>();
  for (const n of names) {
    const ino = lstatSync(join(root, n), { bigint: true }).ino;
    byIno.set(ino, [...(byIno.get(ino) ?? []), n]);
  }
  return [...byIno.values()].filter((g) => g.length > 1).map((g) => g.sort());
}

describe('hard links, one-way', () => {
  it('two names of one inode become one inode with two names in the replica; a second run does nothing', () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'd'));
    writeFileSync(join(sb.src, 'a'), 'shared content\n');
    linkSync(join(sb.src, 'a'), join(sb.src, 'd', 'b'));
    writeFileSync(join(sb.src, 'solo'), 'shared content\n'); // same bytes, own inode: stays its own file
    const dry = sb.sync('--dry-run');
    expect(dry.stdout).toContain('+ d/b (hard link to a)');
    const r = sb.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('1 hard-linked');
    expect(lstatSync(join(sb.dst, 'a')).nlink).toBe(2);
    expect(linkGroups(sb.dst, ['a', 'd/b', 'solo'])).toEqual([['a', 'd/b']]);
    expect(readFileSync(join(sb.dst, 'd', 'b'), 'utf8')).toBe('shared content\n');
    const again = sb.sync();
    expect(lines(again.stdout).at(-1)).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/);
    expect(runCli(['check', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).stdout).toContain('identical');
  });

  it('three names: one renamed, then one rewritten (un-linked), then the link restored', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a'), 'v1');
    linkSync(join(sb.src, 'a'), join(sb.src, 'b'));
    linkSync(join(sb.src, 'a'), join(sb.src, 'c'));
    expect(sb.sync('--no-trash').code).toBe(0);
    expect(linkGroups(sb.dst, ['a', 'b', 'c'])).toEqual([['a', 'b', 'c']]);

    renameSync(join(sb.src, 'c'), join(sb.src, 'e'));
    expect(sb.sync('--no-trash').code).toBe(0);
    expect(readdirSync(sb.dst).sort()).toEqual(['a', 'b', 'e']);
    expect(linkGroups(sb.dst, ['a', 'b', 'e'])).toEqual([['a', 'b', 'e']]);
    expect(lstatSync(join(sb.dst, 'a')).nlink).toBe(3);

    // b rewritten through a new file: the source's b leaves the group, and so must the replica's
    writeFileSync(join(sb.src, 'b.new'), 'v2 longer');
    renameSync(join(sb.src, 'b.new'), join(sb.src, 'b'));
    expect(sb.sync('--no-trash').code).toBe(0);
    expect(linkGroups(sb.dst, ['a', 'b', 'e'])).toEqual([['a', 'e']]);
    expect(readFileSync(join(sb.dst, 'a'), 'utf8')).toBe('v1');
    expect(readFileSync(join(sb.dst, 'b'), 'utf8')).toBe('v2 longer');

    // the link broken with the content kept the same: the replica's e gets an inode of its own
    writeFileSync(join(sb.src, 'e.new'), 'v1');
    renameSync(join(sb.src, 'e.new'), join(sb.src, 'e'));
    expect(sb.sync('--no-trash').code).toBe(0);
    expect(linkGroups(sb.dst, ['a', 'b', 'e'])).toEqual([]);
    expect(readFileSync(join(sb.dst, 'e'), 'utf8')).toBe('v1');

    // and linked again
    renameSync(join(sb.src, 'e'), join(sb.src, 'gone'));
    linkSync(join(sb.src, 'b'), join(sb.src, 'e'));
    expect(sb.sync('--no-trash').code).toBe(0);
    expect(linkGroups(sb.dst, ['a', 'b', 'e', 'gone'])).toEqual([['b', 'e']]);
    expect(runCli(['check', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).stdout).toContain('identical');
    expect(lines(sb.sync().stdout).at(-1)).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/);
  });

  it('a plan file carries the link action, and apply makes the link', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a'), 'x');
    linkSync(join(sb.src, 'a'), join(sb.src, 'b'));
    const planFile = join(sb.dir, 'plan.json');
    const p = runCli(['plan', '--one-way', '--state-dir', sb.state, sb.src, sb.dst, '-o', planFile]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain('+ b (hard link to a)');
    const actions = (JSON.parse(readFileSync(planFile, 'utf8')) as { actions: { type: string; pathText: string }[] }).actions;
    expect(actions.filter((a) => a.type === 'link').map((a) => a.pathText)).toEqual(['b']);
    const r = runCli(['apply', '--state-dir', sb.state, planFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(sb.dst, 'b')).ino).toBe(lstatSync(join(sb.dst, 'a')).ino);
  });

  it('check --one-way reports a replica whose link structure differs', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a'), 'x');
    linkSync(join(sb.src, 'a'), join(sb.src, 'b'));
    mkdirSync(sb.dst);
    writeFileSync(join(sb.dst, 'a'), 'x');
    writeFileSync(join(sb.dst, 'b'), 'x');
    const r = runCli(['check', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      'a: hard links differ (also named b in the first root, no other name in the second)',
      'b: hard links differ (also named a in the first root, no other name in the second)',
      '2 differences',
    ]);
  });
});

describe('hard links, two-way', () => {
  it('linked paths are synced as separate files, and nothing is lost', () => {
    const sb = sandbox();
    const A = sb.src;
    const B = sb.dst;
    mkdirSync(B);
    const sync = (): void => {
      const r = runCli(['sync', '--state-dir', sb.state, A, B]);
      expect(r.code, r.stderr).toBe(0);
    };
    const read = (root: string, n: string): string => readFileSync(join(root, n), 'utf8');
    writeFileSync(join(A, 'x1'), 'base-x');
    linkSync(join(A, 'x1'), join(A, 'x2'));
    writeFileSync(join(A, 'y1'), 'base-y');
    sync();
    expect([read(B, 'x1'), read(B, 'x2')]).toEqual(['base-x', 'base-x']);
    expect(lstatSync(join(B, 'x1')).ino).not.toBe(lstatSync(join(B, 'x2')).ino); // two-way keeps no links

    // on B, y1 and y2 are made one inode by hand; A then changes y1: installing it on B (rename over)
    // must not change y2, whose content is still the agreed one
    linkSync(join(B, 'y1'), join(B, 'y2'));
    sync();
    writeFileSync(join(A, 'y1'), 'new-y from A');
    sync();
    for (const root of [A, B]) expect([read(root, 'y1'), read(root, 'y2')]).toEqual(['new-y from A', 'base-y']);

    // an in-place write to a linked path on A changes both of A's names: both changes reach B
    writeFileSync(join(A, 'x1'), 'edited in place on A');
    expect(read(A, 'x2')).toBe('edited in place on A');
    sync();
    expect([read(B, 'x1'), read(B, 'x2')]).toEqual(['edited in place on A', 'edited in place on A']);

    // both sides change the group at once: B writes x2 while A writes x1 in place (which changes A's x2 too):
    // x2 is a conflict, and every version written survives on both sides
    writeFileSync(join(B, 'x2'), 'B wrote x2');
    writeFileSync(join(A, 'x1'), 'A wrote x1 in place');
    sync();
    for (const root of [A, B]) {
      const contents = readdirSync(root)
        .filter((n) => n.startsWith('x'))
        .map((n) => read(root, n));
      expect(contents).toEqual(expect.arrayContaining(['A wrote x1 in place', 'B wrote x2']));
      expect(read(root, 'x1')).toBe('A wrote x1 in place');
    }
    const names = (root: string): string[] =>
      readdirSync(root)
        .filter((n) => !n.startsWith('.tsync'))
        .sort();
    expect(names(A)).toEqual(names(B));
    expect(names(A)).toHaveLength(5); // x1, x2, the conflict copy of x2, y1, y2
    expect(runCli(['check', '--state-dir', sb.state, A, B]).stdout).toContain('identical');
  });
});
