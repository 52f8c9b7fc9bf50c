// A scan table hands out its entries as rows that read the table's columns (scan/scan-table.ts ScannedRow):
// what a row reads, that it keeps reading it, and that the tests' deep equality (test/helpers/scanned-rows.ts)
// compares rows by what they read rather than calling any two rows equal.
import { describe, expect, it } from 'vitest';
import { planOneWay } from '../../src/core/reconcile-one-way.js';
import { planTwoWay } from '../../src/core/reconcile-two-way.js';
import { withEntry } from '../../src/core/scanned.js';
import type { RelPath, ScannedEntry, Side, Snapshot } from '../../src/core/types.js';
import { GrowingScanTable } from '../../src/scan/growing-scan-table.js';
import { RowCopy, ScannedRow } from '../../src/scan/scan-table.js';

function fileAt(i: number): ScannedEntry {
  const n = BigInt(i);
  const stat = { ino: 500n + n, ctimeNs: 9_000n + n, size: 10 + i, mtimeNs: 7_000n + n, nlink: 1, blocks: 8 };
  return { entry: { kind: 'file', size: stat.size, mtimeNs: stat.mtimeNs, mode: 0o600 + i, hash: null, uid: 1000 + i, gid: 100, xattrs: '' }, stat, observedAtNs: 11_000n };
}

const pathOf = (i: number): RelPath => `f${i}` as RelPath;

/** A table with `count` files, grown from its first 1,024 slots when count is larger. */
function tableOf(count: number): GrowingScanTable {
  const table = new GrowingScanTable();
  for (let i = 0; i < count; i++) table.append(pathOf(i), fileAt(i));
  return table;
}

/** A row's fields as a plain object, read without the equality tester's help. */
function fieldsOf(s: ScannedEntry): ScannedEntry {
  return { entry: s.entry, stat: s.stat, observedAtNs: s.observedAtNs };
}

describe('ScannedRow', () => {
  it('reads what its slot holds, field by field, whichever slot was read last', () => {
    const table = tableOf(3);
    const rows = [0, 1, 2].map((i) => table.get(pathOf(i)));
    for (const r of rows) expect(r).toBeInstanceOf(ScannedRow);
    // interleaved reads: the table keeps only the last slot decoded
    expect(rows[2]?.stat.ino).toBe(502n);
    expect(rows[0]?.entry).toStrictEqual(fileAt(0).entry);
    expect(rows[1]?.stat).toStrictEqual(fileAt(1).stat);
    expect(rows[0]?.stat).toStrictEqual(fileAt(0).stat);
    expect(rows[2]?.observedAtNs).toBe(11_000n);
    expect(fieldsOf(rows[1] as ScannedEntry)).toStrictEqual(fileAt(1));
  });

  it('keeps reading the same entry after the path is set anew and after the columns grow', () => {
    const table = tableOf(1);
    const row = table.get(pathOf(0)) as ScannedEntry;
    table.set(pathOf(0), fileAt(99));
    expect(table.get(pathOf(0))).toBe(table.get(pathOf(0)));
    expect(fieldsOf(table.get(pathOf(0)) as ScannedEntry)).toStrictEqual(fileAt(99));
    // 1,024 slots to start: 3,000 more appends replace the columns twice
    for (let i = 1; i < 3001; i++) table.append(pathOf(i), fileAt(i));
    expect(fieldsOf(row)).toStrictEqual(fileAt(0));
    expect(fieldsOf(table.get(pathOf(3000)) as ScannedEntry)).toStrictEqual(fileAt(3000));
  });

  it('is no plain object: a spread copies none of its fields, withEntry builds a plain entry', () => {
    const row = tableOf(1).get(pathOf(0)) as ScannedEntry;
    expect({ ...row }).toStrictEqual({});
    const renamed = withEntry(row, { ...row.entry, hash: '00000000000000ff' });
    expect(Object.getPrototypeOf(renamed)).toBe(Object.prototype);
    expect(renamed).toStrictEqual({ ...fileAt(0), entry: { ...fileAt(0).entry, hash: '00000000000000ff' } });
  });

  it('is equal, for the tests, to what it reads and to nothing else', () => {
    const table = tableOf(2);
    const [a, b] = [table.get(pathOf(0)), table.get(pathOf(1))];
    expect(a).toEqual(fileAt(0));
    expect(a).toEqual(tableOf(1).get(pathOf(0)));
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(fileAt(1));
    expect(new Map(table)).not.toEqual(new Map([...tableOf(2)].reverse().map(([, s], i) => [pathOf(i), s])));
  });
});

// A first sync's plan holds a copy per file: made by the table as a view of the row (RowCopy, 40 bytes), not as an
// action object holding a row (104 bytes). What the copy reads, and that the planners make it so.
describe('RowCopy', () => {
  const snapshotOf = (side: Side, entries: ReadonlyMap<RelPath, ScannedEntry>): Snapshot => ({ side, entries, problems: [] });
  const none = new Map<RelPath, ScannedEntry>();

  it("is how a one-way plan copies a table's files to an empty target: the row's path, side and entry, nothing held", () => {
    const plan = planOneWay({ source: snapshotOf('left', tableOf(3)), target: snapshotOf('right', none) });
    expect(plan.actions.map((a) => a.path)).toEqual([pathOf(0), pathOf(1), pathOf(2)]);
    plan.actions.forEach((a, i) => {
      expect(a).toBeInstanceOf(RowCopy);
      // what it keeps of its own: the path (the slot is #private); the rest is its class's or its table's
      expect(Object.keys(a)).toEqual(['path']);
      expect({ ...a }).toStrictEqual({ path: pathOf(i) });
      expect([a.type, a.target, a.expect]).toEqual(['copy', 'right', null]);
      if (a.type !== 'copy') throw new Error('a copy');
      expect(a.source).toBeInstanceOf(ScannedRow);
      expect(fieldsOf(a.source)).toStrictEqual(fileAt(i));
      expect(a).toEqual({ type: 'copy', path: pathOf(i), target: 'right', expect: null, source: fileAt(i) });
    });
  });

  it('is how a two-way plan copies to either side, and a plain entry still gets a plain action', () => {
    const plan = planTwoWay({ base: new Map(), left: snapshotOf('left', tableOf(1)), right: snapshotOf('right', new Map([[pathOf(1), fileAt(1)]])), policy: 'keep-both', nowMs: 0 });
    const [toRight, toLeft] = plan.actions;
    expect(toRight).toBeInstanceOf(RowCopy);
    expect([toRight?.path, toRight?.target]).toEqual([pathOf(0), 'right']);
    expect(toLeft).not.toBeInstanceOf(RowCopy);
    expect(toLeft).toStrictEqual({ type: 'copy', path: pathOf(1), target: 'left', expect: null, source: fileAt(1) });
  });

  it('is equal, for the tests, to the plain action it stands for and to nothing else', () => {
    const table = tableOf(2);
    const [a, b] = [0, 1].map((i) => table.copyOfSlot(i, pathOf(i), 'right'));
    expect(a).toEqual(tableOf(1).copyOfSlot(0, pathOf(0), 'right'));
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(table.copyOfSlot(0, pathOf(0), 'left'));
    expect(a).not.toEqual({ type: 'copy', path: pathOf(0), target: 'right', expect: null, source: fileAt(1) });
  });
});
