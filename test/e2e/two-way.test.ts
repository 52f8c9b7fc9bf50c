// Two-way sync through the built CLI on real trees: propagation both ways, the conflict policies, the
// conflicts listing, shared state for `sync B A`, and the guards that protect one side from the other.
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir, removeTempDir, runCli, type CliResult } from '../helpers/cli.js';
import { compareTrees, sameTrees, snapshotTree } from '../helpers/tree.js';

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly state: string;
  readonly sync: (...extra: string[]) => CliResult;
  readonly syncReversed: (...extra: string[]) => CliResult;
  readonly put: (root: string, rel: string, content: string, mtimeS?: number) => void;
  readonly read: (root: string, rel: string) => string | null;
}

const T0 = Math.floor(Date.now() / 1000) - 86_400;

function pair(): Pair {
  const dir = makeTempDir('tsync-2way-');
  onTestFinished(() => removeTempDir(dir));
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const state = join(dir, 'state');
  mkdirSync(a);
  mkdirSync(b);
  const put = (root: string, rel: string, content: string, mtimeS?: number): void => {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
    if (mtimeS !== undefined) utimesSync(p, mtimeS, mtimeS);
  };
  const read = (root: string, rel: string): string | null => {
    try {
      return readFileSync(join(root, rel), 'utf8');
    } catch {
      return null;
    }
  };
  return {
    a,
    b,
    state,
    sync: (...extra) => runCli(['sync', '--state-dir', state, ...extra, a, b]),
    syncReversed: (...extra) => runCli(['sync', '--state-dir', state, ...extra, b, a]),
    put,
    read,
  };
}

/** doc.txt synced once, then edited differently on each side, with the given mtimes: a conflict. */
function editedOnBoth(p: Pair, onA: string, mtimeA: number, onB: string, mtimeB: number): void {
  ballast(p);
  p.put(p.a, 'doc.txt', 'v0\n', T0);
  expect(p.sync().code).toBe(0);
  p.put(p.a, 'doc.txt', onA, mtimeA);
  p.put(p.b, 'doc.txt', onB, mtimeB);
}

/** Ten files that stay put, so that no scenario trips the mass-deletion guard by accident. */
function ballast(p: Pair): void {
  for (let i = 0; i < 10; i++) p.put(p.a, `ballast/${i}.txt`, `ballast ${i}\n`, T0);
}

const conflictCopies = (root: string): string[] => readdirSync(root).filter((n) => n.includes('.tsync-conflict-'));

