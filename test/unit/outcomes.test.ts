// The compact outcome list (src/core/outcomes.ts) must read back exactly the outcomes pushed, in arrival
// order, whatever they carry: the commit, the durability set, the report and the run log all read a run's
// outcomes through it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Outcomes } from '../../src/core/outcomes.js';
import { relPath } from '../../src/core/paths.js';
import type { Action, Outcome, OutcomeStatus, Problem } from '../../src/core/types.js';
import { file } from './fixtures/entries.js';

const copy = (i: number): Action => ({ type: 'copy', path: relPath(`f${i}`), target: 'right', expect: null, source: file(`c${i}`) });
const del = (i: number): Action => ({ type: 'delete', path: relPath(`d${i}`), target: 'right', expect: null });
function conflict(i: number): Action {
  const version = { kind: 'file', size: 1, mtimeNs: 1n, hash: null } as const;
  const path = relPath(`c${i}`);
  return {
    type: 'conflict',
    path,
    target: 'right',
    expect: null,
    winner: file(`w${i}`),
    loser: file(`l${i}`),
    copyName: null,
    conflict: { path, left: version, right: version, policy: 'newer', resolution: 'loser-trashed', winner: 'left', copyName: null },
  };
}
const problemOf = (i: number): Problem => ({ side: 'right', path: relPath(`f${i}`), code: 'io-error', message: `cannot write f${i}` });

const outcomeArb = fc.record({
  kind: fc.constantFrom('copy', 'delete', 'conflict'),
  status: fc.constantFrom<OutcomeStatus>('applied', 'stale', 'failed'),
  problem: fc.boolean(),
  records: fc.boolean(),
});

function outcomesOf(specs: readonly { kind: string; status: OutcomeStatus; problem: boolean; records: boolean }[]): Outcome[] {
  return specs.map((s, i) => {
    const action = s.kind === 'copy' ? copy(i) : s.kind === 'delete' ? del(i) : conflict(i);
    return {
      action,
      status: s.status,
      ...(s.records ? { records: [{ path: action.path, entry: file(`r${i}`).entry, left: file(`r${i}`), right: file(`r${i}`) }] } : {}),
      ...(s.problem ? { problem: problemOf(i) } : {}),
    };
  });
}

describe('Outcomes', () => {
  it('reads back what was pushed, in order, and answers as the array would', () => {
    fc.assert(
      fc.property(fc.array(outcomeArb, { maxLength: 40 }), (specs) => {
        const pushed = outcomesOf(specs);
        const list = Outcomes.of(pushed);
        expect(list.length).toBe(pushed.length);
        const back = [...list];
        expect(back).toHaveLength(pushed.length);
        back.forEach((o, i) => {
          const want = pushed[i] as Outcome;
          expect(o.action).toBe(want.action);
          expect(o.status).toBe(want.status);
          expect(o.records).toBe(want.records);
          expect(o.problem).toBe(want.problem);
        });
        expect(list.appliedActions()).toEqual(pushed.filter((o) => o.status === 'applied').map((o) => o.action));
        expect(list.problems()).toEqual(pushed.flatMap((o) => (o.problem === undefined ? [] : [o.problem])));
        expect(list.conflictsNotApplied()).toBe(pushed.filter((o) => o.action.type === 'conflict' && o.status !== 'applied').length);
        expect(list.anyAppliedOrProblem()).toBe(pushed.some((o) => o.status === 'applied' || o.problem !== undefined));
      }),
      { numRuns: 200 },
    );
  });

  it('grows past its first status buffer', () => {
    const statuses: OutcomeStatus[] = ['applied', 'stale', 'failed'];
    const pushed: Outcome[] = Array.from({ length: 1000 }, (_, i) => ({ action: copy(i), status: statuses[i % 3] as OutcomeStatus }));
    const list = Outcomes.of(pushed);
    expect([...list].map((o) => o.status)).toEqual(pushed.map((o) => o.status));
    expect(list.appliedActions()).toHaveLength(334);
  });

  it('keeps a plain applied outcome as no object of its own', () => {
    const list = new Outcomes();
    const a = copy(1);
    const o: Outcome = { action: a, status: 'applied' };
    list.push(o);
    const [back] = [...list];
    expect(back).toEqual(o);
    expect(back).not.toBe(o);
  });
});
