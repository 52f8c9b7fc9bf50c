import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { binaryArb, recordArb } from '../helpers/base-records.js';
import { StateStore } from '../../src/store/store.js';

// The base is loaded from the index column by column, without building records on the way: whatever a
// commit wrote must come back exactly, seen from either root's side. Real SQLite files in a temp dir.

const dir = mkdtempSync(join(tmpdir(), 'tsync-base-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
