import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AbsPath, BaseRecord, Entry, RelPath, SideRecord } from '../../src/core/types.js';
import { StateStore } from '../../src/store/store.js';

// The base is loaded from the index column by column, without building records on the way: whatever a
// commit wrote must come back exactly, seen from either root's side. Real SQLite files in a temp dir.

const dir = mkdtempSync(join(tmpdir(), 'tsync-base-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const U64_MAX = 2n ** 64n - 1n;
const sideArb: fc.Arbitrary<SideRecord | null> = fc.option(
  fc.record({ mtimeNs: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), ino: fc.bigInt(0n, U64_MAX), ctimeNs: fc.oneof(fc.constant(-1n), fc.bigInt(0n, 2n ** 62n)) }),
  { nil: null },
);
const hexArb = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 });
const idArb = fc.nat(2 ** 32 - 2);
const xattrsArb = fc.oneof(fc.constant(''), hexArb);
const binaryArb = (minLength: number): fc.Arbitrary<string> => fc.array(fc.integer({ min: 1, max: 255 }), { minLength, maxLength: 6 }).map((codes) => String.fromCharCode(...codes));
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('file' as const),
      size: fc.nat(2 ** 40),
      mode: fc.nat(0o7777),
      mtimeNs: fc.bigInt(-(2n ** 62n), 2n ** 62n),
      hash: fc.option(hexArb, { nil: null }),
      uid: idArb,
      gid: idArb,
      xattrs: xattrsArb,
    },
    { requiredKeys: ['kind', 'size', 'mode', 'mtimeNs', 'hash'] },
  ),
  fc.record(
    { kind: fc.constant('dir' as const), mode: fc.nat(0o7777), mtimeNs: fc.bigInt(0n, 2n ** 62n), uid: idArb, gid: idArb, xattrs: xattrsArb },
    { requiredKeys: ['kind', 'mode', 'mtimeNs'] },
  ),
  fc.record({ kind: fc.constant('symlink' as const), target: binaryArb(0), mtimeNs: fc.bigInt(0n, 2n ** 62n), uid: idArb, gid: idArb }, { requiredKeys: ['kind', 'target', 'mtimeNs'] }),
);
const recordArb: fc.Arbitrary<BaseRecord> = fc.record({ entry: entryArb, left: sideArb, right: sideArb });

const A = '/roots/a' as AbsPath;
const B = '/roots/b' as AbsPath;
let n = 0;

describe('loading the base from the index', () => {
  it('gives back every committed record, from either side of the pair (64-bit inodes, binary names, optional fields)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(binaryArb(1), recordArb), { selector: ([p]) => p, maxLength: 12 }), (rows) => {
        const model = new Map(rows.map(([p, r]) => [p as RelPath, r]));
        const stateDir = join(dir, String(n++));
        const { store } = StateStore.open(stateDir, A, B);
        store.commit({ changes: { upserts: model, removals: [] }, conflicts: [], atMs: 0, openConflictScope: 'all', runs: [] });
        const base = store.loadBase();
        expect(new Map(base.entries())).toEqual(model);
        // what a watch watches before its first scan, read without loading the base: the committed directories, in the base's order
        expect(store.dirPaths()).toEqual([...base].filter(([, r]) => r.entry.kind === 'dir').map(([p]) => p));
        store.close();
        const { store: swapped } = StateStore.open(stateDir, B, A);
        const mirrored = new Map([...model].map(([p, r]) => [p, { entry: r.entry, left: r.right, right: r.left }]));
        expect(new Map(swapped.loadBase().entries())).toEqual(mirrored);
        swapped.close();
      }),
      { numRuns: 60 },
    );
  });
});
