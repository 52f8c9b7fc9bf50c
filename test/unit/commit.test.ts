// The next base comes only from what actually happened: agreed paths and the records of outcomes.
import { describe, expect, it } from 'vitest';
import { nextBase, type BaseChanges } from '../../src/core/commit.js';
import { relPath } from '../../src/core/paths.js';
import { expectOf } from '../../src/core/propagate.js';
import { planTwoWay } from '../../src/core/reconcile-two-way.js';
import { RACY_CTIME, RACY_WINDOW_NS } from '../../src/core/stat-cache.js';
import { BaseTable } from '../../src/store/base-table.js';
import type { Action, Base, BaseRecord, Outcome, OutcomeStatus, PathRecord, Plan, RelPath, ScannedEntry, Snapshot } from '../../src/core/types.js';
import { base, dir, file, NOW_MS, record, sec, sideOf, snapshot, type Tree } from './fixtures/entries.js';

const p = relPath;

function plan(actions: readonly Action[] = [], agreed: readonly string[] = []): Plan {
  return { actions, agreed: agreed.map(p), skipped: [], conflicts: [] };
}

function copyAction(path: string, source: ScannedEntry, current?: ScannedEntry): Action {
  return { type: 'copy', path: p(path), target: 'right', expect: current === undefined ? null : expectOf(current), source };
}

function deleteAction(path: string, current: ScannedEntry): Action {
  return { type: 'delete', path: p(path), target: 'right', expect: expectOf(current) };
}

function pathRecord(path: string, l: ScannedEntry, r: ScannedEntry): PathRecord {
  return { path: p(path), entry: l.entry, left: l, right: r };
}

function outcome(action: Action, status: OutcomeStatus, records?: readonly PathRecord[]): Outcome {
  return records === undefined ? { action, status } : { action, status, records };
}

/**
 * nextBase with its records in a plain Map, checked against the same run collecting them in a BaseTable, as
 * sync/cycle.ts does (columns, records built when read): both must give the same changes.
 */
function commit(b: Base, left: Snapshot, right: Snapshot, pl: Plan, outcomes: readonly Outcome[] = []): BaseChanges {
  const changes = nextBase({ base: b, left, right, plan: pl, outcomes });
  const inColumns = nextBase({ base: b, left, right, plan: pl, outcomes, records: new BaseTable(0) });
  expect(new Map(inColumns.upserts)).toEqual(changes.upserts);
  expect(inColumns.removals).toEqual(changes.removals);
  return changes;
}

const upsertPaths = (c: BaseChanges): string[] => [...c.upserts.keys()].sort();
const removals = (c: BaseChanges): string[] => [...c.removals].sort();

