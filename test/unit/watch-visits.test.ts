// A watch cycle must cost what changed, not what exists (issue 11). The pure stages a cycle runs (hashes
// needed, plan, safety guard, next base) are given a narrow scope and the live maps a watch keeps; these
// count the entries they read through the maps' iterators (path-index.ts VisitCount) on a tree of a few
// thousand paths, so that a pass over a whole side shows up as a count the size of the tree. No timing.
import { describe, expect, it } from 'vitest';
import { nextBase } from '../../src/core/commit.js';
import { hashesNeeded } from '../../src/core/hashes-needed.js';
import { ChildIndex, VisitCount } from '../../src/core/path-index.js';
import { ancestorsOf, relPath } from '../../src/core/paths.js';
import { planOneWay } from '../../src/core/reconcile-one-way.js';
import { planTwoWay } from '../../src/core/reconcile-two-way.js';
import { checkSafety, DEFAULT_DELETE_LIMIT } from '../../src/core/safety.js';
import type { Base, BaseRecord, RelPath, ScannedEntry, Side, Snapshot } from '../../src/core/types.js';
import { LiveEntries } from '../../src/sync/live-entries.js';
import { dir, file, NOW_MS, record, sec } from './fixtures/entries.js';

const DIRS = 40;
const FILES_PER_DIR = 50;

/** A linked file: one of two names of inode `ino`. */
function linkedFile(label: string, ino: bigint): ScannedEntry {
  const f = file(label, { ino });
  return { ...f, stat: { ...f.stat, nlink: 2, dev: 1n } };
}

/** d0..d39, each with 50 files, plus one pair of hard links (h/a, h/b): both sides identical. */
function tree(): [RelPath, ScannedEntry][] {
  const out: [RelPath, ScannedEntry][] = [];
  for (let d = 0; d < DIRS; d++) {
    out.push([relPath(`d${d}`), dir()]);
    for (let f = 0; f < FILES_PER_DIR; f++) out.push([relPath(`d${d}/f${f}`), file(`d${d}/f${f}`)]);
  }
  out.push([relPath('h'), dir()], [relPath('h/a'), linkedFile('shared', 900n)], [relPath('h/b'), linkedFile('shared', 900n)]);
  return out;
}

interface Live {
  readonly visits: VisitCount;
  readonly left: LiveEntries;
  readonly right: LiveEntries;
  readonly base: Base;
  snap(side: Side): Snapshot;
}

function live(): Live {
  const visits = new VisitCount();
  const index: ChildIndex = new ChildIndex((p) => left.has(p) || right.has(p), visits);
  const left = new LiveEntries(index, visits);
  const right = new LiveEntries(index, visits);
  const base = new Map<RelPath, BaseRecord>();
  for (const [p, e] of tree()) {
    left.set(p, e);
    right.set(p, e);
    base.set(p, record(e));
  }
  return { visits, left, right, base, snap: (side) => ({ side, entries: side === 'left' ? left : right, problems: [] }) };
}

/** The scope a watch cycle plans for one dirty path (sync/watched-pair.ts): the path and its ancestors. */
const scopeOf = (path: RelPath): Set<RelPath> => new Set([path, ...ancestorsOf(path)]);

const known = DIRS * (FILES_PER_DIR + 1) + 3;

