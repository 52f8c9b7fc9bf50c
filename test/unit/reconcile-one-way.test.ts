// Table-driven scenarios for the one-way planner: the target (right) becomes an exact replica of the source.
import { describe, expect, it } from 'vitest';
import { MTIME_TOLERANCE_NS } from '../../src/core/compare.js';
import { expectOf } from '../../src/core/propagate.js';
import { relPath } from '../../src/core/paths.js';
import { planOneWay } from '../../src/core/reconcile-one-way.js';
import { isLinkedFile } from '../../src/core/hard-links.js';
import type { Action, RelPath, ScannedEntry } from '../../src/core/types.js';
import { dir, file, type FileOptions, link, sec, snapshot, T0, type Tree } from './fixtures/entries.js';
import { blockedViolations, orderViolations, parentViolations } from './fixtures/invariants.js';

/** [type, path]: every action targets the right side. */
type ExpectedAction = readonly [Action['type'], string];

interface Case {
  readonly name: string;
  readonly source: Tree;
  readonly target: Tree;
  readonly sourceProblems?: readonly string[];
  readonly targetProblems?: readonly string[];
  readonly actions: readonly ExpectedAction[];
  readonly agreed?: readonly string[];
  readonly skipped?: readonly string[];
}

const cases: readonly Case[] = [
  {
    name: 'identical trees: nothing to do',
    source: { a: file('v1'), d: dir(), 'd/b': file('v2'), l: link('a') },
    target: { a: file('v1'), d: dir(), 'd/b': file('v2'), l: link('a') },
    actions: [],
    agreed: ['a', 'd', 'd/b', 'l'],
  },
  {
    name: 'new file at the root',
    source: { a: file('v1') },
    target: {},
    actions: [['copy', 'a']],
  },
  {
    name: 'new file in an existing directory: the directory gets its mtime back',
    source: { d: dir(), 'd/a': file('v1') },
    target: { d: dir() },
    actions: [
      ['copy', 'd/a'],
      ['meta', 'd'],
    ],
    agreed: ['d'],
  },
  {
    name: 'new nested directories',
    source: { n: dir(), 'n/m': dir(), 'n/m/a': file('v1') },
    target: {},
    actions: [
      ['mkdir', 'n'],
      ['mkdir', 'n/m'],
      ['copy', 'n/m/a'],
      ['meta', 'n/m'],
      ['meta', 'n'],
    ],
  },
  {
    name: 'changed file content',
    source: { a: file('v2', { mtimeNs: sec(10) }) },
    target: { a: file('v1') },
    actions: [['copy', 'a']],
  },
  {
    name: 'changed content with same size and mtime (hash differs)',
    source: { a: file('v2') },
    target: { a: file('v1') },
    actions: [['copy', 'a']],
  },
  {
    name: 'same size, hashes unknown: copied again (the safe answer)',
    source: { a: file('v1', { hash: null }) },
    target: { a: file('v1', { hash: null }) },
    actions: [['copy', 'a']],
  },
  {
    name: 'deleted in the source',
    source: { d: dir() },
    target: { d: dir(), 'd/x': file('v1') },
    actions: [
      ['delete', 'd/x'],
      ['meta', 'd'],
    ],
    agreed: ['d'],
  },
  {
    name: 'extra tree in the target: removed deepest first',
    source: {},
    target: { e: dir(), 'e/a': file('v1'), 'e/f': dir(), 'e/f/b': file('v2') },
    actions: [
      ['delete', 'e/f/b'],
      ['delete', 'e/a'],
      ['delete', 'e/f'],
      ['delete', 'e'],
    ],
  },
  {
    name: 'file replaced by a directory',
    source: { p: dir(), 'p/c': file('v1') },
    target: { p: file('v1') },
    actions: [
      ['delete', 'p'],
      ['mkdir', 'p'],
      ['copy', 'p/c'],
      ['meta', 'p'],
    ],
  },
  {
    name: 'directory replaced by a file',
    source: { p: file('v1') },
    target: { p: dir(), 'p/c': file('v1') },
    actions: [
      ['delete', 'p/c'],
      ['delete', 'p'],
      ['copy', 'p'],
    ],
  },
  {
    name: 'file replaced by a symlink',
    source: { a: link('b') },
    target: { a: file('v1') },
    actions: [
      ['delete', 'a'],
      ['copy', 'a'],
    ],
  },
  {
    name: 'symlink retargeted',
    source: { l: link('t2') },
    target: { l: link('t1') },
    actions: [['copy', 'l']],
  },
  {
    name: 'symlink with the same target but another mtime: equal',
    source: { l: link('t1', { mtimeNs: sec(10) }) },
    target: { l: link('t1') },
    actions: [],
    agreed: ['l'],
  },
  {
    name: 'mode-only difference',
    source: { a: file('v1', { mode: 0o755 }) },
    target: { a: file('v1') },
    actions: [['meta', 'a']],
  },
  {
    name: 'mtime-only difference',
    source: { a: file('v1', { mtimeNs: sec(10) }) },
    target: { a: file('v1') },
    actions: [['meta', 'a']],
  },
  {
    name: 'mtime difference just below the tolerance: equal',
    source: { a: file('v1', { mtimeNs: T0 + MTIME_TOLERANCE_NS - 1n }) },
    target: { a: file('v1') },
    actions: [],
    agreed: ['a'],
  },
  {
    name: 'mtime difference just below the tolerance, target newer: equal',
    source: { a: file('v1') },
    target: { a: file('v1', { mtimeNs: T0 + MTIME_TOLERANCE_NS - 1n }) },
    actions: [],
    agreed: ['a'],
  },
  {
    name: 'mtime difference at the tolerance: fixed',
    source: { a: file('v1', { mtimeNs: T0 + MTIME_TOLERANCE_NS }) },
    target: { a: file('v1') },
    actions: [['meta', 'a']],
  },
  {
    name: 'file metadata fixed in place does not touch the parent directory',
    source: { d: dir(), 'd/a': file('v1', { mode: 0o600 }) },
    target: { d: dir(), 'd/a': file('v1') },
    actions: [['meta', 'd/a']],
    agreed: ['d'],
  },
  {
    name: 'directory mode difference',
    source: { d: dir({ mode: 0o700 }) },
    target: { d: dir() },
    actions: [['meta', 'd']],
  },
  {
    name: 'directory mtime difference (one-way mirrors directory mtimes)',
    source: { d: dir({ mtimeNs: sec(10) }) },
    target: { d: dir() },
    actions: [['meta', 'd']],
  },
  {
    name: 'only the nearest touched parent gets a final meta, deepest first',
    source: { a: dir(), 'a/x': file('v1'), b: dir(), 'b/c': dir(), 'b/c/y': file('v2', { mtimeNs: sec(10) }) },
    target: { a: dir(), b: dir(), 'b/c': dir(), 'b/c/y': file('v1') },
    actions: [
      ['copy', 'a/x'],
      ['copy', 'b/c/y'],
      ['meta', 'b/c'],
      ['meta', 'a'],
    ],
    agreed: ['a', 'b', 'b/c'],
  },
  {
    name: 'blocked source file: the target keeps it',
    source: {},
    sourceProblems: ['a'],
    target: { a: file('v1') },
    actions: [],
    skipped: ['a'],
  },
  {
    name: 'blocked source directory: nothing below it is touched, nor its mtime',
    source: { d: dir({ mtimeNs: sec(10) }) },
    sourceProblems: ['d'],
    target: { d: dir(), 'd/x': file('v1') },
    actions: [],
    skipped: ['d', 'd/x'],
  },
  {
    name: 'blocked target path: not overwritten',
    source: { a: file('v2'), b: file('v1') },
    target: { a: file('v1') },
    targetProblems: ['a'],
    actions: [['copy', 'b']],
    skipped: ['a'],
  },
  {
    name: 'blocked path beside a change: the sibling is synced and the parent finished',
    source: { d: dir(), 'd/a': file('v2', { mtimeNs: sec(10) }) },
    sourceProblems: ['d/b'],
    target: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    actions: [
      ['copy', 'd/a'],
      ['meta', 'd'],
    ],
    agreed: ['d'],
    skipped: ['d/b'],
  },
];

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe('planOneWay', () => {
  it.each(cases.map((c): [string, Case] => [c.name, c]))('%s', (_name, c) => {
    const source = snapshot('left', c.source, c.sourceProblems ?? []);
    const target = snapshot('right', c.target, c.targetProblems ?? []);
    const plan = planOneWay({ source, target });

    expect(plan.actions.map((a) => [a.type, a.path])).toEqual(c.actions.map((a) => [...a]));
    expect(plan.actions.every((a) => a.target === 'right')).toBe(true);
    expect(sorted(plan.agreed)).toEqual(sorted(c.agreed ?? []));
    expect(sorted(plan.skipped)).toEqual(sorted(c.skipped ?? []));
    expect(plan.conflicts).toEqual([]);

    for (const a of plan.actions) {
      const current: ScannedEntry | undefined = target.entries.get(a.path);
      if (a.type === 'delete') expect(a.expect).toEqual(current === undefined ? null : expectOf(current));
      if (a.type === 'copy' || a.type === 'mkdir' || a.type === 'meta') expect(a.source).toEqual(source.entries.get(a.path));
      // an expectation, when given, is what the target's scan saw
      if (a.expect !== null && current !== undefined) expect(a.expect).toEqual(expectOf(current));
      // a copy over an entry of the same kind must expect it; into a free path, expect nothing
      if (a.type === 'copy') {
        const replaced = plan.actions.some((b) => b.type === 'delete' && b.path === a.path);
        expect(a.expect).toEqual(current === undefined || replaced ? null : expectOf(current));
      }
    }
    const snaps = { left: source, right: target };
    expect(orderViolations(plan)).toEqual([]);
    expect(parentViolations(plan, snaps)).toEqual([]);
    expect(blockedViolations(plan, [...source.problems, ...target.problems])).toEqual([]);
  });

  it('a second plan over the result is empty (the final directory meta carries the source mtime)', () => {
    const source = snapshot('left', { d: dir({ mtimeNs: sec(5) }), 'd/a': file('v1') });
    const plan = planOneWay({ source, target: snapshot('right', { d: dir() }) });
    const meta = plan.actions.find((a) => a.type === 'meta' && a.path === 'd');
    expect(meta?.type === 'meta' ? meta.source.entry.mtimeNs : undefined).toBe(sec(5));
    const after = planOneWay({ source, target: snapshot('right', { d: dir({ mtimeNs: sec(5) }), 'd/a': file('v1') }) });
    expect(after.actions).toEqual([]);
  });
});