describe('nextBase', () => {
  it('records agreed paths with each side’s own stat', () => {
    const l = file('v1');
    const r = file('v1', { mtimeNs: sec(10), ino: 77n });
    const c = commit(new Map(), snapshot('left', { a: l }), snapshot('right', { a: r }), plan([], ['a']));
    expect(c.upserts.get(p('a'))).toEqual({ entry: l.entry, left: sideOf(l), right: sideOf(r) });
    expect(c.removals).toEqual([]);
  });

  it('does not rewrite an agreed path whose record is unchanged', () => {
    const a = file('v1');
    const c = commit(base({ a }), snapshot('left', { a }), snapshot('right', { a }), plan([], ['a']));
    expect(upsertPaths(c)).toEqual([]);
    expect(removals(c)).toEqual([]);
  });

  it('keeps a known hash when one side had not hashed an agreed file', () => {
    const l = file('v1', { hash: null });
    const r = file('v1');
    const c = commit(new Map(), snapshot('left', { a: l }), snapshot('right', { a: r }), plan([], ['a']));
    const entry = c.upserts.get(p('a'))?.entry;
    expect(entry?.kind === 'file' ? entry.hash : undefined).toBe(r.entry.hash);
  });

  it('ignores an agreed path missing from a side', () => {
    const c = commit(new Map(), snapshot('left', { a: file('v1') }), snapshot('right', {}), plan([], ['a']));
    expect(upsertPaths(c)).toEqual([]);
  });

  const v1 = file('v1');
  const v2 = file('v2', { mtimeNs: sec(10) });
  const v2copied = file('v2', { mtimeNs: sec(10), ino: 99n, ctimeNs: sec(100) });
  const copy = copyAction('a', v2, v1);
  const statuses: readonly [string, Outcome, readonly string[]][] = [
    ['applied copy with records: recorded', outcome(copy, 'applied', [pathRecord('a', v2, v2copied)]), ['a']],
    ['applied copy without records: untouched', outcome(copy, 'applied'), []],
    ['failed copy: untouched', outcome(copy, 'failed'), []],
    ['stale copy: untouched', outcome(copy, 'stale'), []],
    ['failed action that still verified a record (conflict unit): recorded', outcome(copy, 'failed', [pathRecord('a', v2, v2copied)]), ['a']],
  ];
  it.each(statuses)('%s', (_name, o, want) => {
    const b = base({ a: v1 });
    const c = commit(b, snapshot('left', { a: v2 }), snapshot('right', { a: v1 }), plan([copy]), [o]);
    expect(upsertPaths(c)).toEqual(want);
    expect(removals(c)).toEqual([]);
    if (want.length > 0) expect(c.upserts.get(p('a'))).toEqual({ entry: v2.entry, left: sideOf(v2), right: sideOf(v2copied) });
  });

  const del = deleteAction('a', v1);
  const deletes: readonly [string, OutcomeStatus, readonly string[]][] = [
    ['applied delete: removed', 'applied', ['a']],
    ['failed delete: kept', 'failed', []],
    ['stale delete: kept', 'stale', []],
  ];
  it.each(deletes)('%s', (_name, status, want) => {
    const c = commit(base({ a: v1 }), snapshot('left', {}), snapshot('right', { a: v1 }), plan([del]), [outcome(del, status)]);
    expect(removals(c)).toEqual(want);
    expect(upsertPaths(c)).toEqual([]);
  });

  it('an applied delete of a path that was never in the base removes nothing', () => {
    const c = commit(new Map(), snapshot('left', {}), snapshot('right', { a: v1 }), plan([del]), [outcome(del, 'applied')]);
    expect(removals(c)).toEqual([]);
  });

  it.each([
    ['delete first', false],
    ['copy first', true],
  ] as const)('a replacement (delete then copy at one path) records the new entry (%s)', (_name, copyFirst) => {
    const d = dir();
    const del2: Action = { type: 'delete', path: p('x'), target: 'right', expect: expectOf(d) };
    const cp = copyAction('x', v2);
    const outcomes = [outcome(del2, 'applied'), outcome(cp, 'applied', [pathRecord('x', v2, v2copied)])];
    if (copyFirst) outcomes.reverse();
    const c = commit(base({ x: d }), snapshot('left', { x: v2 }), snapshot('right', { x: d }), plan([del2, cp]), outcomes);
    expect(upsertPaths(c)).toEqual(['x']);
    expect(removals(c)).toEqual([]);
  });

  it('a replacement whose copy failed drops the record (the next run sees a creation, not a deletion)', () => {
    const d = dir();
    const del2: Action = { type: 'delete', path: p('x'), target: 'right', expect: expectOf(d) };
    const cp = copyAction('x', v2);
    const c = commit(base({ x: d }), snapshot('left', { x: v2 }), snapshot('right', { x: d }), plan([del2, cp]), [outcome(del2, 'applied'), outcome(cp, 'failed')]);
    expect(removals(c)).toEqual(['x']);
    expect(upsertPaths(c)).toEqual([]);
  });

  it('paths gone from both sides are removed', () => {
    const c = commit(base({ a: v1, b: v1 }), snapshot('left', { b: v1 }), snapshot('right', {}), plan());
    expect(removals(c)).toEqual(['a']);
  });

  it.each([
    ['the path itself', 'left', 'a'],
    ['an ancestor', 'right', 'd'],
  ] as const)('paths gone from both sides are kept when blocked at %s', (_name, side, blockedAt) => {
    const b = base({ a: v1, d: dir(), 'd/x': v1 });
    const left = snapshot('left', {}, side === 'left' ? [blockedAt] : []);
    const right = snapshot('right', {}, side === 'right' ? [blockedAt] : []);
    const c = commit(b, left, right, plan());
    const expected = ['a', 'd', 'd/x'].filter((x) => !(x === blockedAt || x.startsWith(`${blockedAt}/`)));
    expect(removals(c)).toEqual(expected);
  });

  it('paths still on one side and not acted on are left as they are', () => {
    const c = commit(base({ a: v1 }), snapshot('left', { a: v2 }), snapshot('right', {}), plan());
    expect(upsertPaths(c)).toEqual([]);
    expect(removals(c)).toEqual([]);
  });

  const observed = sec(1000);
  const racyRows: readonly [string, bigint, bigint][] = [
    ['ctime well before the lstat: kept', observed - 10n * RACY_WINDOW_NS, observed - 10n * RACY_WINDOW_NS],
    ['ctime just outside the racy window: kept', observed - RACY_WINDOW_NS - 1n, observed - RACY_WINDOW_NS - 1n],
    ['ctime at the edge of the racy window: racy', observed - RACY_WINDOW_NS, RACY_CTIME],
    ['ctime 1 ms before the lstat: racy', observed - 1_000_000n, RACY_CTIME],
    ['ctime after the lstat: racy', observed + 1n, RACY_CTIME],
  ];
  it.each(racyRows)('records the side ctime: %s', (_name, ctimeNs, want) => {
    const l = file('v1', { ctimeNs, observedAtNs: observed });
    const r = file('v1');
    const c = commit(new Map(), snapshot('left', { a: l }), snapshot('right', { a: r }), plan([], ['a']));
    expect(c.upserts.get(p('a'))?.left?.ctimeNs).toBe(want);
    expect(c.upserts.get(p('a'))?.right?.ctimeNs).toBe(r.stat.ctimeNs);
  });

  it('racy records from outcomes are recorded as racy too', () => {
    const fresh = file('v2', { mtimeNs: sec(10), ctimeNs: sec(50), observedAtNs: sec(50) + 1_000n });
    const c = commit(base({ a: v1 }), snapshot('left', { a: v2 }), snapshot('right', { a: v1 }), plan([copy]), [outcome(copy, 'applied', [pathRecord('a', v2, fresh)])]);
    expect(c.upserts.get(p('a'))?.right?.ctimeNs).toBe(RACY_CTIME);
    expect(c.upserts.get(p('a'))?.left?.ctimeNs).toBe(v2.stat.ctimeNs);
  });
});

