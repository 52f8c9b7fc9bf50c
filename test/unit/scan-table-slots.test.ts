import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, RelPath, ScannedEntry } from '../../src/core/types.js';
import { withEntry } from '../../src/core/scanned.js';
import { GrowingScanTable } from '../../src/scan/growing-scan-table.js';
import { BaseTable } from '../../src/store/base-table.js';

// A scan table keyed through the index's numbers for paths (scan-table.ts PathSlots) keeps no map of its own until
// something is set or deleted. Whatever happens, it must answer exactly as the Map of the same operations does: the
// pure core reads it through the Map interface, and the quiet test reads its slots. Real BaseTables give the numbers.

const P = (s: string): RelPath => s as RelPath;
const names = ['a', 'a/b', 'a/c', 'a.txt', 'b', 'b/x', 'c', 'c/d/e', 'n1', 'n2'];
const pathArb = fc.constantFrom(...names.map(P));

function scanned(i: number, kind: 'file' | 'dir'): ScannedEntry {
  const n = BigInt(i);
  const entry: Entry = kind === 'dir' ? { kind: 'dir', mode: 0o755, mtimeNs: 10n + n } : { kind: 'file', size: i, mtimeNs: 10n + n, mode: 0o644, hash: null };
  return { entry, stat: { ino: 100n + n, ctimeNs: 20n + n, size: i, mtimeNs: 10n + n, nlink: 1, blocks: 0 }, observedAtNs: 30n };
}

type Op =
  | { op: 'set'; path: RelPath; i: number }
  | { op: 'fill'; path: RelPath; hash: string }
  | { op: 'delete'; path: RelPath }
  | { op: 'clear' }
  | { op: 'iterate'; over: 'entries' | 'keys'; at: number; change: 'delete' | 'set-new' | 'set-same' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), path: pathArb, i: fc.nat(1000) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), path: pathArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fill' as const), path: pathArb, hash: fc.constantFrom('00112233445566ff', 'a made-up hash') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('iterate' as const),
      over: fc.constantFrom('entries' as const, 'keys' as const),
      at: fc.nat(12),
      change: fc.constantFrom('delete' as const, 'set-new' as const, 'set-same' as const),
    }),
  },
);

function* pathsOf(entries: Iterator<[RelPath, ScannedEntry]>): Generator<RelPath> {
  for (let r = entries.next(); r.done !== true; r = entries.next()) yield r.value[0];
}

/** What a reader of the table can see, as plain values. */
function view(m: ReadonlyMap<RelPath, ScannedEntry>): [RelPath, Entry][] {
  return [...m].map(([p, e]) => [p, e.entry]);
}

function expectSame(t: GrowingScanTable, model: Map<RelPath, ScannedEntry>): void {
  expect(t.size).toBe(model.size);
  expect(view(t)).toEqual(view(model));
  for (const p of names.map(P)) {
    expect(t.has(p)).toBe(model.has(p));
    expect(t.get(p)?.entry).toEqual(model.get(p)?.entry);
    expect(t.isDir(p)).toBe(model.get(p)?.entry.kind === 'dir');
  }
}

describe('a scan table keyed by the index numbers of its paths', () => {
  it('answers as a Map of the same appends and changes, iterations changed mid-way included', () => {
    fc.assert(
      fc.property(fc.uniqueArray(pathArb), fc.uniqueArray(pathArb), fc.array(opArb, { maxLength: 12 }), (inBase, walked, ops) => {
        const base = new BaseTable(inBase.length);
        for (const p of [...inBase].sort()) base.append(p, { kind: 'dir', mode: 0o755, mtimeNs: 1n }, null, null);
        const t = new GrowingScanTable({ slots: base });
        const model = new Map<RelPath, ScannedEntry>();
        walked.forEach((p, i) => {
          const s = scanned(i, i % 3 === 0 ? 'dir' : 'file');
          t.append(p, s);
          model.set(p, s);
        });
        expectSame(t, model);
        // slots in walk order, before anything changed
        for (const [i, p] of walked.entries()) expect(t.slotOf(p)).toBe(i);
        for (const o of ops) {
          if (o.op === 'set') {
            t.set(o.path, scanned(o.i, 'file'));
            model.set(o.path, scanned(o.i, 'file'));
          } else if (o.op === 'fill') {
            // as sync/cycle.ts fillHashes: a file without a hash gets the one read, into its slot where it has one
            const e = model.get(o.path);
            if (e === undefined || e.entry.kind !== 'file' || e.entry.hash !== null) {
              expect(t.fillHash(o.path, o.hash)).toBe(false);
              continue;
            }
            const filled = withEntry(e, { ...e.entry, hash: o.hash });
            // asked for first, as fillHashes does: the table keeps the last entry asked for
            expect(t.get(o.path)?.entry).toEqual(e.entry);
            const keyed = t.slotsByNumber(base) !== null;
            const inSlot = t.slotOf(o.path) >= 0;
            expect(t.fillHash(o.path, o.hash)).toBe(inSlot);
            if (!inSlot) t.set(o.path, filled);
            // the table stays keyed: nothing set
            expect(t.slotsByNumber(base) !== null).toBe(keyed);
            expect(t.get(o.path)?.entry).toEqual(filled.entry);
            model.set(o.path, filled);
          } else if (o.op === 'delete') {
            expect(t.delete(o.path)).toBe(model.delete(o.path));
          } else if (o.op === 'clear') {
            t.clear();
            model.clear();
          } else {
            // the same change at the same point of an iteration over each: the rest of it must be the same
            const seen = (m: Map<RelPath, ScannedEntry>): RelPath[] => {
              const out: RelPath[] = [];
              let k = 0;
              // live: keys() or entries() as they go, never a copy made first
              const live: Iterable<RelPath> = o.over === 'keys' ? m.keys() : { [Symbol.iterator]: () => pathsOf(m.entries()) };
              for (const path of live) {
                out.push(path);
                if (k++ !== o.at) continue;
                if (o.change === 'delete') m.delete(path);
                else if (o.change === 'set-new') m.set(P(`new${o.at}`), scanned(o.at, 'file'));
                else m.set(path, m.get(path) as ScannedEntry);
              }
              return out;
            };
            expect(seen(t)).toEqual(seen(model));
          }
          expectSame(t, model);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps its own map once asked to, and answers the same after the base that numbered it gains paths', () => {
    const base = new BaseTable(2);
    base.append(P('a'), { kind: 'dir', mode: 0o755, mtimeNs: 1n }, null, null);
    base.append(P('b'), { kind: 'dir', mode: 0o755, mtimeNs: 1n }, null, null);
    const t = new GrowingScanTable({ slots: base });
    t.append(P('b'), scanned(1, 'file'));
    t.append(P('z'), scanned(2, 'file')); // not in the base
    base.set(P('z'), { entry: { kind: 'dir', mode: 0o755, mtimeNs: 1n }, left: null, right: null }); // numbered after the table was made
    base.set(P('c'), { entry: { kind: 'dir', mode: 0o755, mtimeNs: 1n }, left: null, right: null });
    expect([t.slotOf(P('b')), t.slotOf(P('z')), t.slotOf(P('a')), t.slotOf(P('c'))]).toEqual([0, 1, -1, -1]);
    t.keepOwnPaths();
    expect([t.slotOf(P('b')), t.slotOf(P('z')), t.slotOf(P('a'))]).toEqual([0, 1, -1]);
    expect([...t.keys()]).toEqual(['b', 'z']);
  });
});