/** A file that is one of `nlink` names of inode `ino` (a hard link, as lstat shows it). */
function hardLink(label: string, ino: bigint, nlink: number, opts: FileOptions = {}): ScannedEntry {
  const f = file(label, { ...opts, ino });
  return { ...f, stat: { ...f.stat, nlink, dev: 1n } };
}

interface LinkCase {
  readonly name: string;
  readonly source: Tree;
  readonly target: Tree;
  readonly sourceProblems?: readonly string[];
  readonly actions: readonly ExpectedAction[];
  /** For each link action: [path, linkTo, whether the first path is copied by this plan (no expectation)]. */
  readonly links?: readonly (readonly [string, string, boolean])[];
  readonly agreed?: readonly string[];
}

const linkCases: readonly LinkCase[] = [
  {
    name: 'two names of one inode, nothing in the target: the first is copied, the second linked to it',
    source: { a: hardLink('v1', 100n, 2), b: hardLink('v1', 100n, 2), c: file('v2') },
    target: {},
    actions: [
      ['copy', 'a'],
      ['copy', 'c'],
      ['link', 'b'],
    ],
    links: [['b', 'a', true]],
  },
  {
    name: 'linked on both sides already: nothing to do',
    source: { a: hardLink('v1', 100n, 2), b: hardLink('v1', 100n, 2) },
    target: { a: hardLink('v1', 500n, 2), b: hardLink('v1', 500n, 2) },
    actions: [],
    agreed: ['a', 'b'],
  },
  {
    name: 'same content as separate files in the target: the second becomes a link to the first',
    source: { a: hardLink('v1', 100n, 2), b: hardLink('v1', 100n, 2) },
    target: { a: file('v1', { ino: 500n }), b: file('v1', { ino: 501n }) },
    actions: [['link', 'b']],
    links: [['b', 'a', false]],
    agreed: ['a'],
  },
  {
    name: 'the link broken in the source with the same content: the target gets a copy of its own',
    source: { a: file('v1', { ino: 100n }), b: file('v1', { ino: 101n }) },
    target: { a: hardLink('v1', 500n, 2), b: hardLink('v1', 500n, 2) },
    actions: [['copy', 'b']],
    agreed: ['a'],
  },
  {
    name: 'one name rewritten in the source: only it is copied (the rename un-links it)',
    source: { a: file('v1', { ino: 100n }), b: file('v2', { ino: 101n, mtimeNs: sec(10) }) },
    target: { a: hardLink('v1', 500n, 2), b: hardLink('v1', 500n, 2) },
    actions: [['copy', 'b']],
    agreed: ['a'],
  },
  {
    name: 'one of three names renamed in the source: the old name goes, the new one is linked',
    source: { a: hardLink('v1', 100n, 3), b: hardLink('v1', 100n, 3), d: hardLink('v1', 100n, 3) },
    target: { a: hardLink('v1', 500n, 3), b: hardLink('v1', 500n, 3), c: hardLink('v1', 500n, 3) },
    actions: [
      ['delete', 'c'],
      ['link', 'd'],
    ],
    links: [['d', 'a', false]],
    agreed: ['a', 'b'],
  },
  {
    name: 'the shared content changed: the first name is copied, the others linked to the new copy',
    source: { a: hardLink('v2', 100n, 2, { mtimeNs: sec(10) }), b: hardLink('v2', 100n, 2, { mtimeNs: sec(10) }) },
    target: { a: hardLink('v1', 500n, 2), b: hardLink('v1', 500n, 2) },
    actions: [
      ['copy', 'a'],
      ['link', 'b'],
    ],
    links: [['b', 'a', true]],
  },
  {
    name: 'a directory where the second name goes: removed, then the link made',
    source: { a: hardLink('v1', 100n, 2), b: hardLink('v1', 100n, 2) },
    target: { a: file('v1', { ino: 500n }), b: dir() },
    actions: [
      ['delete', 'b'],
      ['link', 'b'],
    ],
    links: [['b', 'a', false]],
    agreed: ['a'],
  },
  {
    name: 'a mode change on a linked group: one meta on the first name reaches the inode',
    source: { a: hardLink('v1', 100n, 2, { mode: 0o600 }), b: hardLink('v1', 100n, 2, { mode: 0o600 }) },
    target: { a: hardLink('v1', 500n, 2), b: hardLink('v1', 500n, 2) },
    actions: [['meta', 'a']],
  },
  {
    name: 'a blocked first name: the others are copied as files, never linked to it',
    source: { a: hardLink('v1', 100n, 3), b: hardLink('v1', 100n, 3), c: hardLink('v1', 100n, 3) },
    sourceProblems: ['a'],
    target: {},
    actions: [
      ['copy', 'b'],
      ['link', 'c'],
    ],
    links: [['c', 'b', true]],
  },
  {
    name: 'two source groups linked together in the target: the second group gets its own inode',
    source: { a: hardLink('v1', 100n, 2), b: hardLink('v1', 100n, 2), c: hardLink('v1', 101n, 2), d: hardLink('v1', 101n, 2) },
    target: { a: hardLink('v1', 500n, 4), b: hardLink('v1', 500n, 4), c: hardLink('v1', 500n, 4), d: hardLink('v1', 500n, 4) },
    actions: [
      ['copy', 'c'],
      ['link', 'd'],
    ],
    links: [['d', 'c', true]],
    agreed: ['a', 'b'],
  },
];

