// Trash folders made ahead (issue 11): which folders a plan will keep versions in (core/trash-folders.ts, pure),
// the addon's job that makes them on a pool thread (native/dirs_ahead.c), and Trash.makeAhead racing the run's own
// makeDirs on real directories. No mocks.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { orderActions } from '../../src/core/order.js';
import { parentOf, relPath } from '../../src/core/paths.js';
import { TRASH_FOLDERS_AHEAD_MAX, trashFoldersAhead } from '../../src/core/trash-folders.js';
import type { AbsPath, Action, EntryKind, RelPath, Side } from '../../src/core/types.js';
import { listTrash, Trash, TRASH_DIR } from '../../src/engine/trash.js';
import { nativeMakeDirsAhead } from '../../src/fs/native-listing.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

const STAMP = '2026-12-07T08-00-00.000Z';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeTempDir(d);
});

function temp(): string {
  const d = makeTempDir('tsync-trash-ahead-');
  dirs.push(d);
  return d;
}

const stat = { ino: 1n, ctimeNs: 1n, size: 1, mtimeNs: 1n, nlink: 1, blocks: 8, mode: 0o100644, dev: 1n };
const expectOf = (kind: EntryKind | null) => (kind === null ? null : { ...stat, kind });

/** A plan action of `type` at `path` on `target`, expecting `kind` there (null: nothing). Only what trashFoldersAhead reads is real. */
function action(type: 'copy' | 'link' | 'delete' | 'meta' | 'mkdir' | 'conflict', path: string, target: Side, kind: EntryKind | null): Action {
  const source = { entry: { kind: 'file', size: 1, mode: 0o644, mtimeNs: 1n }, stat } as never;
  const base = { path: relPath(path), target, expect: expectOf(kind) };
  if (type === 'link') return { ...base, type, source, linkTo: relPath('x'), linkToExpect: null };
  if (type === 'conflict') return { ...base, type, winner: source, loser: source, copyName: null, conflict: {} as never };
  if (type === 'copy' || type === 'meta' || type === 'mkdir') return { ...base, type, source };
  return { ...base, type };
}

/** The model: the parents of kept versions on `side`, in the order the run first keeps one in each, reversed. */
function modelFolders(plan: readonly Action[], side: Side): RelPath[] {
  const order: RelPath[] = [];
  for (const a of plan) {
    const keeps = a.expect !== null && (a.type === 'copy' || a.type === 'link' || (a.type === 'delete' && a.expect.kind !== 'dir'));
    const dir = parentOf(a.path);
    if (a.target === side && keeps && dir !== null && !order.includes(dir)) order.push(dir);
  }
  return order.reverse();
}

