import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BaseRecord, Entry, RelPath, SideRecord } from '../../src/core/types.js';
import { BaseTable } from '../../src/store/base-table.js';

// The base table must behave exactly like the Map it replaces: the pure core reads it through the Map
// interface, and watch cycles move it on with set/delete between commits. Each case runs the same
// operations against a BaseTable and a plain Map and compares everything the Map interface can see.

const P = (s: string): RelPath => s as RelPath;
const U64_MAX = 2n ** 64n - 1n;

const sideArb: fc.Arbitrary<SideRecord | null> = fc.option(
  fc.record({ mtimeNs: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), ino: fc.bigInt(0n, U64_MAX), ctimeNs: fc.oneof(fc.constant(-1n), fc.bigInt(0n, 2n ** 62n)) }),
  { nil: null },
);
const hashArb = fc.option(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }), { nil: null });
// Owner, group and xattr digest are each present or absent (not kept), in any combination.
const idArb = fc.nat(2 ** 32 - 2);
const xattrsArb = fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }));
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record(
    { kind: fc.constant('file' as const), size: fc.nat(2 ** 40), mode: fc.nat(0o7777), mtimeNs: fc.bigInt(0n, 2n ** 62n), hash: hashArb, uid: idArb, gid: idArb, xattrs: xattrsArb },
    { requiredKeys: ['kind', 'size', 'mode', 'mtimeNs', 'hash'] },
  ),
  fc.record(
    { kind: fc.constant('dir' as const), mode: fc.nat(0o7777), mtimeNs: fc.bigInt(0n, 2n ** 62n), uid: idArb, gid: idArb, xattrs: xattrsArb },
    { requiredKeys: ['kind', 'mode', 'mtimeNs'] },
  ),
  fc.record(
    { kind: fc.constant('symlink' as const), target: fc.string({ unit: 'binary' }), mtimeNs: fc.bigInt(0n, 2n ** 62n), uid: idArb, gid: idArb },
    { requiredKeys: ['kind', 'target', 'mtimeNs'] },
  ),
);
const recordArb: fc.Arbitrary<BaseRecord> = fc.record({ entry: entryArb, left: sideArb, right: sideArb });
// A small path alphabet so that loaded paths, set paths and deleted paths collide often.
const pathArb = fc.constantFrom(...['a', 'b', 'c', 'a/b', 'a/c', 'd/e/f', '\xff\xfe', 'x y'].map(P));

type Op = { op: 'set'; path: RelPath; rec: BaseRecord } | { op: 'delete'; path: RelPath } | { op: 'clear' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), path: pathArb, rec: recordArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('delete' as const), path: pathArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
);

function loaded(rows: Map<RelPath, BaseRecord>): BaseTable {
  const t = new BaseTable(rows.size);
  for (const [p, r] of rows) t.append(p, r.entry, r.left, r.right);
  return t;
}

function expectSame(table: BaseTable, model: Map<RelPath, BaseRecord>, probe: readonly RelPath[]): void {
  expect(table.size).toBe(model.size);
  expect([...table.keys()].sort()).toEqual([...model.keys()].sort());
  expect(new Map(table.entries())).toEqual(model);
  for (const p of probe) {
    expect(table.has(p)).toBe(model.has(p));
    expect(table.get(p)).toEqual(model.get(p));
  }
}

describe('BaseTable', () => {
  it('gives back every loaded record exactly (64-bit inodes, negative and racy ctimes, binary names and targets)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(pathArb, recordArb), { selector: ([p]) => p, maxLength: 8 }), (rows) => {
        const model = new Map(rows);
        expectSame(loaded(model), model, [...model.keys(), P('missing')]);
      }),
    );
  });

  it('behaves like a Map under any sequence of set, delete and clear after loading', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(pathArb, recordArb), { selector: ([p]) => p, maxLength: 8 }), fc.array(opArb, { maxLength: 30 }), (rows, ops) => {
        const model = new Map(rows);
        const table = loaded(model);
        for (const o of ops) {
          if (o.op === 'set') {
            table.set(o.path, o.rec);
            model.set(o.path, o.rec);
          } else if (o.op === 'delete') {
            expect(table.delete(o.path)).toBe(model.delete(o.path));
          } else {
            table.clear();
            model.clear();
          }
          // read between writes too: the table remembers the last record it materialised
          const some = [...model.keys()][0];
          if (some !== undefined) expect(table.get(some)).toEqual(model.get(some));
        }
        expectSame(table, model, ['a', 'b', 'a/b', 'd/e/f', '\xff\xfe', 'missing'].map(P));
      }),
    );
  });

  it('refuses a row beyond its capacity and a path loaded twice', () => {
    const t = new BaseTable(1);
    const entry: Entry = { kind: 'dir', mode: 0o755, mtimeNs: 1n };
    t.append(P('a'), entry, null, null);
    expect(() => t.append(P('b'), entry, null, null)).toThrow(RangeError);
    const u = new BaseTable(2);
    u.append(P('a'), entry, null, null);
    expect(() => u.append(P('a'), entry, null, null)).toThrow(RangeError);
  });
});