describe('a watch cycle over one changed file reads what changed, not the tree', () => {
  const changed = relPath('d17/f33');
  const edited = file('new content', { mtimeNs: sec(99) });

  it('one-way: hashes needed, plan with the linked files kept apart, guard and next base', () => {
    const w = live();
    w.left.set(changed, edited);
    const scope = scopeOf(changed);
    w.visits.n = 0;
    const source = w.snap('left');
    const target = w.snap('right');
    expect(hashesNeeded(source, target, new Map(), scope)).toEqual([]);
    const plan = planOneWay({ source, target, scope, linked: { source: w.left.linked, target: w.right.linked } });
    expect(plan.actions.map((a) => [a.type, a.path])).toEqual([
      ['copy', changed],
      ['meta', 'd17'],
    ]);
    expect(checkSafety({ mode: 'one-way', plan, base: w.base, left: source, right: target, force: false, deleteLimit: DEFAULT_DELETE_LIMIT })).toBeNull();
    nextBase({ base: w.base, left: source, right: target, plan, outcomes: [], scope });
    expect(w.visits.n).toBe(0);
  });

  it('one-way without the linked files: the planner passes over both sides (what the count is there to catch)', () => {
    const w = live();
    w.visits.n = 0;
    planOneWay({ source: w.snap('left'), target: w.snap('right'), scope: scopeOf(changed) });
    expect(w.visits.n).toBeGreaterThanOrEqual(known);
  });

  it('two-way: plan, guard and next base', () => {
    const w = live();
    w.right.set(changed, edited);
    const scope = scopeOf(changed);
    w.visits.n = 0;
    const left = w.snap('left');
    const right = w.snap('right');
    const plan = planTwoWay({ base: w.base, left, right, policy: 'keep-both', nowMs: NOW_MS, scope });
    expect(plan.actions.map((a) => [a.type, a.target, a.path])).toEqual([['copy', 'left', changed]]);
    expect(checkSafety({ mode: 'two-way', plan, base: w.base, left, right, force: false, deleteLimit: DEFAULT_DELETE_LIMIT })).toBeNull();
    nextBase({ base: w.base, left, right, plan, outcomes: [], scope });
    expect(w.visits.n).toBe(0);
  });

  it('a delete: the guard counts files only until they allow it', () => {
    const w = live();
    w.left.delete(changed);
    const scope = scopeOf(changed);
    w.visits.n = 0;
    const source = w.snap('left');
    const target = w.snap('right');
    const plan = planOneWay({ source, target, scope, linked: { source: w.left.linked, target: w.right.linked } });
    expect(plan.actions.map((a) => [a.type, a.path])).toEqual([
      ['delete', changed],
      ['meta', 'd17'],
    ]);
    expect(checkSafety({ mode: 'one-way', plan, base: w.base, left: source, right: target, force: false, deleteLimit: DEFAULT_DELETE_LIMIT })).toBeNull();
    expect(w.visits.n).toBeLessThan(10);
    // over the limit, the whole side is counted for the message, and the verdict stands
    const strict = checkSafety({ mode: 'one-way', plan, base: w.base, left: source, right: target, force: false, deleteLimit: { kind: 'count', count: 0 } });
    expect(strict?.message).toContain(`deletes 1 of ${DIRS * FILES_PER_DIR + 2} files`);
  });
});

describe('LiveEntries', () => {
  it('keeps exactly the files with more than one name in `linked`, through set, replace, delete and clear', () => {
    const entries = new LiveEntries(new ChildIndex(() => true));
    const a = relPath('a');
    const b = relPath('b');
    entries.set(a, linkedFile('x', 1n));
    entries.set(b, file('y'));
    expect([...entries.linked.keys()]).toEqual([a]);
    entries.set(b, linkedFile('x', 1n));
    entries.set(a, file('x2')); // rewritten: a new inode of its own
    expect([...entries.linked.keys()]).toEqual([b]);
    entries.set(a, dir());
    entries.delete(b);
    expect([...entries.linked.keys()]).toEqual([]);
    entries.set(b, linkedFile('x', 1n));
    entries.clear();
    expect(entries.linked.size).toBe(0);
    expect(entries.size).toBe(0);
  });

  it('counts what its iterators hand out, when given a VisitCount', () => {
    const visits = new VisitCount();
    const entries = new LiveEntries(new ChildIndex(() => true), visits);
    for (const p of ['a', 'b', 'c']) entries.set(relPath(p), file(p));
    expect([...entries.keys()]).toHaveLength(3);
    for (const _ of entries.values()) break;
    expect([...entries]).toHaveLength(3);
    let n = 0;
    entries.forEach(() => {
      n++;
    });
    expect(n).toBe(3);
    expect(visits.n).toBe(3 + 1 + 3 + 3);
    expect(entries.get(relPath('b'))?.entry.kind).toBe('file');
    expect(visits.n).toBe(10); // a lookup is no visit
  });
});
