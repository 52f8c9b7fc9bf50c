// What a run must make durable before the index records it, worked out from its outcomes alone
// (src/core/written-paths.ts), and which flush each side gets. A path missing here would be a write the
// index vouches for that a power cut could take back; no test can cut the power, so these tests pin the
// set of files and directories chosen.
import { describe, expect, it } from 'vitest';
import { expectOf } from '../../src/core/propagate.js';
import { relPath } from '../../src/core/paths.js';
import type { Action, Conflict, Outcome, OutcomeStatus, RelPath, ScannedEntry, Side } from '../../src/core/types.js';
import { flushStrategyOf, mergeWritten, pathsToFsync, TARGETED_FLUSH_MAX, writtenPathsOf, writtenSides, type WrittenSide } from '../../src/core/written-paths.js';
import { dir, file } from './fixtures/entries.js';

const p = relPath;
const STAMP = '2024-01-02T03-04-05.000Z';
const TRASH = `.tsync/trash/${STAMP}`;

function outcome(action: Action, status: OutcomeStatus = 'applied'): Outcome {
  return { action, status };
}

function copy(path: string, over?: ScannedEntry): Action {
  return { type: 'copy', path: p(path), target: 'right', expect: over === undefined ? null : expectOf(over), source: file('new') };
}

function conflictAt(path: string, winner: Side, copyName: RelPath | null): Conflict {
  const version = { kind: 'file', size: 1, mtimeNs: 1n, hash: null } as const;
  return { path: p(path), left: version, right: version, policy: 'newer', resolution: copyName === null ? 'loser-trashed' : 'kept-both', winner, copyName };
}

/** The side's sets as sorted lists, the root shown as '/'. */
function shape(w: WrittenSide): { inodes: string[]; dirs: string[] } {
  return { inodes: [...w.inodes].sort(), dirs: [...w.dirs].map((d) => d ?? '/').sort() };
}