describe('two-way sync', () => {
  it('propagates creations, edits and deletions made on either side', () => {
    const p = pair();
    ballast(p);
    p.put(p.a, 'x.txt', 'x1\n', T0);
    p.put(p.a, 'gone.txt', 'bye\n', T0);
    expect(p.sync().code).toBe(0);
    p.put(p.a, 'x.txt', 'x2 from A\n');
    p.put(p.b, 'fromB/new.txt', 'new on B\n');
    rmSync(join(p.b, 'gone.txt'));
    const r = p.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(p.read(p.b, 'x.txt')).toBe('x2 from A\n');
    expect(p.read(p.a, 'fromB/new.txt')).toBe('new on B\n');
    expect(p.read(p.a, 'gone.txt')).toBeNull();
    expect(sameTrees(p.a, p.b)).toEqual([]);
  });

  it('keep-both: both versions end up in both trees, and the conflict is listed', () => {
    const p = pair();
    editedOnBoth(p, 'edited on A\n', T0 + 100, 'edited on B, newer\n', T0 + 200);
    const r = p.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(p.read(p.a, 'doc.txt')).toBe('edited on B, newer\n');
    expect(p.read(p.b, 'doc.txt')).toBe('edited on B, newer\n');
    for (const root of [p.a, p.b]) {
      const copies = conflictCopies(root);
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatch(/^doc\.tsync-conflict-\d{8}-\d{6}-left\.txt$/);
      expect(p.read(root, copies[0] ?? '')).toBe('edited on A\n');
    }
    const listed = runCli(['conflicts', '--state-dir', p.state, '--json', p.a, p.b]);
    expect(listed.code).toBe(0);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; resolution: string; winner: string });
    expect(rows).toEqual([expect.objectContaining({ path: 'doc.txt', resolution: 'kept-both', winner: 'right' })]);
    // the same state serves `sync B A`: nothing left to do, no new conflict
    const again = p.syncReversed('-v');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 copied');
    expect(conflictCopies(p.a)).toHaveLength(1);
  });

  it.each([
    ['left', 'edited on A\n'],
    ['right', 'edited on B\n'],
  ])("--conflict %s: that side wins and the loser is kept in the losing side's trash", (policy, winner) => {
    const p = pair();
    editedOnBoth(p, 'edited on A\n', T0 + 100, 'edited on B\n', T0 + 100);
    expect(p.sync('--conflict', policy).code).toBe(0);
    expect(p.read(p.a, 'doc.txt')).toBe(winner);
    expect(p.read(p.b, 'doc.txt')).toBe(winner);
    const [loser, loserRoot] = winner === 'edited on A\n' ? ['edited on B\n', p.b] : ['edited on A\n', p.a];
    for (const root of [p.a, p.b]) expect(conflictCopies(root)).toEqual([]);
    const trash = runCli(['trash', loserRoot]);
    expect(trash.code, trash.stderr).toBe(0);
    expect(trash.stdout).toContain('doc.txt');
    const stamp = readdirSync(join(loserRoot, '.tsync', 'trash'))[0] ?? '';
    expect(p.read(join(loserRoot, '.tsync', 'trash', stamp), 'doc.txt')).toBe(loser);
  });

  it('--no-trash: newer/left/right keep the loser as a conflict copy instead', () => {
    const p = pair();
    editedOnBoth(p, 'edited on A\n', T0 + 100, 'edited on B, newer\n', T0 + 200);
    expect(p.sync('--conflict', 'newer', '--no-trash').code).toBe(0);
    for (const root of [p.a, p.b]) {
      expect(p.read(root, 'doc.txt')).toBe('edited on B, newer\n');
      expect(conflictCopies(root).map((n) => p.read(root, n))).toEqual(['edited on A\n']);
    }
  });

  it('deleted and overwritten files go to the trash, and restore puts a version back', () => {
    const p = pair();
    ballast(p);
    p.put(p.a, 'gone.txt', 'deleted later\n', T0);
    p.put(p.a, 'edit.txt', 'first\n', T0);
    expect(p.sync().code).toBe(0);
    rmSync(join(p.a, 'gone.txt'));
    p.put(p.a, 'edit.txt', 'second\n', T0 + 50);
    expect(p.sync().code).toBe(0);
    expect(p.read(p.b, 'gone.txt')).toBeNull();
    expect(p.read(p.b, 'edit.txt')).toBe('second\n');
    const listed = runCli(['trash', p.b]);
    expect(listed.stdout).toMatch(/gone\.txt/);
    expect(listed.stdout).toMatch(/edit\.txt/);
    const restored = runCli(['restore', p.b, 'gone.txt']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(p.read(p.b, 'gone.txt')).toBe('deleted later\n');
    // the next sync brings it back to A as well
    expect(p.sync().code).toBe(0);
    expect(p.read(p.a, 'gone.txt')).toBe('deleted later\n');
  });

  it('--conflict skip: leaves both versions, exits 3, and lists the conflict as open until it is settled', () => {
    const p = pair();
    editedOnBoth(p, 'edited on A\n', T0 + 100, 'edited on B\n', T0 + 200);
    const r = p.sync('--conflict', 'skip');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('conflict left unresolved');
    expect(p.read(p.a, 'doc.txt')).toBe('edited on A\n');
    expect(p.read(p.b, 'doc.txt')).toBe('edited on B\n');
    expect(conflictCopies(p.a)).toEqual([]);
    const open = runCli(['conflicts', '--state-dir', p.state, p.a, p.b]);
    expect(open.stdout).toContain('OPEN');
    // the user settles it by hand: same content on both sides is recorded silently
    p.put(p.b, 'doc.txt', 'edited on A\n');
    expect(p.sync('--conflict', 'skip').code).toBe(0);
    expect(runCli(['conflicts', '--state-dir', p.state, p.a, p.b]).stdout).not.toContain('OPEN');
  });

  it('a deletion never beats a change: modified on A, deleted on B restores the modification', () => {
    const p = pair();
    ballast(p);
    p.put(p.a, 'f.txt', 'v1\n', T0);
    p.put(p.a, 'dir/keep.txt', 'k1\n', T0);
    p.put(p.a, 'dir/other.txt', 'o\n', T0);
    expect(p.sync().code).toBe(0);
    p.put(p.a, 'f.txt', 'v2 on A\n');
    rmSync(join(p.b, 'f.txt'));
    p.put(p.a, 'dir/keep.txt', 'k2 on A\n');
    rmSync(join(p.b, 'dir'), { recursive: true });
    const r = p.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(p.read(p.b, 'f.txt')).toBe('v2 on A\n');
    expect(p.read(p.b, 'dir/keep.txt')).toBe('k2 on A\n');
    expect(p.read(p.a, 'dir/other.txt')).toBeNull(); // the rest of B's deletion propagated
    expect(sameTrees(p.a, p.b)).toEqual([]);
  });

  it('--dry-run prints directions and changes nothing', () => {
    const p = pair();
    ballast(p);
    expect(p.sync().code).toBe(0);
    p.put(p.a, 'toB.txt', 'a\n');
    p.put(p.b, 'toA.txt', 'b\n');
    const before = [snapshotTree(p.a), snapshotTree(p.b)];
    const r = p.sync('--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+ > toB.txt');
    expect(r.stdout).toContain('+ < toA.txt');
    expect(compareTrees(before[0] ?? new Map(), snapshotTree(p.a), { identity: true })).toEqual([]);
    expect(compareTrees(before[1] ?? new Map(), snapshotTree(p.b), { identity: true })).toEqual([]);
  });

  it('refuses (exit 4) when a root that held files is now missing or empty, touching nothing', () => {
    const p = pair();
    ballast(p);
    expect(p.sync().code).toBe(0);
    const before = snapshotTree(p.a);
    rmSync(p.b, { recursive: true });
    const missing = p.sync();
    expect(missing.code).toBe(4);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    mkdirSync(p.b);
    expect(p.sync().code).toBe(4);
    expect(compareTrees(before, snapshotTree(p.a), { identity: true })).toEqual([]);
  });

  it('a missing root on a first sync is a usage error (exit 2) and is not created', () => {
    const p = pair();
    rmSync(p.b, { recursive: true });
    const r = p.sync();
    expect(r.code).toBe(2);
    expect(readdirSync(join(p.a, '..'))).not.toContain('B');
  });

  it('halts a plan that deletes most of a side (exit 4) unless --max-delete allows it', () => {
    const p = pair();
    for (let i = 0; i < 10; i++) p.put(p.a, `f${i}.txt`, `${i}\n`, T0);
    expect(p.sync().code).toBe(0);
    for (let i = 0; i < 8; i++) rmSync(join(p.a, `f${i}.txt`));
    expect(p.sync().code).toBe(4);
    expect(readdirSync(p.b).filter((n) => n !== '.tsync')).toHaveLength(10);
    expect(p.sync('--max-delete', '80%').code).toBe(0);
    expect(readdirSync(p.b).filter((n) => n !== '.tsync')).toHaveLength(2);
  });

  it('losing the state is safe: the next run is a union, nothing is deleted', () => {
    const p = pair();
    ballast(p);
    p.put(p.a, 'a.txt', 'a\n', T0);
    expect(p.sync().code).toBe(0);
    rmSync(p.state, { recursive: true });
    rmSync(join(p.a, 'a.txt')); // without a base this cannot be told from "new on B"
    p.put(p.b, 'b.txt', 'b\n');
    expect(p.sync().code).toBe(0);
    expect(p.read(p.a, 'a.txt')).toBe('a\n');
    expect(p.read(p.a, 'b.txt')).toBe('b\n');
  });
});