describe('nextBase after planTwoWay', () => {
  function cycle(b: Tree, l: Tree, r: Tree, status: OutcomeStatus): { base: Map<RelPath, BaseRecord>; left: Snapshot; right: Snapshot } {
    const baseMap = base(b);
    const left = snapshot('left', l);
    const right = snapshot('right', r);
    const pl = planTwoWay({ base: baseMap, left, right, policy: 'keep-both', nowMs: NOW_MS });
    // the engine "applies" each copy by producing the source's entry on the target
    const outcomes = pl.actions.map((a): Outcome => {
      if (status !== 'applied' || a.type !== 'copy') return outcome(a, status);
      return outcome(a, 'applied', [pathRecord(a.path, a.source, a.source)]);
    });
    const changes = nextBase({ base: baseMap, left, right, plan: pl, outcomes });
    const next = new Map(baseMap);
    for (const x of changes.removals) next.delete(x);
    for (const [k, v] of changes.upserts) next.set(k, v);
    return { base: next, left, right };
  }

  it('a failed propagation leaves the difference for the next run', () => {
    const v1 = file('v1');
    const v2 = file('v2', { mtimeNs: sec(10) });
    const { base: next } = cycle({ a: v1 }, { a: v2 }, { a: v1 }, 'failed');
    expect(next.get(p('a'))).toEqual(record(v1));
    const again = planTwoWay({ base: next, left: snapshot('left', { a: v2 }), right: snapshot('right', { a: v1 }), policy: 'keep-both', nowMs: NOW_MS });
    expect(again.actions.map((a) => [a.type, a.path, a.target])).toEqual([['copy', 'a', 'right']]);
  });

  it('an applied propagation makes the next run agree', () => {
    const v1 = file('v1');
    const v2 = file('v2', { mtimeNs: sec(10) });
    const { base: next } = cycle({ a: v1 }, { a: v2 }, { a: v1 }, 'applied');
    const again = planTwoWay({ base: next, left: snapshot('left', { a: v2 }), right: snapshot('right', { a: v2 }), policy: 'keep-both', nowMs: NOW_MS });
    expect(again.actions).toEqual([]);
    expect(again.agreed).toEqual([p('a')]);
  });
});

describe('nextBase after a metadata merge that fixes both sides', () => {
  // A touch on the left and a chmod on the right: the plan sets the mode on the left and the mtime on the
  // right. Each side's record must come from the action that wrote that side, whichever ran last.
  const b = file('v1');
  const l = file('v1', { mtimeNs: sec(10), ino: 11n });
  const r = file('v1', { mode: 0o755, ino: 12n, ctimeNs: sec(30) });
  const pl = planTwoWay({ base: base({ a: b }), left: snapshot('left', { a: l }), right: snapshot('right', { a: r }), policy: 'keep-both', nowMs: NOW_MS });
  const written = {
    left: file('v1', { mode: 0o755, mtimeNs: sec(10), ino: 11n, ctimeNs: sec(200) }),
    right: file('v1', { mode: 0o755, mtimeNs: sec(10), ino: 12n, ctimeNs: sec(201) }),
  };
  const applied = pl.actions.map((a): Outcome => {
    if (a.type !== 'meta') throw new Error(`unexpected ${a.type}`);
    const rec =
      a.target === 'left' ? { path: a.path, entry: a.source.entry, left: written.left, right: a.source } : { path: a.path, entry: a.source.entry, left: a.source, right: written.right };
    return outcome(a, 'applied', [rec]);
  });

  it.each([
    ['left first', applied],
    ['right first', [...applied].reverse()],
  ])('records both written sides (%s)', (_order, outcomes) => {
    expect(pl.actions.map((a) => a.target)).toEqual(['left', 'right']);
    const c = commit(base({ a: b }), snapshot('left', { a: l }), snapshot('right', { a: r }), pl, outcomes);
    expect(c.upserts.get(p('a'))).toEqual({ entry: { ...b.entry, mode: 0o755, mtimeNs: sec(10) }, left: sideOf(written.left), right: sideOf(written.right) });
  });
});
