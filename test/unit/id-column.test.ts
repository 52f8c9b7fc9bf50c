import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactIds, grownIds, idOfSlot, NO_ID, uniformIds, withId } from '../../src/core/id-column.js';
import type { Entry, RelPath, ScannedEntry } from '../../src/core/types.js';
import { GrowingScanTable } from '../../src/scan/growing-scan-table.js';
import { BaseTable } from '../../src/store/base-table.js';
import { bytesReader, decodeSnapshot, encodeSnapshot, rowsOf } from '../../src/store/base-snapshot.js';

/** Owner or group ids as trees have them: mostly one, sometimes another, sometimes not kept. */
const idsArb = fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(NO_ID) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xfffffffe }) }), {
  maxLength: 300,
});

describe('an id column (core/id-column.ts)', () => {
  it('reads back every id written in order, across growth, as an array of them would', () => {
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 1, max: 64 }), (ids, start) => {
        let capacity = start;
        let column = uniformIds();
        for (let i = 0; i < ids.length; i++) {
          if (i === capacity) {
            capacity *= 2;
            column = grownIds(column, capacity);
          }
          column = withId(column, i, ids[i] as number, capacity);
        }
        for (let i = 0; i < ids.length; i++) expect(idOfSlot(column, i)).toBe(ids[i]);
        // one element for as long as every id is the same
        if (ids.every((id) => id === ids[0])) expect(column.length).toBe(1);
        const compact = compactIds(column.length === 1 ? new Uint32Array(ids) : column, ids.length);
        for (let i = 0; i < ids.length; i++) expect(idOfSlot(compact, i)).toBe(ids[i]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a write past the end of a per-slot column instead of dropping it', () => {
    const perSlot = withId(withId(uniformIds(), 0, 1, 4), 1, 2, 4);
    expect(perSlot.length).toBe(4);
    expect(() => withId(perSlot, 4, 3, 4)).toThrow(RangeError);
  });
});

function fileEntry(i: number, uid: number | undefined): [RelPath, ScannedEntry] {
  const entry: Entry = { kind: 'file', size: i, mtimeNs: 1_600_000_000_000_000_000n + BigInt(i), mode: 0o644, hash: null, uid, gid: uid === undefined ? undefined : uid + 1 };
  return [
    `f${i}` as RelPath,
    { entry, stat: { ino: 10n + BigInt(i), ctimeNs: 1_700_000_000_000_000_000n, size: i, mtimeNs: entry.mtimeNs, nlink: 1, blocks: 8 }, observedAtNs: 1_800_000_000_000_000_000n },
  ];
}

describe('the tables keep the ids of a tree of one owner as one element', () => {
  it('a walk: one element per id column until an entry of another owner, then each entry its own', () => {
    const table = new GrowingScanTable({ expectedEntries: 10 });
    for (let i = 0; i < 3000; i++) table.append(...fileEntry(i, 1000));
    const { columns } = table.columnsNow();
    expect([columns.uids.length, columns.gids.length]).toEqual([1, 1]);
    table.append(...fileEntry(3000, 1001));
    table.append(...fileEntry(3001, undefined));
    const after = table.columnsNow().columns;
    expect(after.uids.length).toBeGreaterThanOrEqual(3002);
    for (const i of [0, 2999, 3000, 3001]) expect(table.get(`f${i}` as RelPath)?.entry).toEqual(fileEntry(i, i === 3000 ? 1001 : i === 3001 ? undefined : 1000)[1].entry);
  });

  it('the base: loaded, written to a snapshot and read back, still one element, every record as written', () => {
    const table = new BaseTable(4);
    const records = [...Array(100).keys()].map((i) => fileEntry(i, 0));
    for (const [path, s] of records) table.append(path, s.entry, { mtimeNs: s.stat.mtimeNs, ino: s.stat.ino, ctimeNs: s.stat.ctimeNs }, null);
    expect(table.columnsNow().uids.length).toBe(1);
    const chunks = encodeSnapshot(rowsOf(table.columnsNow()), 'token', false);
    expect(chunks).not.toBeNull();
    // each chunk is valid only until the next is pulled (one scratch buffer): copied as it comes
    const bytes = Buffer.concat(Array.from(chunks ?? [], (part) => Buffer.from(part)));
    const columns = decodeSnapshot(bytesReader(bytes), 'token', false);
    expect(columns?.uids.length).toBe(1);
    const loaded = new BaseTable(columns?.count ?? 0, columns ?? undefined);
    for (const [path, s] of records) expect(loaded.get(path)?.entry).toEqual(s.entry);
    // a row of another owner afterwards: the column takes one element per row, the old rows unchanged
    const [path, s] = fileEntry(100, 5);
    loaded.append(path, s.entry, null, null);
    expect(loaded.get(path)?.entry).toEqual(s.entry);
    for (const [p, r] of records.slice(0, 3)) expect(loaded.get(p)?.entry).toEqual(r.entry);
  });
});