describe('writtenPathsOf', () => {
  it('a new file: the file and the directory that got its name', () => {
    const w = writtenPathsOf([outcome(copy('a/b/f'))], STAMP);
    expect(shape(w.right)).toEqual({ inodes: ['a/b/f'], dirs: ['a/b'] });
    expect(shape(w.left)).toEqual({ inodes: [], dirs: [] });
    expect(writtenSides(w)).toEqual(['right']);
  });

  it('a file at the root: the root directory', () => {
    const w = writtenPathsOf([outcome(copy('f'))], null);
    expect(shape(w.right)).toEqual({ inodes: ['f'], dirs: ['/'] });
  });

  it('an overwrite with the trash on: the trash folders on the way, from the root down, too', () => {
    const w = writtenPathsOf([outcome(copy('a/f', file('old')))], STAMP);
    expect(shape(w.right)).toEqual({ inodes: ['a/f'], dirs: ['.tsync', '.tsync/trash', TRASH, `${TRASH}/a`, '/', 'a'].sort() });
  });

  it('a hard link: the new name and its directory; over an old file, the trash folders too', () => {
    const link = (path: string, over?: ScannedEntry): Action => ({
      type: 'link',
      path: p(path),
      target: 'right',
      expect: over === undefined ? null : expectOf(over),
      source: file('x'),
      linkTo: p('a/first'),
      linkToExpect: null,
    });
    expect(shape(writtenPathsOf([outcome(link('b/second'))], STAMP).right)).toEqual({ inodes: ['b/second'], dirs: ['b'] });
    const over = writtenPathsOf([outcome(link('b/second', file('old')))], STAMP);
    expect(shape(over.right)).toEqual({ inodes: ['b/second'], dirs: ['/', '.tsync', '.tsync/trash', TRASH, `${TRASH}/b`, 'b'].sort() });
  });

  it('an overwrite with the trash off: no trash folder', () => {
    const w = writtenPathsOf([outcome(copy('a/f', file('old')))], null);
    expect(shape(w.right)).toEqual({ inodes: ['a/f'], dirs: ['a'] });
  });

  it('a delete: the parent; a file moved to the trash: the trash folder as well; a directory removed: no trash', () => {
    const del = (path: string, was: ScannedEntry): Action => ({ type: 'delete', path: p(path), target: 'left', expect: expectOf(was) });
    const w = writtenPathsOf([outcome(del('x/gone', file('v'))), outcome(del('y/empty', dir()))], STAMP);
    expect(shape(w.left)).toEqual({ inodes: [], dirs: ['/', '.tsync', '.tsync/trash', TRASH, `${TRASH}/x`, 'x', 'y'].sort() });
  });

  it('a mkdir: the new directory itself (its mode is set later, in place) and its parent', () => {
    const mk: Action = { type: 'mkdir', path: p('a/new'), target: 'right', expect: null, source: dir() };
    expect(shape(writtenPathsOf([outcome(mk)], STAMP).right)).toEqual({ inodes: ['a/new'], dirs: ['a'] });
  });

  it('metadata set in place: the entry only (no name changed)', () => {
    const meta: Action = { type: 'meta', path: p('m'), target: 'right', expect: expectOf(file('v')), source: file('v') };
    expect(shape(writtenPathsOf([outcome(meta)], STAMP).right)).toEqual({ inodes: ['m'], dirs: [] });
  });

  it('a conflict kept both: the winner and the copy on the losing side, the copy on the winning side', () => {
    const loser = file('mine');
    const conflict = conflictAt('d/c', 'right', p('d/c (conflict)'));
    const a: Action = { type: 'conflict', path: p('d/c'), target: 'left', expect: expectOf(loser), winner: file('theirs'), loser, copyName: p('d/c (conflict)'), conflict };
    const w = writtenPathsOf([outcome(a)], null);
    expect(shape(w.left)).toEqual({ inodes: ['d/c', 'd/c (conflict)'], dirs: ['d'] });
    expect(shape(w.right)).toEqual({ inodes: ['d/c (conflict)'], dirs: ['d'] });
  });

  it('a directory winner over a file loser sent to the trash: the parent and the trash on the losing side', () => {
    const loser = file('mine');
    const conflict = conflictAt('e', 'left', null);
    const a: Action = { type: 'conflict', path: p('e'), target: 'right', expect: expectOf(loser), winner: dir(), loser, copyName: null, conflict };
    const w = writtenPathsOf([outcome(a)], STAMP);
    expect(shape(w.right)).toEqual({ inodes: [], dirs: ['/', '.tsync', '.tsync/trash', TRASH].sort() });
    expect(shape(w.left)).toEqual({ inodes: [], dirs: [] });
  });

  it('what was not applied and recorded nothing needs no flush', () => {
    const w = writtenPathsOf([outcome(copy('s'), 'stale'), outcome(copy('f'), 'failed')], STAMP);
    expect(writtenSides(w)).toEqual([]);
  });

  it('merging a watch batch keeps every cycle’s paths', () => {
    const w = writtenPathsOf([outcome(copy('a/1'))], null);
    mergeWritten(w, writtenPathsOf([outcome(copy('b/2'))], null));
    expect(shape(w.right)).toEqual({ inodes: ['a/1', 'b/2'], dirs: ['a', 'b'] });
  });
});

describe('flushStrategyOf', () => {
  const sideWith = (files: number): WrittenSide => ({ inodes: new Set(Array.from({ length: files }, (_, i) => `d/f${i}` as RelPath)), dirs: new Set<RelPath | null>([p('d')]) });

  it('nothing written: no flush', () => {
    expect(flushStrategyOf({ inodes: new Set(), dirs: new Set() })).toBe('none');
  });

  it('up to the threshold: targeted; one path more: syncfs', () => {
    expect(pathsToFsync(sideWith(TARGETED_FLUSH_MAX - 1))).toBe(TARGETED_FLUSH_MAX);
    expect(flushStrategyOf(sideWith(TARGETED_FLUSH_MAX - 1))).toBe('targeted');
    expect(flushStrategyOf(sideWith(TARGETED_FLUSH_MAX))).toBe('syncfs');
  });

  it('a directory both made and filled counts once', () => {
    const w: WrittenSide = { inodes: new Set([p('d')]), dirs: new Set<RelPath | null>([p('d'), null]) };
    expect(pathsToFsync(w)).toBe(2);
  });
});
