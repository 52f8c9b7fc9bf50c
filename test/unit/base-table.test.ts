import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vouchedHash, vouchedXattrs } from '../../src/core/stat-cache.js';
import { recordsAgreed } from '../../src/core/commit.js';
import type { BaseRecord, Entry, RelPath, ScannedEntry, Side, SideRecord, StatId } from '../../src/core/types.js';
import { BaseTable, GENTLE_GROWTH_FROM, grownCapacity } from '../../src/store/base-table.js';

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

/** Applies one operation to the table and to the model Map alike (a delete must answer as the Map's does). */
function applyOp(table: BaseTable, model: Map<RelPath, BaseRecord>, o: Op): void {
  if (o.op === 'set') {
    table.set(o.path, o.rec);
    model.set(o.path, o.rec);
  } else if (o.op === 'delete') {
    expect(table.delete(o.path)).toBe(model.delete(o.path));
  } else {
    table.clear();
    model.clear();
  }
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
          applyOp(table, model, o);
          // read between writes too: the table remembers the last record it materialised
          const some = [...model.keys()][0];
          if (some !== undefined) expect(table.get(some)).toEqual(model.get(some));
        }
        expectSame(table, model, ['a', 'b', 'a/b', 'd/e/f', '\xff\xfe', 'missing'].map(P));
      }),
    );
  });

  it('vouches for a hash and an xattr digest exactly as the stat cache does on the records it holds', () => {
    // The scan asks the table straight (vouchedHash, vouchedXattrs: no record built per path); the answer
    // must be the pure core's on the record the Map interface gives, for stats that match the record, that
    // differ in one field, or are unrelated, on loaded slots, on paths the overlay changed, and on absent paths.
    const statArb = fc.record({
      how: fc.constantFrom('same', 'ino', 'ctime', 'mtime', 'size', 'other'),
      other: fc.record({ ino: fc.bigInt(0n, U64_MAX), ctimeNs: fc.bigInt(0n, 2n ** 62n), size: fc.nat(2 ** 40), mtimeNs: fc.bigInt(0n, 2n ** 62n) }),
    });
    const statFor = (rec: BaseRecord | undefined, side: Side, s: { how: string; other: StatId }): StatId => {
      const sr = rec === undefined ? null : side === 'left' ? rec.left : rec.right;
      if (rec === undefined || sr === null || s.how === 'other') return s.other;
      const same: StatId = { ino: sr.ino, ctimeNs: sr.ctimeNs, mtimeNs: sr.mtimeNs, size: rec.entry.kind === 'file' ? rec.entry.size : 0 };
      if (s.how === 'ino') return { ...same, ino: same.ino + 1n };
      if (s.how === 'ctime') return { ...same, ctimeNs: same.ctimeNs + 1n };
      if (s.how === 'mtime') return { ...same, mtimeNs: same.mtimeNs + 1n };
      if (s.how === 'size') return { ...same, size: same.size + 1 };
      return same;
    };
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(pathArb, recordArb), { selector: ([p]) => p }),
        fc.array(opArb, { maxLength: 6 }),
        fc.array(fc.tuple(pathArb, fc.constantFrom<Side>('left', 'right'), statArb), { minLength: 1, maxLength: 12 }),
        (rows, ops, probes) => {
          const model = new Map(rows);
          const table = loaded(model);
          for (const o of ops) applyOp(table, model, o);
          for (const [path, side, s] of probes) {
            const rec = model.get(path);
            const stat = statFor(rec, side, s);
            const sr = rec === undefined ? undefined : side === 'left' ? rec.left : rec.right;
            expect(table.vouchedHash(path, side, stat)).toBe(vouchedHash(stat, rec, sr));
            expect(table.vouchedXattrs(path, side, stat)).toBe(vouchedXattrs(stat, rec, sr));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('tells whether a record is the one two agreeing scans make, exactly as the commit step does on the record', () => {
    // NextBase asks the table straight (recordAgrees: no record built per path on a no-op run); the answer must be
    // core/commit.ts recordsAgreed on the record the Map interface gives, or null where the overlay holds the path.
    // Scans are made from the record (the agreeing case, racy or not, hash known on one side only) or changed in one field.
    const changeArb = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('none', 'no-hash') },
      { weight: 4, arbitrary: fc.constantFrom('ino', 'ctime', 'mtime', 'size', 'mode', 'kind', 'racy', 'other-hash') },
    );
    const scanOf = (rec: BaseRecord | undefined, side: Side, change: string, otherHash: string | null): ScannedEntry => {
      const sr = rec === undefined ? null : side === 'left' ? rec.left : rec.right;
      const e: Entry = rec?.entry ?? { kind: 'dir', mode: 0o755, mtimeNs: 1n };
      const stat: StatId = { ino: sr?.ino ?? 7n, ctimeNs: sr === null || sr.ctimeNs === -1n ? 5n : sr.ctimeNs, mtimeNs: sr?.mtimeNs ?? 3n, size: e.kind === 'file' ? e.size : 0 };
      // observed long after the ctime (not racy), unless asked to be racy
      let observedAtNs = stat.ctimeNs + 10n ** 12n;
      let entry: Entry = e;
      let st = stat;
      if (change === 'no-hash' && e.kind === 'file') entry = { ...e, hash: null };
      if (change === 'other-hash' && e.kind === 'file') entry = { ...e, hash: otherHash };
      if (change === 'ino') st = { ...stat, ino: stat.ino + 1n };
      if (change === 'ctime') st = { ...stat, ctimeNs: stat.ctimeNs + 1n };
      if (change === 'mtime') st = { ...stat, mtimeNs: stat.mtimeNs + 1n };
      if (change === 'size' && e.kind === 'file') entry = { ...e, size: e.size + 1 };
      if (change === 'mode' && e.kind !== 'symlink') entry = { ...e, mode: (e.mode + 1) & 0o7777 };
      if (change === 'kind') entry = e.kind === 'dir' ? { kind: 'symlink', target: 't', mtimeNs: e.mtimeNs } : { kind: 'dir', mode: 0o700, mtimeNs: e.mtimeNs };
      if (change === 'racy') observedAtNs = stat.ctimeNs;
      return { entry, stat: st, observedAtNs };
    };
    const answered: Record<string, number> = {};
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(pathArb, recordArb), { selector: ([p]) => p }),
        fc.array(opArb, { maxLength: 6 }),
        fc.array(fc.tuple(pathArb, changeArb, changeArb, hashArb, fc.constantFrom(0n, 50_000_000n)), { minLength: 1, maxLength: 12 }),
        (rows, ops, probes) => {
          const model = new Map(rows);
          const table = loaded(model);
          for (const o of ops) applyOp(table, model, o);
          for (const [path, leftChange, rightChange, otherHash, window] of probes) {
            const rec = model.get(path);
            const l = scanOf(rec, 'left', leftChange, otherHash);
            const r = scanOf(rec, 'right', rightChange, otherHash);
            const racy = { left: window, right: window };
            const expected = rec !== undefined && recordsAgreed(rec, l, r, racy);
            const got = table.recordAgrees(path, l, r, racy);
            expect(got ?? expected).toBe(expected);
            answered[String(got)] = (answered[String(got)] ?? 0) + 1;
          }
        },
      ),
      { numRuns: 500 },
    );
    // the columns answered, both ways, often: the check above is not only the fallback agreeing with itself
    expect(answered.true ?? 0).toBeGreaterThan(20);
    expect(answered.false ?? 0).toBeGreaterThan(20);
  });

  it('grows past the capacity it was made with, every row kept, and refuses a path loaded twice', () => {
    const t = new BaseTable(1);
    const model = new Map<RelPath, BaseRecord>();
    // 100 rows through 1, 16, 32, 64 and 128 slots; loaded (append) and new to the table (set) alike
    for (let i = 0; i < 100; i++) {
      const rec: BaseRecord = {
        entry: {
          kind: 'file',
          size: i,
          mode: 0o600 + i,
          mtimeNs: BigInt(i) * 1000n,
          hash: i % 3 === 0 ? null : i.toString(16).padStart(16, '0'),
          uid: i,
          gid: i + 1,
          xattrs: i % 2 === 0 ? '' : 'abcdef0123456789',
        },
        left: { mtimeNs: BigInt(i), ino: BigInt(i) + 1n, ctimeNs: BigInt(i) + 2n },
        right: i % 5 === 0 ? null : { mtimeNs: BigInt(-i), ino: U64_MAX - BigInt(i), ctimeNs: -1n },
      };
      if (i % 2 === 0) t.append(P(`p${i}`), rec.entry, rec.left, rec.right);
      else t.set(P(`p${i}`), rec);
      model.set(P(`p${i}`), rec);
    }
    expectSame(t, model, [...model.keys()]);
    const entry: Entry = { kind: 'dir', mode: 0o755, mtimeNs: 1n };
    const u = new BaseTable(2);
    u.append(P('a'), entry, null, null);
    expect(() => u.append(P('a'), entry, null, null)).toThrow(RangeError);
  });

  it('grows a large full table by an eighth, not twice over, and keeps every row (a watch adding to a loaded base)', () => {
    const n = GENTLE_GROWTH_FROM + 4_000;
    const t = new BaseTable(n);
    const entry: Entry = { kind: 'file', size: 1, mode: 0o644, mtimeNs: 5n, hash: null };
    for (let i = 0; i < n; i++) t.append(P(`p${i}`), entry, null, null);
    // the columns are views of the table's own buffers, so their byte length is its capacity
    expect(t.columnsNow().kinds.buffer.byteLength).toBe(n);
    t.set(P('new'), { entry: { ...entry, size: 7 }, left: null, right: null });
    expect(t.columnsNow().kinds.buffer.byteLength).toBe(n + (n >> 3));
    expect(t.get(P('new'))?.entry).toMatchObject({ size: 7 });
    expect(t.get(P(`p${n - 1}`))?.entry).toMatchObject({ size: 1 });
    expect(t.size).toBe(n + 1);
    // small tables still double, from 16 slots up
    expect([0, 1, 16, 1000].map(grownCapacity)).toEqual([16, 16, 32, 2000]);
  });
});

