// Only files whose content decides the plan are read before planning.
import { describe, expect, it } from 'vitest';
import { hashesNeeded, type HashRequest } from '../../src/core/hashes-needed.js';
import { relPath } from '../../src/core/paths.js';
import type { Side } from '../../src/core/types.js';
import { base, dir, file, link, snapshot, type Tree } from './fixtures/entries.js';

const unhashed = (label: string, size?: number): ReturnType<typeof file> => file(label, size === undefined ? { hash: null } : { hash: null, size });

interface Case {
  readonly name: string;
  readonly base?: Tree;
  readonly left: Tree;
  readonly right: Tree;
  readonly want: readonly (readonly [Side, string])[];
}

const cases: readonly Case[] = [
  { name: 'unhashed vs same-sized hashed counterpart: hash it', left: { a: unhashed('v1') }, right: { a: file('v2') }, want: [['left', 'a']] },
  {
    name: 'both unhashed and same size: both, left first',
    left: { a: unhashed('v1') },
    right: { a: unhashed('v2') },
    want: [
      ['left', 'a'],
      ['right', 'a'],
    ],
  },
  { name: 'sizes differ and no base: certainly different, hash while copying', left: { a: unhashed('v1') }, right: { a: unhashed('long') }, want: [] },
  { name: 'no counterpart and no base: new, hash while copying', left: { a: unhashed('v1') }, right: {}, want: [] },
  { name: 'no counterpart but a same-sized base entry', base: { a: file('v1') }, left: { a: unhashed('v2') }, right: {}, want: [['left', 'a']] },
  { name: 'counterpart of another size but a same-sized base entry', base: { a: file('v1') }, left: {}, right: { a: unhashed('v2') }, want: [['right', 'a']] },
  { name: 'base entry of another size, no counterpart', base: { a: file('longer') }, left: { a: unhashed('v2') }, right: {}, want: [] },
  { name: 'already hashed (the stat cache vouched)', base: { a: file('v1') }, left: { a: file('v1') }, right: { a: unhashed('v1') }, want: [['right', 'a']] },
  { name: 'counterpart is a directory', left: { a: unhashed('v1', 4096) }, right: { a: dir() }, want: [] },
  { name: 'counterpart is a symlink of the same length', left: { a: unhashed('v1') }, right: { a: link('v1') }, want: [] },
  { name: 'base entry is a directory', base: { a: dir() }, left: { a: unhashed('v1', 4096) }, right: {}, want: [] },
  { name: 'directories and symlinks are never hashed', left: { d: dir(), l: link('x') }, right: { d: dir(), l: link('y') }, want: [] },
  {
    name: 'several paths',
    base: { b: file('v1') },
    left: { a: unhashed('v1'), b: unhashed('v2'), c: unhashed('new') },
    right: { a: unhashed('v3'), b: file('v1'), c: file('other size') },
    want: [
      ['left', 'a'],
      ['left', 'b'],
      ['right', 'a'],
    ],
  },
];

describe('hashesNeeded', () => {
  it.each(cases.map((c): [string, Case] => [c.name, c]))('%s', (_name, c) => {
    const got = hashesNeeded(snapshot('left', c.left), snapshot('right', c.right), base(c.base ?? {}));
    const want: HashRequest[] = c.want.map(([side, path]) => ({ side, path: relPath(path) }));
    expect(got).toEqual(want);
  });
});
