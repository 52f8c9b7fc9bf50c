// A backup and a restore with the built CLI (tree -> backup -> restored, both one-way) must give back the
// tree's holes and hard links. The same round trip through `cp -a` and `rsync -aHAXS` in the same test is
// the yardstick: what they keep, tsync must keep too.
import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';

const MiB = 1 << 20;
const FILES = ['disk.img', 'small.img', 'plain', 'd/a', 'd/e/b', 'x', 'y', 'z', 'solo'] as const;

/** The tree backed up: holes in a large and a small file, a group of two and a group of three names. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'd', 'e'), { recursive: true });
  execFileSync('truncate', ['-s', String(64 * MiB), join(root, 'disk.img')]);
  execFileSync('truncate', ['-s', String(700 * 1024), join(root, 'small.img')]);
  for (const [name, at] of [
    ['disk.img', 10 * MiB],
    ['disk.img', 40 * MiB + 8192],
    ['small.img', 200 * 1024],
  ] as const) {
    const fd = openSync(join(root, name), 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0xab), 0, 3 * 4096, at);
    closeSync(fd);
  }
  writeFileSync(join(root, 'plain'), 'p'.repeat(100_000));
  writeFileSync(join(root, 'd', 'a'), 'group of two');
  linkSync(join(root, 'd', 'a'), join(root, 'd', 'e', 'b'));
  writeFileSync(join(root, 'x'), 'group of three');
  linkSync(join(root, 'x'), join(root, 'y'));
  linkSync(join(root, 'x'), join(root, 'z'));
  writeFileSync(join(root, 'solo'), 'group of three'); // same bytes as x, but an inode of its own
}

interface Shape {
  /** Per file: its size and allocated 512-byte blocks. */
  readonly files: Record<string, { size: number; blocks: number; nlink: number }>;
  /** Which files share an inode, as sorted groups. */
  readonly groups: string[][];
}

function shapeOf(root: string): Shape {
  const files: Shape['files'] = {};
  const byIno = new Map<bigint, string[]>();
  for (const f of FILES) {
    const st = lstatSync(join(root, f), { bigint: true });
    files[f] = { size: Number(st.size), blocks: Number(st.blocks), nlink: Number(st.nlink) };
    byIno.set(st.ino, [...(byIno.get(st.ino) ?? []), f]);
  }
  const groups = [...byIno.values()].filter((g) => g.length > 1).map((g) => g.sort());
  return { files, groups: groups.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '')) };
}

/** Differences between the tree's shape and a restored copy's (empty: same holes, links and bytes). */
function shapeDifferences(tree: string, restored: string): string[] {
  const want = shapeOf(tree);
  const got = shapeOf(restored);
  const out: string[] = [];
  for (const f of FILES) {
    const w = want.files[f];
    const g = got.files[f];
    if (w === undefined || g === undefined) continue;
    if (g.size !== w.size) out.push(`${f}: size ${g.size}, not ${w.size}`);
    // a few KiB of slack: file systems may allocate an extra block here and there
    if (g.blocks > w.blocks + 16) out.push(`${f}: ${g.blocks} blocks, the tree's has ${w.blocks}`);
    if (g.nlink !== w.nlink) out.push(`${f}: ${g.nlink} links, not ${w.nlink}`);
    if (!readFileSync(join(tree, f)).equals(readFileSync(join(restored, f)))) out.push(`${f}: content differs`);
  }
  if (JSON.stringify(got.groups) !== JSON.stringify(want.groups)) out.push(`link groups ${JSON.stringify(got.groups)}, not ${JSON.stringify(want.groups)}`);
  return out;
}

describe('backup round trip: holes and hard links', () => {
  it('tree -> backup -> restored keeps holes and hard links, as cp -a and rsync -aHAXS do', () => {
    const sb = sandbox();
    const tree = sb.src;
    makeTree(tree);
    expect(shapeOf(tree).groups).toEqual([
      ['d/a', 'd/e/b'],
      ['x', 'y', 'z'],
    ]);
    expect(shapeOf(tree).files['disk.img']?.blocks).toBeLessThan(1024); // really sparse here

    const tsync = (from: string, to: string, state: string): void => {
      const r = runCli(['sync', '--one-way', '--state-dir', join(sb.dir, state), from, to], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
    };
    const backup = join(sb.dir, 'backup');
    const restored = join(sb.dir, 'restored');
    tsync(tree, backup, 'state-1');
    tsync(backup, restored, 'state-2');

    const cpBackup = join(sb.dir, 'cp-backup');
    const cpRestored = join(sb.dir, 'cp-restored');
    execFileSync('cp', ['-a', tree, cpBackup]);
    execFileSync('cp', ['-a', cpBackup, cpRestored]);
    const rsBackup = join(sb.dir, 'rsync-backup');
    const rsRestored = join(sb.dir, 'rsync-restored');
    execFileSync('rsync', ['-aHAXS', `${tree}/`, `${rsBackup}/`]);
    execFileSync('rsync', ['-aHAXS', `${rsBackup}/`, `${rsRestored}/`]);

    expect(shapeDifferences(tree, cpRestored)).toEqual([]);
    expect(shapeDifferences(tree, rsRestored)).toEqual([]);
    expect(shapeDifferences(tree, backup)).toEqual([]);
    expect(shapeDifferences(tree, restored)).toEqual([]);
    // and tsync's own check agrees, link structure included
    const check = runCli(['check', '--one-way', '--state-dir', join(sb.dir, 'state-3'), tree, restored]);
    expect(check.stdout, check.stderr).toContain('identical');
  });
});
