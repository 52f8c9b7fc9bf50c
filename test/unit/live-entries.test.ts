// A watch keeps each side's full scan as the scan made it (sync/live-entries.ts): a walk's columns, not a Map
// of entry objects (issue 11, memory). These checks hold LiveEntries to the Map it replaced: what the cycles
// read, what the directory index learns, and which files it keeps apart as hard-linked.
import { describe, expect, it } from 'vitest';
import { ChildIndex, VisitCount } from '../../src/core/path-index.js';
import type { RelPath, ScannedEntry } from '../../src/core/types.js';
import { GrowingScanTable } from '../../src/scan/growing-scan-table.js';
import { LiveEntries } from '../../src/sync/live-entries.js';

function file(ino: number, nlink = 1): ScannedEntry {
  const mtimeNs = 1_700_000_000_000_000_000n + BigInt(ino);
  return {
    entry: { kind: 'file', size: ino, mtimeNs, mode: 0o644, hash: null, uid: undefined, gid: undefined, xattrs: undefined },
    stat: { ino: BigInt(ino), ctimeNs: mtimeNs, size: ino, mtimeNs, nlink, blocks: 8 },
    observedAtNs: mtimeNs + 5_000_000_000n,
  };
}

function dir(ino: number): ScannedEntry {
  const mtimeNs = 1_700_000_000_000_000_000n + BigInt(ino);
  return {
    entry: { kind: 'dir', mode: 0o755, mtimeNs, uid: undefined, gid: undefined, xattrs: undefined },
    stat: { ino: BigInt(ino), ctimeNs: mtimeNs, size: 4096, mtimeNs, nlink: 2, blocks: 8 },
    observedAtNs: mtimeNs + 5_000_000_000n,
  };
}

const p = (s: string): RelPath => s as RelPath;

/** A walk of `a/`, `a/one`, `a/two` (hard-linked), `b/`, `b/deep/`, `b/deep/three`, in a walk's table. */
function walked(): { table: GrowingScanTable; mirror: Map<RelPath, ScannedEntry> } {
  const table = new GrowingScanTable();
  const mirror = new Map<RelPath, ScannedEntry>();
  const rows: [string, ScannedEntry][] = [
    ['a', dir(1)],
    ['a/one', file(2)],
    ['a/two', file(3, 2)],
    ['b', dir(4)],
    ['b/deep', dir(5)],
    ['b/deep/three', file(6)],
  ];
  for (const [path, s] of rows) {
    table.append(p(path), s);
    mirror.set(p(path), s);
  }
  return { table, mirror };
}

describe('LiveEntries', () => {
  it('takes a scan table over as it is: same entries, the index learns every path, linked files picked out', () => {
    const { table, mirror } = walked();
    const index = new ChildIndex(() => true);
    const live = new LiveEntries(index);
    live.adopt(table);
    expect(live.size).toBe(6);
    expect(new Map(live)).toEqual(mirror);
    expect(live.get(p('b/deep/three'))).toEqual(mirror.get(p('b/deep/three')));
    expect(index.below(p('b'))).toEqual([p('b/deep'), p('b/deep/three')]);
    expect([...live.linked.keys()]).toEqual([p('a/two')]);
    // taken over, not copied: a change through the live entries is the table's
    live.delete(p('a/one'));
    expect(table.has(p('a/one'))).toBe(false);
  });

  it('puts later changes on top of the table, keeping the index and the linked files up to date', () => {
    const { table } = walked();
    const index: ChildIndex = new ChildIndex((path) => live.has(path));
    const live: LiveEntries = new LiveEntries(index);
    live.adopt(table);
    live.set(p('c/new'), file(7, 3));
    expect(live.get(p('c/new'))).toEqual(file(7, 3));
    expect(index.below(null)).toContain(p('c/new'));
    expect([...live.linked.keys()].sort()).toEqual([p('a/two'), p('c/new')]);
    // a linked file rewritten with one link, and a linked file deleted, leave the linked set
    live.set(p('a/two'), file(3));
    live.delete(p('c/new'));
    expect(live.linked.size).toBe(0);
    expect(live.has(p('c/new'))).toBe(false);
    expect(live.size).toBe(6);
    // a full scan later replaces everything
    live.clear();
    expect(live.size).toBe(0);
    live.adopt(walked().table);
    expect(live.size).toBe(6);
    expect([...live.linked.keys()]).toEqual([p('a/two')]);
  });

  it('counts every entry its iterators hand out when asked to (the visits a watch cycle reports)', () => {
    const visits = new VisitCount();
    const live = new LiveEntries(new ChildIndex(() => true), visits);
    live.adopt(walked().table);
    expect(visits.n).toBe(0); // taking a scan over is not a cycle's visit
    expect([...live.keys()]).toHaveLength(6);
    expect([...live.values()]).toHaveLength(6);
    let seen = 0;
    live.forEach(() => {
      seen++;
    });
    expect(seen).toBe(6);
    expect(visits.n).toBe(18);
    expect(live.get(p('a'))).toEqual(dir(1));
    expect(visits.n).toBe(18);
  });

  it('names its directories, from the columns or from entries set later, as a Map of the same entries would', () => {
    const { table, mirror } = walked();
    const live = new LiveEntries(new ChildIndex(() => true));
    live.adopt(table);
    live.set(p('c'), dir(8));
    live.set(p('b/deep'), file(5)); // a directory replaced by a file since the scan
    live.delete(p('a'));
    const plain = new LiveEntries(new ChildIndex(() => true));
    plain.adopt(new Map(mirror));
    plain.set(p('c'), dir(8));
    plain.set(p('b/deep'), file(5));
    plain.delete(p('a'));
    expect([...live.dirPaths()].sort()).toEqual([p('b'), p('c')]);
    expect([...plain.dirPaths()].sort()).toEqual([p('b'), p('c')]);
  });
});
