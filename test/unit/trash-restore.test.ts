// restoreVersion (engine/trash.ts), which `tsync restore` runs on the root's own machine (the agent's, for a
// remote root), and the wire shape the agent checks a restore request with. Real temp trees, no mocks.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { relPath } from '../../src/core/paths.js';
import type { AbsPath } from '../../src/core/types.js';
import { UnsafePathError } from '../../src/engine/guards.js';
import { listTrash, restoreVersion, stampTime, Trash, TRASH_DIR, trashStamp } from '../../src/engine/trash.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';
import { parseWire, trashVersionRef } from '../../src/remote/wire-shapes.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

const STAMP = '2026-11-20T08-00-00.000Z';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeTempDir(d);
});

/** A root whose trash holds `path` from the run STAMP, with `content`. */
function rootWithTrashed(path: string, content: string): AbsPath {
  const root = makeTempDir('tsync-restore-');
  dirs.push(root);
  const stored = join(root, TRASH_DIR, STAMP, path);
  mkdirSync(join(stored, '..'), { recursive: true });
  writeFileSync(stored, content);
  return root as AbsPath;
}

describe('restoreVersion', () => {
  it('puts the version back, creating its directories, and trashes what stood there', () => {
    const root = rootWithTrashed('d/e/f.txt', 'old');
    const [version] = listTrash(root);
    if (version === undefined) throw new Error('the trash lists nothing');
    expect(version).toMatchObject({ stamp: STAMP, path: 'd/e/f.txt', stored: `${TRASH_DIR}/${STAMP}/d/e/f.txt` });
    restoreVersion(root, version, Date.parse('2026-11-21T00:00:00Z'));
    expect(readFileSync(join(root, 'd/e/f.txt'), 'utf8')).toBe('old');
    expect(listTrash(root)).toEqual([]);

    // restoring over an entry: it goes to a trash folder of its own first
    writeFileSync(join(root, 'd/e/f.txt'), 'newer');
    mkdirSync(join(root, TRASH_DIR, STAMP, 'd', 'e'), { recursive: true });
    writeFileSync(join(root, TRASH_DIR, STAMP, 'd', 'e', 'f.txt'), 'old again');
    restoreVersion(root, version, Date.parse('2026-11-22T00:00:00Z'));
    expect(readFileSync(join(root, 'd/e/f.txt'), 'utf8')).toBe('old again');
    expect(listTrash(root).map((v) => [v.stamp, v.path])).toEqual([['2026-11-22T00-00-00.000Z', 'd/e/f.txt']]);
    expect(readFileSync(join(root, TRASH_DIR, '2026-11-22T00-00-00.000Z', 'd/e/f.txt'), 'utf8')).toBe('newer');
  });

  it('lists the versions one folder keeps of a path in the order they were kept, and restores the newest (a watch keeps a minute in one folder)', () => {
    const dir = makeTempDir('tsync-trash-versions-');
    dirs.push(dir);
    const root = dir as AbsPath;
    mkdirSync(join(root, 'd'));
    const trash = new Trash(root, STAMP);
    // twelve versions: `.~10~` sorts before `.~2~` as text, and the listing's own order is the file system's
    for (let v = 1; v <= 12; v++) {
      writeFileSync(join(root, 'd', 'next'), `v${v}`);
      renameSync(join(root, 'd', 'next'), join(root, 'd', 'f.txt')); // a new inode each time, as an install makes
      trash.keepCopyOf(relPath('d/f.txt'));
    }
    trash.close();
    const listed = listTrash(root);
    expect(listed.map((v) => readFileSync(join(root, v.stored), 'utf8'))).toEqual(Array.from({ length: 12 }, (_, i) => `v${i + 1}`));
    const newest = listed[listed.length - 1];
    if (newest === undefined) throw new Error('the trash lists nothing');
    rmSync(join(root, 'd', 'f.txt'));
    restoreVersion(root, newest, Date.parse('2026-11-22T00:00:00Z'));
    expect(readFileSync(join(root, 'd/f.txt'), 'utf8')).toBe('v12');
  });

  it('lists each version with the time it was kept, not only its folder’s, so restore --at can tell versions of one folder apart', async () => {
    const dir = makeTempDir('tsync-trash-times-');
    dirs.push(dir);
    const root = dir as AbsPath;
    const stamp = trashStamp(Date.now() - 1_000);
    const trash = new Trash(root, stamp);
    writeFileSync(join(root, 'f.txt'), 'v0');
    // as an install does: the version is linked into the trash, then the new one renamed over it (which sets the
    // kept inode's ctime once more: the time it left the tree)
    for (let v = 1; v <= 3; v++) {
      writeFileSync(join(root, 'next'), `v${v}`);
      trash.keepCopyOf(relPath('f.txt'));
      renameSync(join(root, 'next'), join(root, 'f.txt'));
      await new Promise((r) => setTimeout(r, 30)); // the kernel's ctime clock ticks every few ms at most
    }
    trash.close();
    const times = listTrash(root).map((v) => v.atMs);
    expect(times).toHaveLength(3);
    expect(times[0]).toBeGreaterThanOrEqual(stampTime(stamp) ?? Number.NaN);
    expect(times[1]).toBeGreaterThan(times[0] as number);
    expect(times[2]).toBeGreaterThan(times[1] as number);
  });

  it('refuses a version stored anywhere but where the trash keeps that path (nothing moves)', () => {
    const root = rootWithTrashed('f.txt', 'old');
    writeFileSync(join(root, 'other.txt'), 'not in the trash');
    expect(() => restoreVersion(root, { stamp: STAMP, path: relPath('f.txt'), stored: relPath('other.txt') }, Date.now())).toThrow(UnsafePathError);
    expect(() => restoreVersion(root, { stamp: STAMP, path: relPath('f.txt'), stored: relPath(`${TRASH_DIR}/${STAMP}/g.txt`) }, Date.now())).toThrow(UnsafePathError);
    expect(readdirSync(root).sort()).toEqual(['.tsync', 'other.txt']);
  });

  it('never follows a directory swapped for a symlink out of the root', () => {
    const root = rootWithTrashed('a/f.txt', 'old');
    const outside = makeTempDir('tsync-outside-');
    dirs.push(outside);
    symlinkSync(outside, join(root, 'a'));
    const [version] = listTrash(root);
    if (version === undefined) throw new Error('the trash lists nothing');
    expect(() => restoreVersion(root, version, Date.now())).toThrow();
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(root, TRASH_DIR, STAMP, 'a/f.txt'), 'utf8')).toBe('old');
  });
});

describe('the restore request on the wire', () => {
  const ok = { stamp: STAMP, path: 'd/f.txt', stored: `${TRASH_DIR}/${STAMP}/d/f.txt.~2~` };

  it('takes a version the trash keeps', () => {
    expect(parseWire(trashVersionRef, ok, 'restoreFromTrash request')).toEqual(ok);
  });

  it.each([
    ['a stamp not of the trash format', { ...ok, stamp: '2026' }],
    ['a stamp with a path in it', { ...ok, stamp: `${STAMP}/..` }],
    ['stored outside the trash', { ...ok, stored: 'd/f.txt' }],
    ['stored under another path', { ...ok, stored: `${TRASH_DIR}/${STAMP}/d/g.txt` }],
    ['stored under another stamp', { ...ok, stored: `${TRASH_DIR}/2026-11-20T08-00-01.000Z/d/f.txt` }],
    ['a path leaving the root', { ...ok, path: '../f.txt', stored: `${TRASH_DIR}/${STAMP}/../f.txt` }],
  ])('refuses %s', (_what, request) => {
    expect(() => parseWire(trashVersionRef, request, 'restoreFromTrash request')).toThrow(ProtocolError);
  });
});