describe('planOneWay: hard links', () => {
  it.each(linkCases.map((c): [string, LinkCase] => [c.name, c]))('%s', (_name, c) => {
    const source = snapshot('left', c.source, c.sourceProblems ?? []);
    const target = snapshot('right', c.target);
    const plan = planOneWay({ source, target });
    expect(plan.actions.map((a) => [a.type, a.path])).toEqual(c.actions.map((a) => [...a]));
    expect(sorted(plan.agreed)).toEqual(sorted(c.agreed ?? []));
    const links = plan.actions.flatMap((a) => (a.type === 'link' ? [a] : []));
    expect(links.map((a) => [a.path, a.linkTo, a.linkToExpect === null])).toEqual((c.links ?? []).map((l) => [...l]));
    for (const a of links) {
      const leaderNow = target.entries.get(a.linkTo);
      if (a.linkToExpect !== null && leaderNow !== undefined) expect(a.linkToExpect).toEqual(expectOf(leaderNow));
      const current = target.entries.get(a.path);
      const replaced = plan.actions.some((b) => b.type === 'delete' && b.path === a.path);
      expect(a.expect).toEqual(current === undefined || replaced ? null : expectOf(current));
      expect(a.source).toBe(source.entries.get(a.path));
    }
    const snaps = { left: source, right: target };
    expect(orderViolations(plan)).toEqual([]);
    expect(parentViolations(plan, snaps)).toEqual([]);
  });

  // A watch hands the planner each side's linked files (sync/live-entries.ts) instead of letting it pass over every entry.
  it.each(linkCases.map((c): [string, LinkCase] => [c.name, c]))('the same plan from the linked files alone: %s', (_name, c) => {
    const source = snapshot('left', c.source, c.sourceProblems ?? []);
    const target = snapshot('right', c.target);
    const linkedOf = (m: ReadonlyMap<RelPath, ScannedEntry>): Map<RelPath, ScannedEntry> => new Map([...m].filter(([, e]) => isLinkedFile(e)));
    const linked = { source: linkedOf(source.entries), target: linkedOf(target.entries) };
    expect(planOneWay({ source, target, linked })).toEqual(planOneWay({ source, target }));
  });

  it('a watch scope with only some names of a group: those are copied as files, never linked to a leader it did not look at', () => {
    // b was written in place: a (same inode) changed too, but only b was reported
    const source = snapshot('left', { a: hardLink('v2', 100n, 2, { mtimeNs: sec(10) }), b: hardLink('v2', 100n, 2, { mtimeNs: sec(10) }) });
    const target = snapshot('right', { a: file('v1', { ino: 500n }), b: file('v1', { ino: 501n }) });
    const narrow = planOneWay({ source, target, scope: new Set([relPath('b')]) });
    expect(narrow.actions.map((a) => [a.type, a.path])).toEqual([['copy', 'b']]);
    const full = planOneWay({ source, target });
    expect(full.actions.map((a) => [a.type, a.path])).toEqual([
      ['copy', 'a'],
      ['link', 'b'],
    ]);
  });
});
