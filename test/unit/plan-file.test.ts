// A plan written by serializePlan reads back as the same plan, field for field: the schema in
// plan-parse.ts admits every key the writer emits and rebuilds every value (bytes, bigints, nulls).
import { describe, expect, it } from 'vitest';
import { relPath } from '../../src/core/paths.js';
import type { Action, Conflict, ScannedEntry } from '../../src/core/types.js';
import { UsageError } from '../../src/errors.js';
import { serializePlan } from '../../src/sync/plan-file.js';
import { parsePlan } from '../../src/sync/plan-parse.js';

// Names are bytes: one that is not UTF-8, and a newline, must come back byte-exact.
const odd = relPath('d\xff/n\nx');
const stat = { size: 7, mtimeNs: 1_700_000_000_123_456_789n, ino: 18_446_744_073_709_551_615n, ctimeNs: -1n };
const fileAt: ScannedEntry = {
  entry: { kind: 'file', size: 7, mtimeNs: 1_700_000_000_123_456_789n, mode: 0o4755, hash: '0123456789abcdef' },
  stat,
  observedAtNs: 1_700_000_001_000_000_000n,
};
const unhashed: ScannedEntry = { ...fileAt, entry: { kind: 'file', size: 7, mtimeNs: -5n, mode: 0o644, hash: null } };
const dirAt = { entry: { kind: 'dir', mode: 0o1777, mtimeNs: 3n }, stat: { ...stat, size: 4096 }, observedAtNs: 4n } as const;
const linkAt: ScannedEntry = { entry: { kind: 'symlink', target: '../t\xfe', mtimeNs: 9n }, stat: { ...stat, size: 4 }, observedAtNs: 10n };
const conflict: Conflict = {
  path: relPath('c.txt'),
  left: { kind: 'file', size: 7, mtimeNs: 11n, hash: '0123456789abcdef' },
  right: { kind: 'symlink', size: null, mtimeNs: 12n, hash: null },
  policy: 'newer',
  resolution: 'kept-both',
  winner: 'left',
  copyName: relPath('c (conflict).txt'),
};
const actions: Action[] = [
  { type: 'delete', path: odd, target: 'right', expect: { kind: 'symlink', ...stat } },
  { type: 'mkdir', path: relPath('d'), target: 'left', expect: null, source: dirAt },
  { type: 'copy', path: relPath('d/f'), target: 'right', expect: null, source: fileAt },
  { type: 'copy', path: relPath('d/l'), target: 'right', expect: { kind: 'file', ...stat }, source: linkAt },
  { type: 'meta', path: relPath('d/g'), target: 'left', expect: { kind: 'file', ...stat }, source: unhashed },
  { type: 'conflict', path: relPath('c.txt'), target: 'right', expect: { kind: 'symlink', ...stat }, winner: fileAt, loser: linkAt, copyName: relPath('c (conflict).txt'), conflict },
  {
    type: 'conflict',
    path: relPath('e'),
    target: 'left',
    expect: { kind: 'dir', ...stat },
    winner: dirAt,
    loser: unhashed,
    copyName: null,
    conflict: { ...conflict, path: relPath('e'), resolution: 'loser-trashed', winner: 'right', copyName: null },
  },
];
const roots = { left: { kind: 'local', path: '/l\xe9ft' }, right: { kind: 'remote', spec: 'me@host:sub dir', identity: 'ssh://0123abcd/home/me/sub dir\xff' } } as const;

describe('plan file', () => {
  it('reads back exactly what it wrote', () => {
    const text = serializePlan({ actions, agreed: [], skipped: [], conflicts: [] }, { mode: 'two-way', policy: 'newer', ...roots });
    expect(parsePlan(text, 'p.json')).toEqual({ mode: 'two-way', policy: 'newer', ...roots, actions });
  });

  it('reads a plan of two local roots as written before remote roots existed (roots as base64 strings)', () => {
    const text = serializePlan(
      { actions: [], agreed: [], skipped: [], conflicts: [] },
      { mode: 'one-way', policy: 'keep-both', left: roots.left, right: { kind: 'local', path: '/right/x' } },
    );
    const doc = JSON.parse(text) as { roots: unknown };
    expect(doc.roots).toEqual({ left: Buffer.from('/l\xe9ft', 'latin1').toString('base64'), right: Buffer.from('/right/x').toString('base64') });
    expect(parsePlan(text, 'p.json')).toMatchObject({ left: { kind: 'local', path: '/l\xe9ft' }, right: { kind: 'local', path: '/right/x' } });
  });

  it('a remote root without an ssh:// identity is a UsageError', () => {
    const text = serializePlan({ actions: [], agreed: [], skipped: [], conflicts: [] }, { mode: 'one-way', policy: 'keep-both', ...roots });
    const doc = JSON.parse(text) as { roots: { right: { identity: string } } };
    doc.roots.right.identity = Buffer.from('/home/me/sub').toString('base64');
    expect(() => parsePlan(JSON.stringify(doc), 'p.json')).toThrow(UsageError);
  });

  it('a bad action is a UsageError naming the file and the key', () => {
    const text = serializePlan({ actions, agreed: [], skipped: [], conflicts: [] }, { mode: 'two-way', policy: 'newer', ...roots });
    const doc = JSON.parse(text) as { actions: { source?: { stat: { mtimeNs: unknown } } }[] };
    const source = doc.actions[2]?.source;
    if (source === undefined) throw new Error('the copy has no source');
    source.stat.mtimeNs = 1.5;
    expect(() => parsePlan(JSON.stringify(doc), 'p.json')).toThrow(new UsageError('p.json: actions[2].source.stat.mtimeNs: expected a string, found 1.5'));
  });
});
