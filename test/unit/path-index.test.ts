// A watch cycle finds a dirty directory's subtree through the child index, not by a pass over every
// known path: these pin what the index and the scope helpers return.
import { describe, expect, it } from 'vitest';
import { ChildIndex, IndexedMap } from '../../src/core/path-index.js';
import { relPath } from '../../src/core/paths.js';
import { expandScope, scopedPaths } from '../../src/core/scope.js';
import type { RelPath } from '../../src/core/types.js';

const p = relPath;
const sorted = (xs: Iterable<RelPath>): string[] => [...xs].map(String).sort();

function indexOf(paths: readonly string[]): { index: ChildIndex; known: Set<RelPath> } {
  const known = new Set(paths.map(p));
  const index = new ChildIndex((x) => known.has(x));
  for (const x of known) index.add(x);
  return { index, known };
}

describe('ChildIndex', () => {
  const tree = ['a', 'a/x', 'a/x/f1', 'a/x/f2', 'a/y', 'a/y/g', 'ab', 'ab/z', 'b', 'b/h'];

  it('returns the subtree below a directory, and nothing of its siblings or of names that merely share a prefix', () => {
    const { index } = indexOf(tree);
    expect(sorted(index.below(p('a')))).toEqual(['a/x', 'a/x/f1', 'a/x/f2', 'a/y', 'a/y/g']);
    expect(sorted(index.below(p('a/x')))).toEqual(['a/x/f1', 'a/x/f2']);
    expect(sorted(index.below(p('b/h')))).toEqual([]);
    expect(sorted(index.below(null))).toEqual([...tree].sort());
  });

  it('returns parents before their children', () => {
    const { index } = indexOf(tree);
    const order = index.below(null).map(String);
    for (const x of order) {
      const parent = x.includes('/') ? x.slice(0, x.lastIndexOf('/')) : null;
      if (parent !== null) expect(order.indexOf(parent)).toBeLessThan(order.indexOf(x));
    }
  });

  it('leaves out paths no longer known, keeps the ones still known, and takes them back when they return', () => {
    const { index, known } = indexOf(tree);
    known.delete(p('a/x/f1'));
    known.delete(p('a/x')); // a directory forgotten while a child is still known (events arrive in any order)
    expect(sorted(index.below(p('a')))).toEqual(['a/x/f2', 'a/y', 'a/y/g']);
    known.delete(p('a/x/f2'));
    expect(sorted(index.below(p('a')))).toEqual(['a/y', 'a/y/g']);
    expect(sorted(index.below(p('b')))).toEqual(['b/h']);
    known.add(p('a/x'));
    known.add(p('a/x/new'));
    index.add(p('a/x/new'));
    expect(sorted(index.below(p('a')))).toEqual(['a/x', 'a/x/new', 'a/y', 'a/y/g']);
  });

  it('learns the paths an IndexedMap gains, with their missing ancestors', () => {
    const index: ChildIndex = new ChildIndex((x) => tracked.has(x));
    const tracked = new IndexedMap<number>(index);
    tracked.set(p('d/e/f'), 1);
    tracked.set(p('d'), 2);
    expect(sorted(index.below(p('d')))).toEqual(['d/e/f']); // d/e is indexed (to reach d/e/f) but not known
    tracked.set(p('d/e'), 3);
    expect(sorted(index.below(p('d')))).toEqual(['d/e', 'd/e/f']);
  });
});

describe('scope helpers', () => {
  it('scopedPaths keeps the scoped paths that some source knows, sorted', () => {
    const base = new Map([
      [p('a'), 1],
      [p('a/f'), 1],
      [p('z'), 1],
    ]);
    const left = new Set([p('a/g'), p('q')]);
    expect(scopedPaths(new Set([p('a/g'), p('a/f'), p('nowhere')]), base, left)).toEqual(['a/f', 'a/g']);
    expect(scopedPaths('all', base, left)).toEqual(['a', 'a/f', 'a/g', 'q', 'z']);
  });

  it('expandScope adds ancestors, and the known subtree of a path that is or was a directory only', () => {
    const { index } = indexOf(['d', 'd/e', 'd/e/f', 'd2', 'd2/g', 'x', 'x/y']);
    const dirs = new Set(['d', 'd2', 'x'].map(p));
    const scope = expandScope(
      [p('d'), p('x/y')],
      (q) => dirs.has(q),
      (dir) => index.below(dir),
    );
    expect(sorted(scope)).toEqual(['d', 'd/e', 'd/e/f', 'x', 'x/y']);
  });
});
