// The guards that refuse plans that look like accidents: emptied roots and mass deletions.
import { describe, expect, it } from 'vitest';
import { planOneWay } from '../../src/core/reconcile-one-way.js';
import { planTwoWay } from '../../src/core/reconcile-two-way.js';
import { checkSafety, DEFAULT_DELETE_LIMIT, type DeleteLimit, type SafetyHalt, type SafetyInput } from '../../src/core/safety.js';
import { relPath } from '../../src/core/paths.js';
import type { Action, Base, Plan, Problem } from '../../src/core/types.js';
import { base, dir, file, link, NOW_MS, problem, snapshot, type Tree } from './fixtures/entries.js';

/** n files f0..f(n-1) with distinct contents. */
function files(n: number, prefix = 'f'): Record<string, ReturnType<typeof file>> {
  const out: Record<string, ReturnType<typeof file>> = {};
  for (let i = 0; i < n; i++) out[`${prefix}${i}`] = file(`content ${prefix}${i}`);
  return out;
}

function oneWay(source: Tree, target: Tree, opts: { force?: boolean; limit?: DeleteLimit; sourceProblems?: string[] } = {}): SafetyInput {
  const left = snapshot('left', source, opts.sourceProblems ?? []);
  const right = snapshot('right', target);
  return {
    mode: 'one-way',
    plan: planOneWay({ source: left, target: right }),
    base: new Map(),
    left,
    right,
    force: opts.force ?? false,
    deleteLimit: opts.limit ?? DEFAULT_DELETE_LIMIT,
  };
}

function twoWay(b: Tree, l: Tree, r: Tree, opts: { force?: boolean; limit?: DeleteLimit; rightProblems?: readonly (string | Problem)[] } = {}): SafetyInput {
  const left = snapshot('left', l);
  const right = snapshot('right', r, opts.rightProblems ?? []);
  const baseMap: Base = base(b);
  return {
    mode: 'two-way',
    plan: planTwoWay({ base: baseMap, left, right, policy: 'keep-both', nowMs: NOW_MS }),
    base: baseMap,
    left,
    right,
    force: opts.force ?? false,
    deleteLimit: opts.limit ?? DEFAULT_DELETE_LIMIT,
  };
}

const reason = (h: SafetyHalt | null): string | null => h?.reason ?? null;

/** Keep the first `n` entries of a tree. */
function first(tree: Tree, n: number): Tree {
  return Object.fromEntries(Object.entries(tree).slice(0, n));
}

describe('checkSafety: emptied roots', () => {
  const full: Tree = { ...files(3), d: dir() };
  const rows: readonly [string, SafetyInput, string | null][] = [
    ['one-way: empty source over a full target halts', oneWay({}, full), 'empty-root'],
    ['one-way: empty source over an empty target is fine', oneWay({}, {}), null],
    ['one-way: a source that is empty because it could not be read is not "empty"', oneWay({}, full, { sourceProblems: ['x'], limit: { kind: 'count', count: 100 } }), null],
    ['one-way: a source with one entry is not empty', oneWay(first(full, 1), full, { limit: { kind: 'count', count: 10 } }), null],
    ['one-way: force disables the guard', oneWay({}, full, { force: true }), null],
    ['two-way: emptied left root with a non-empty base halts', twoWay(full, {}, full), 'empty-root'],
    ['two-way: emptied right root with a non-empty base halts', twoWay(full, full, {}), 'empty-root'],
    ['two-way: both roots empty with a non-empty base halts', twoWay(full, {}, {}), 'empty-root'],
    ['two-way: an empty root on a first sync (empty base) is fine', twoWay({}, {}, full), null],
    ['two-way: force disables the guard', twoWay(full, {}, full, { force: true }), null],
  ];
  it.each(rows)('%s', (_name, input, want) => {
    expect(reason(checkSafety(input))).toBe(want);
  });

  it('says which root is empty', () => {
    expect(checkSafety(twoWay(full, full, {}))?.message).toMatch(/second root is empty/);
    expect(checkSafety(twoWay(full, {}, full))?.message).toMatch(/first root is empty/);
  });
});

/** f0..f3 at the top and a directory d holding n files. */
function unlisted(n: number): Tree {
  return { ...files(4), d: dir(), ...Object.fromEntries(Object.entries(files(n, 'x')).map(([k, v]) => [`d/${k}`, v])) };
}

/** The tree without f1..f3: the left side deleted them, so the plan deletes them on the right. */
function withoutThree(tree: Tree): Tree {
  return Object.fromEntries(Object.entries(tree).filter(([k]) => !['f1', 'f2', 'f3'].includes(k)));
}

/** The tree as a scan that could not list d sees it: d itself, nothing below. */
function onlyTheDir(tree: Tree): Tree {
  return Object.fromEntries(Object.entries(tree).filter(([k]) => !k.startsWith('d/')));
}