// A base loaded in the index's order (sorted) finds paths by searching from the last one found, with no map of
// paths; one loaded or grown out of order takes the map. Either way every lookup must answer as a Map would, for
// present and absent paths asked in any order, and slots must stay where they were loaded.
describe('finding paths in a base, searched while in order and mapped once not', () => {
  const entry: Entry = { kind: 'file', size: 1, mode: 0o644, mtimeNs: 5n, hash: null };
  // '/', '.' and '-' sort around each other the way sibling names and their subtrees do in the index
  const nameArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '-', '\xff'), minLength: 1, maxLength: 6 });

  it('answers has, get and the slot of every path as a Map of the loaded order does', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { maxLength: 60 }), fc.array(nameArb, { maxLength: 80 }), fc.boolean(), (paths, asks, sorted) => {
        const order = sorted ? [...paths].sort() : paths;
        const t = new BaseTable(order.length);
        for (const p of order) t.append(P(p), entry, null, null);
        const slots = new Map(order.map((p, i) => [p, i]));
        // the loaded order forwards and backwards (a walk, then a pass from the end), then arbitrary asks
        for (const a of [...order, ...[...order].reverse(), ...asks]) {
          expect(t.visibleSlotOf(P(a))).toBe(slots.get(a) ?? -1);
          expect(t.has(P(a))).toBe(slots.has(a));
          expect(t.get(P(a)) !== undefined).toBe(slots.has(a));
        }
        expect([...t.keys()]).toEqual(order);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps answering once a path is appended out of order, and refuses a path held twice either way', () => {
    const t = new BaseTable(4);
    for (const p of ['a', 'a/b', 'b']) t.append(P(p), entry, null, null);
    expect(t.visibleSlotOf(P('a/b'))).toBe(1);
    t.set(P('a.txt'), { entry, left: null, right: null }); // a new path sorts before 'b': the map from here on
    expect([...t.keys()]).toEqual(['a', 'a/b', 'b', 'a.txt']);
    expect(['a', 'a/b', 'b', 'a.txt', 'c'].map((p) => t.visibleSlotOf(P(p)))).toEqual([0, 1, 2, 3, -1]);
    expect(() => t.append(P('a/b'), entry, null, null)).toThrow(RangeError);
    const inOrder = new BaseTable(2);
    inOrder.append(P('a'), entry, null, null);
    expect(() => inOrder.append(P('a'), entry, null, null)).toThrow(RangeError);
  });
});
