import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendObserved, emptyObservedRuns, observedAtSlot, runOfSlot, wellFormedRuns } from '../../src/core/observed-runs.js';

/** Times as a walk hands them out: runs of one value (a directory's entries), sometimes one that came before. */
const timesArb = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 5 })), { maxLength: 60 })
  .map((runs) => runs.flatMap(([length, t]) => Array<bigint>(length).fill(1_800_000_000_000_000_000n + BigInt(t) * 1_000_000n)));

describe('observed times kept as runs of slots (core/observed-runs.ts)', () => {
  it('answers every slot as a column of one time per slot would, looked up in order, backwards and at random', () => {
    fc.assert(
      fc.property(timesArb, fc.array(fc.nat(), { maxLength: 50 }), (times, picks) => {
        const o = emptyObservedRuns();
        for (let i = 0; i < times.length; i++) appendObserved(o, i, times[i] as bigint);
        expect(wellFormedRuns(o, times.length)).toBe(true);
        // one run per change of value, no more
        const changes = times.filter((t, i) => i === 0 || t !== times[i - 1]).length;
        expect(o.runs).toBe(changes);
        for (let i = 0; i < times.length; i++) expect(observedAtSlot(o, i)).toBe(times[i]);
        for (let i = times.length - 1; i >= 0; i--) expect(observedAtSlot(o, i)).toBe(times[i]);
        for (const p of picks) if (times.length > 0) expect(observedAtSlot(o, p % times.length)).toBe(times[p % times.length]);
        for (let i = 0; i < times.length; i++) expect(o.values[runOfSlot(o, i)]).toBe(times[i]);
      }),
      { numRuns: 300 },
    );
  });

  it('takes slots in order only, and a decoder refuses runs that do not cover exactly the slots it was handed', () => {
    const o = emptyObservedRuns();
    appendObserved(o, 0, 5n);
    appendObserved(o, 1, 5n);
    appendObserved(o, 2, 7n);
    expect(() => appendObserved(o, 4, 7n)).toThrow(RangeError);
    expect(wellFormedRuns(o, 3)).toBe(true);
    expect(wellFormedRuns(o, 4)).toBe(false);
    expect(wellFormedRuns({ ...o, starts: Int32Array.of(1, 2) }, 3)).toBe(false);
    expect(wellFormedRuns({ ...o, starts: Int32Array.of(0, 0) }, 3)).toBe(false);
    expect(wellFormedRuns({ ...o, runs: 0 }, 3)).toBe(false);
    expect(wellFormedRuns(emptyObservedRuns(), 0)).toBe(true);
  });
});