describe('checkSafety: mass deletes', () => {
  const four = files(4);
  const six = files(6);
  const ten = files(10);
  const twenty = files(20);
  const rows: readonly [string, SafetyInput, string | null][] = [
    ['one-way: deleting 2 of 4 files (50%) is allowed', oneWay(first(four, 2), four), null],
    ['one-way: deleting 3 of 4 files (75%) halts', oneWay(first(four, 1), four), 'mass-delete'],
    ['one-way: directories are neither counted nor deleted-counted', oneWay({ ...first(four, 2), e: dir() }, { ...four, d: dir(), e: dir() }), null],
    ['one-way: --max-delete 2 allows 2 deletes', oneWay(first(ten, 8), ten, { limit: { kind: 'count', count: 2 } }), null],
    ['one-way: --max-delete 2 halts at 3 deletes', oneWay(first(ten, 7), ten, { limit: { kind: 'count', count: 2 } }), 'mass-delete'],
    ['one-way: --max-delete 0 halts at the first delete', oneWay(first(ten, 9), ten, { limit: { kind: 'count', count: 0 } }), 'mass-delete'],
    ['one-way: --max-delete 10% allows 2 of 20', oneWay(first(twenty, 18), twenty, { limit: { kind: 'percent', percent: 10 } }), null],
    ['one-way: --max-delete 10% halts at 3 of 20', oneWay(first(twenty, 17), twenty, { limit: { kind: 'percent', percent: 10 } }), 'mass-delete'],
    ['one-way: --max-delete 100% allows deleting everything but one', oneWay(first(four, 1), four, { limit: { kind: 'percent', percent: 100 } }), null],
    ['one-way: replacements (delete + copy at the same path) are not deletions', oneWay(Object.fromEntries(Object.keys(four).map((k) => [k, link('elsewhere')])), four), null],
    ['one-way: force allows a mass delete', oneWay(first(four, 1), four, { force: true }), null],
    ['two-way: deleting 2 of 4 on the right is allowed', twoWay(four, first(four, 2), four), null],
    ['two-way: deleting 3 of 4 on the right halts', twoWay(four, first(four, 1), four), 'mass-delete'],
    ['two-way: deleting 3 of 4 on the left halts', twoWay(four, four, first(four, 1)), 'mass-delete'],
    ['two-way: --max-delete 5 allows 3 of 4', twoWay(four, four, first(four, 1), { limit: { kind: 'count', count: 5 } }), null],
    ['two-way: force allows a mass delete', twoWay(four, four, first(four, 1), { force: true }), null],
    // the right side holds 4 files it read and 3 it could not (lstat failed): deleting 3 there is 3 of 7, not 3 of 4
    ['two-way: files the side could not read count among its files', twoWay(four, first(four, 1), four, { rightProblems: ['u1', 'u2', 'u3'] }), null],
    [
      'two-way: ... and one unreadable path counts once, however many problems it has',
      twoWay(four, first(four, 1), four, { rightProblems: ['u1', 'u1', problem('right', 'u1', 'io-error')] }),
      'mass-delete',
    ],
    [
      'two-way: a path that vanished or a special file is not a file of the side',
      twoWay(four, first(four, 1), four, { rightProblems: [problem('right', 'v1', 'vanished'), problem('right', 'p1', 'special-file'), problem('right', 'v2', 'vanished')] }),
      'mass-delete',
    ],
    // 4 of 6 deleted halts; counted again, the two problems at paths the scan has would make it 4 of 8
    [
      'two-way: a problem at a path the scan has is not counted twice',
      twoWay(six, first(six, 2), six, { rightProblems: [problem('right', 'f0', 'io-error'), problem('right', 'f1', 'io-error')] }),
      'mass-delete',
    ],
    // a directory the right side could not list (its lstat worked): the 6 files the base holds in it are files of the side
    [
      'two-way: the files the base holds below a directory that could not be listed count',
      twoWay(unlisted(6), withoutThree(unlisted(6)), onlyTheDir(unlisted(6)), { rightProblems: ['d'] }),
      null,
    ],
    ['two-way: ... and only those: 1 file below it, 3 of 5 halts', twoWay(unlisted(1), withoutThree(unlisted(1)), onlyTheDir(unlisted(1)), { rightProblems: ['d'] }), 'mass-delete'],
  ];
  it.each(rows)('%s', (_name, input, want) => {
    expect(reason(checkSafety(input))).toBe(want);
  });

  it('reports the counts and the side', () => {
    expect(checkSafety(twoWay(unlisted(1), withoutThree(unlisted(1)), onlyTheDir(unlisted(1)), { rightProblems: ['d'] }))?.message).toMatch(/deletes 3 of 5 files in the destination/);
    expect(checkSafety(oneWay(first(four, 1), four))?.message).toMatch(/deletes 3 of 4 files in the destination \(75%/);
    expect(checkSafety(twoWay(four, first(four, 1), four, { rightProblems: ['u1'] }))?.message).toMatch(/deletes 3 of 5 files in the destination \(60%/);
    expect(checkSafety(twoWay(four, four, first(four, 1)))?.message).toMatch(/deletes 3 of 4 files in the first root/);
  });

  it('one-way mode does not check deletes aimed at the source side', () => {
    const left = snapshot('left', four);
    const right = snapshot('right', four);
    const plan: Plan = {
      actions: Object.entries(four).map(([p, s]): Action => ({ type: 'delete', path: relPath(p), target: 'left', expect: { kind: 'file', ...s.stat } })),
      agreed: [],
      skipped: [],
      conflicts: [],
    };
    const input = (mode: 'one-way' | 'two-way'): SafetyInput => ({ mode, plan, base: base(four), left, right, force: false, deleteLimit: DEFAULT_DELETE_LIMIT });
    expect(reason(checkSafety(input('one-way')))).toBeNull();
    expect(reason(checkSafety(input('two-way')))).toBe('mass-delete');
  });
});