describe('trashFoldersAhead', () => {
  it('lists the folders of kept versions on one side, each once, the last needed first', () => {
    const plan = orderActions([
      action('copy', 'a/new', 'right', null), // nothing replaced: no version
      action('copy', 'b/changed', 'right', 'file'),
      action('delete', 'c/gone', 'right', 'file'),
      action('delete', 'c/d', 'right', 'dir'), // a directory is removed, not kept
      action('delete', 'e/f/gone', 'right', 'symlink'),
      action('link', 'g/linked', 'right', 'file'),
      action('copy', 'b/other', 'right', 'file'), // b again: once
      action('meta', 'h/meta', 'right', 'file'), // metadata: nothing kept
      action('conflict', 'i/both', 'right', 'file'), // left to the run
      action('copy', 'j/left', 'left', 'file'), // the other side
      action('delete', 'top', 'right', 'file'), // the root: no folder of its own
    ]);
    // run order: deletes (deepest first: e/f/gone, c/gone), copies (b/changed, b/other), links (g/linked)
    expect(trashFoldersAhead(plan, 'right')).toEqual(['g', 'b', 'c', 'e/f']);
    expect(trashFoldersAhead(plan, 'left')).toEqual(['j']);
  });

  it('agrees with the model on random plans in run order, and keeps the last needed when there are too many', () => {
    const kinds: (EntryKind | null)[] = [null, 'file', 'symlink', 'dir'];
    const types = ['copy', 'link', 'delete', 'meta', 'mkdir', 'conflict'] as const;
    const arb = fc.array(
      fc.record({
        type: fc.constantFrom(...types),
        dir: fc.constantFrom('', 'a/', 'a/b/', 'c/', 'c/d/e/'),
        name: fc.constantFrom('x', 'y', 'z'),
        side: fc.constantFrom<Side>('left', 'right'),
        kind: fc.constantFrom(...kinds),
      }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(arb, (raw) => {
        const plan = orderActions(raw.map((r) => action(r.type, `${r.dir}${r.name}`, r.side, r.kind)));
        for (const side of ['left', 'right'] as const) expect(trashFoldersAhead(plan, side)).toEqual(modelFolders(plan, side));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
    const many = orderActions(Array.from({ length: TRASH_FOLDERS_AHEAD_MAX + 10 }, (_, i) => action('delete', `d${String(i).padStart(5, '0')}/f`, 'right', 'file')));
    const got = trashFoldersAhead(many, 'right');
    expect(got).toHaveLength(TRASH_FOLDERS_AHEAD_MAX);
    // deletes run deepest (greatest) first: the last needed are the smallest names
    expect(got[0]).toBe('d00000');
    expect(got.at(-1)).toBe(`d${String(TRASH_FOLDERS_AHEAD_MAX - 1).padStart(5, '0')}`);
  });
});

/** The addon's job, or a skip where the addon is not built. */
function job(skip: () => void): NonNullable<ReturnType<typeof nativeMakeDirsAhead>> {
  const make = nativeMakeDirsAhead();
  if (make === null) {
    skip();
    throw new Error('unreachable');
  }
  return make;
}

const pathsOf = (paths: readonly string[]): Buffer => Buffer.from(paths.map((p) => `${p}\0`).join(''), 'latin1');
const flag = (): Int32Array => new Int32Array(new SharedArrayBuffer(4));

describe('makeDirsAhead (native/dirs_ahead.c)', () => {
  it('makes each path and what is missing above it (0700), takes what is there as made, and closes what it opened', async ({ skip }) => {
    const make = job(skip);
    const root = temp();
    mkdirSync(join(root, 'a'));
    const fd = openSync(root, 'r');
    const before = readdirSync('/proc/self/fd').length;
    try {
      const latin1 = Buffer.from([0x6c, 0xe9, 0xff]).toString('latin1');
      const made = await make(fd, pathsOf(['a/b/c', 'a/b', 'x', `y/${latin1}`, 'a/b/c']), flag());
      expect(made).toBe(5);
      for (const p of ['a/b/c', 'x']) expect(lstatSync(join(root, p)).mode & 0o7777).toBe(0o700);
      expect(lstatSync(Buffer.concat([Buffer.from(`${root}/y/`), Buffer.from([0x6c, 0xe9, 0xff])])).isDirectory()).toBe(true);
      expect(readdirSync('/proc/self/fd').length).toBe(before);
    } finally {
      closeSync(fd);
    }
  });

  it('stops at a symlink or a file on the way, making nothing through it', async ({ skip }) => {
    const make = job(skip);
    const root = temp();
    const outside = temp();
    symlinkSync(outside, join(root, 'link'));
    writeFileSync(join(root, 'file'), 'x');
    const fd = openSync(root, 'r');
    try {
      // O_NOFOLLOW with O_DIRECTORY: ENOTDIR on Linux (ELOOP elsewhere)
      expect([-20, -40]).toContain(await make(fd, pathsOf(['link/in']), flag()));
      expect(await make(fd, pathsOf(['file/in']), flag())).toBe(-20); // ENOTDIR
      expect(readdirSync(outside)).toEqual([]);
      expect(readFileSync(join(root, 'file'), 'utf8')).toBe('x');
    } finally {
      closeSync(fd);
    }
  });

  it('makes nothing once cancelled, and refuses a flag that is not shared', async ({ skip }) => {
    const make = job(skip);
    const root = temp();
    const fd = openSync(root, 'r');
    try {
      const cancel = flag();
      Atomics.store(cancel, 0, 1);
      expect(await make(fd, pathsOf(['a', 'b']), cancel)).toBe(0);
      expect(readdirSync(root)).toEqual([]);
      expect(() => make(fd, pathsOf(['a']), new Int32Array(1))).toThrow(TypeError);
    } finally {
      closeSync(fd);
    }
  });
});

/** A root with `count` × 3 folders, each with one file `f`; the folders, in order. */
function treeOfFolders(count: number): { root: AbsPath; folders: RelPath[] } {
  const root = temp() as AbsPath;
  const folders: RelPath[] = [];
  for (let d = 0; d < count; d++) {
    for (let s = 0; s < 3; s++) {
      mkdirSync(join(root, `d${d}`, `s${s}`), { recursive: true });
      writeFileSync(join(root, `d${d}`, `s${s}`, 'f'), `${d}/${s}`);
      folders.push(relPath(`d${d}/s${s}`));
    }
  }
  return { root, folders };
}

/** Each folder's file is in the trash, as it was, and gone from the tree. */
function expectAllKept(root: AbsPath, folders: readonly RelPath[]): void {
  expect(
    listTrash(root)
      .map((v) => v.path)
      .sort(),
  ).toEqual(folders.map((f) => `${f}/f`).sort());
  for (const f of folders) expect(readFileSync(join(root, TRASH_DIR, STAMP, f, 'f'), 'utf8')).toBe(f.slice(1).replace('/s', '/'));
  for (const f of folders) expect(existsSync(join(root, f, 'f'))).toBe(false);
}

describe('Trash.makeAhead', () => {
  it('keeps every version where it belongs while the job makes the folders alongside the run', ({ skip }) => {
    job(skip);
    const { root, folders } = treeOfFolders(40);
    const trash = new Trash(root, STAMP);
    trash.makeAhead([...folders].reverse());
    // the run from the first folder on, while the job works from the last: they meet somewhere between
    for (const f of folders) trash.moveToTrash(relPath(`${f}/f`));
    trash.close();
    expectAllKept(root, folders);
  });

  it('keeps every version in the folders the job made before the run got there', async ({ skip }) => {
    job(skip);
    const { root, folders } = treeOfFolders(20);
    const trash = new Trash(root, STAMP);
    trash.makeAhead([...folders].reverse());
    // the job makes the first folder last: once it is there, all are
    const last = join(root, TRASH_DIR, STAMP, folders[0] as string);
    for (let waited = 0; !existsSync(last) && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    expect(readdirSync(join(root, TRASH_DIR, STAMP)).sort()).toEqual(Array.from({ length: 20 }, (_, d) => `d${d}`).sort());
    for (const f of folders) trash.moveToTrash(relPath(`${f}/f`));
    trash.close();
    expectAllKept(root, folders);
  });

  it('starts no job for a few folders', ({ skip }) => {
    job(skip);
    const { root, folders } = treeOfFolders(2);
    const trash = new Trash(root, STAMP);
    trash.makeAhead(folders);
    // six folders: under the threshold, nothing is made before a version is kept
    expect(existsSync(join(root, TRASH_DIR))).toBe(false);
    trash.close();
  });

  it('gives the trash folder FS_TOPDIR_FL where the file system has the flag (lsattr shows T), once, whatever way it is made', ({ skip }) => {
    job(skip);
    for (const ahead of [false, true]) {
      const { root, folders } = treeOfFolders(4);
      const trash = new Trash(root, STAMP);
      if (ahead) trash.makeAhead(folders);
      trash.moveToTrash(relPath(`${folders[0]}/f`));
      trash.close();
      const lsattr = spawnSync('lsattr', ['-d', join(root, TRASH_DIR)], { encoding: 'utf8' });
      // lsattr missing, or a file system without these flags (tmpfs, btrfs): nothing to see
      if (lsattr.status !== 0 || lsattr.error !== undefined) skip();
      expect(lsattr.stdout.split(' ')[0]).toContain('T');
      // the tree itself is left alone
      expect(spawnSync('lsattr', ['-d', join(root, folders[0] as string)], { encoding: 'utf8' }).stdout.split(' ')[0]).not.toContain('T');
    }
  });
});
