import { describe, expect, it } from 'vitest';
import type { Entry, RelPath, ScannedEntry, StatId } from '../../src/core/types.js';
import { GrowingScanTable } from '../../src/scan/growing-scan-table.js';
import { pathsOfBytes } from '../../src/scan/path-bytes.js';

/**
 * Entry i of a synthetic walk, in the shapes scan.ts builds (fs/stat.ts statIdOf; absent metadata an undefined
 * field): every kind, hashes set and not, xattr digests kept, empty and not kept, owners kept and not, and the
 * device that only hard-linked files carry. Values differ per entry so a slot read from the wrong place shows.
 */
function synthetic(i: number): [RelPath, ScannedEntry] {
  const n = BigInt(i);
  const linked = i % 7 === 3;
  const stat: StatId = {
    ino: 1_000_000n + n,
    ctimeNs: 1_700_000_000_000_000_000n + n * 3n,
    size: i % 5 === 0 ? 0 : 4096 * i + 1,
    mtimeNs: 1_600_000_000_000_000_000n + n * 7n,
    nlink: linked ? 2 : 1,
    blocks: i * 8,
    ...(linked ? { dev: 64_769n + (n % 3n) } : {}),
  };
  const uid = i % 4 === 0 ? undefined : 1000 + (i % 13);
  const gid = i % 4 === 0 ? undefined : 2000 + (i % 11);
  const xattrs = i % 3 === 0 ? undefined : i % 3 === 1 ? '' : (0xabc0000000000000n + n).toString(16);
  let entry: Entry;
  switch (i % 4) {
    case 0:
    case 1:
      entry = { kind: 'file', size: stat.size, mtimeNs: stat.mtimeNs, mode: 0o644 + (i % 2), hash: i % 2 === 0 ? null : (0x1234000000000000n + n).toString(16), uid, gid, xattrs };
      break;
    case 2:
      entry = { kind: 'dir', mode: 0o755, mtimeNs: stat.mtimeNs, uid, gid, xattrs };
      break;
    default:
      entry = { kind: 'symlink', target: `../target-${i}\u00ff`, mtimeNs: stat.mtimeNs, uid, gid };
  }
  // observedAtNs as nowNs hands it out: shared by the entries of one millisecond
  return [`d${i % 10}/e${i}` as RelPath, { entry, stat, observedAtNs: 1_800_000_000_000_000_000n + BigInt(Math.floor(i / 100)) * 1_000_000n }];
}

// keyed: false is a scan worker's table, which maps its paths only once one is looked up: every Map answer the same
describe.each([true, false])('a walk kept in a GrowingScanTable (keyed: %s)', (keyed) => {
  it('gives back every entry appended, in order, across many doublings of its columns', () => {
    const table = new GrowingScanTable({ keyed });
    const mirror = new Map<RelPath, ScannedEntry>();
    // 1024 slots to start: 5,000 entries grow the columns three times
    for (let i = 0; i < 5000; i++) {
      const [path, scanned] = synthetic(i);
      table.append(path, scanned);
      mirror.set(path, scanned);
    }
    expect(table.size).toBe(5000);
    expect([...table.keys()]).toEqual([...mirror.keys()]);
    expect(new Map(table)).toEqual(mirror);
    // and by lookup, each entry as a fresh object of the same shape
    for (const i of [0, 1, 2, 3, 1023, 1024, 1025, 4999]) {
      const [path, scanned] = synthetic(i);
      expect(table.get(path)).toEqual(scanned);
      expect(Object.keys(table.get(path)?.entry ?? {})).toEqual(Object.keys(scanned.entry));
    }
  });

  it('keeps Map semantics for what a walk and a watch do after appending: delete, set over, set new', () => {
    const table = new GrowingScanTable({ keyed });
    const mirror = new Map<RelPath, ScannedEntry>();
    for (let i = 0; i < 1500; i++) {
      const [path, scanned] = synthetic(i);
      table.append(path, scanned);
      mirror.set(path, scanned);
    }
    const [gone] = synthetic(1100);
    const [replaced] = synthetic(17);
    const [, other] = synthetic(18);
    const [added, fresh] = synthetic(90_000);
    for (const m of [table, mirror]) {
      m.delete(gone);
      m.set(replaced, other);
      m.set(added, fresh);
    }
    expect(table.has(gone)).toBe(false);
    expect(table.get(gone)).toBeUndefined();
    expect(table.get(replaced)).toEqual(other);
    expect([...table.keys()]).toEqual([...mirror.keys()]);
    expect(new Map(table)).toEqual(mirror);
    // appending after a set still lands in a slot of its own
    const [late, lateEntry] = synthetic(1501);
    table.append(late, lateEntry);
    expect(table.get(late)).toEqual(lateEntry);
    expect(table.get(replaced)).toEqual(other);
  });
});

describe('a GrowingScanTable handed over in place (scan-codec.ts encodeScan)', () => {
  it('gives its slots in order while it was only appended to, and nothing once a path was deleted or set', () => {
    const fresh = (): GrowingScanTable => {
      const t = new GrowingScanTable();
      for (let i = 0; i < 10; i++) t.append(...synthetic(i));
      return t;
    };
    const t = fresh();
    const whole = t.inSlotOrder();
    expect(whole?.count).toBe(10);
    expect(pathsOfBytes(whole?.pathBytes ?? new Uint8Array(), 10)).toEqual([...t.keys()]);
    const deleted = fresh();
    deleted.delete(synthetic(4)[0]);
    expect(deleted.inSlotOrder()).toBeNull();
    const set = fresh();
    set.set(...synthetic(3));
    expect(set.inSlotOrder()).toBeNull();
  });

  it('without a map (keyed: false) hands over the paths in the order appended, and maps them when one is looked up', () => {
    const t = new GrowingScanTable({ keyed: false });
    for (let i = 0; i < 2000; i++) t.append(...synthetic(i));
    const order = Array.from({ length: 2000 }, (_, i) => synthetic(i)[0]);
    expect(pathsOfBytes(t.inSlotOrder()?.pathBytes ?? new Uint8Array(), 2000)).toEqual(order);
    expect(t.get(synthetic(1500)[0])).toEqual(synthetic(1500)[1]);
    t.append(...synthetic(2000));
    expect(t.size).toBe(2001);
    expect([...t.keys()]).toEqual([...order, synthetic(2000)[0]]);
    expect(pathsOfBytes(t.inSlotOrder()?.pathBytes ?? new Uint8Array(), 2001)).toEqual([...order, synthetic(2000)[0]]);
  });
});

describe('a GrowingScanTable sized for the entries it expects (issue 11: peak RSS)', () => {
  it('fills the expected count without outgrowing its columns, and still grows past it', () => {
    const t = new GrowingScanTable({ keyed: false, expectedEntries: 5000 });
    const first = t.columnsNow().columns;
    expect(first.kinds.length).toBeLessThan(2 * 5000);
    for (let i = 0; i < 5000; i++) t.append(...synthetic(i));
    expect(t.columnsNow().columns).toBe(first);
    for (let i = 5000; i < first.kinds.length + 1; i++) t.append(...synthetic(i));
    expect(t.columnsNow().columns).not.toBe(first);
    expect(t.size).toBe(first.kinds.length + 1);
    for (const i of [0, 4999, 5000, first.kinds.length]) expect(t.get(synthetic(i)[0])).toEqual(synthetic(i)[1]);
  });
});
