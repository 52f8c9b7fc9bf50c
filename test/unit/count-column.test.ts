import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countAt, countColumn, grownCounts, setCount, wellFormedCounts } from '../../src/core/count-column.js';

/** Link and block counts as scans meet them: mostly small, some past a byte or four, the -1 of a scan that had none. */
const countsArb = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 8 }) },
    { weight: 1, arbitrary: fc.integer({ min: 250, max: 70_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 0xfe, 0xff, 0x100, 0xfffffffe, 0xffffffff, 2 ** 40, 2 ** 53 - 1) },
  ),
  { maxLength: 200 },
);

describe('a count column (core/count-column.ts)', () => {
  it.each([1, 4] as const)('gives back every count set, across growth, as an array of them would (%i byte a slot)', (bytesEach) => {
    fc.assert(
      fc.property(countsArb, fc.integer({ min: 1, max: 32 }), (counts, start) => {
        let c = countColumn(bytesEach, start);
        for (let i = 0; i < counts.length; i++) {
          if (i >= c.values.length) c = grownCounts(c, c.values.length * 2);
          setCount(c, i, counts[i] as number);
        }
        for (let i = 0; i < counts.length; i++) expect(countAt(c, i)).toBe(counts[i]);
        expect(wellFormedCounts(c, counts.length)).toBe(true);
        // only what does not fit the array is kept beside it
        const limit = bytesEach === 1 ? 0xff : 0xffffffff;
        expect(c.over.size).toBe(counts.filter((n) => !(n >= 0 && n < limit)).length);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a slot past its end, and a decoder refuses a column that does not hold what it says', () => {
    const c = countColumn(1, 2);
    expect(() => setCount(c, 2, 1)).toThrow(RangeError);
    setCount(c, 0, 300);
    expect(wellFormedCounts(c, 2)).toBe(true);
    expect(wellFormedCounts(c, 3)).toBe(false);
    expect(wellFormedCounts({ values: c.values, over: new Map([[1, 300]]) }, 2)).toBe(false);
  });
});
