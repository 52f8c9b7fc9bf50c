import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRel, sortRel } from '../../src/core/paths.js';
import type { RelPath } from '../../src/core/types.js';

// Planners sort paths with the default sort (faster); it must give exactly compareRel's byte order,
// for any binary-string names (bytes 0x01-0xff, as the scan makes them).
const nameArb = fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 8 }).map((codes) => String.fromCharCode(...codes) as RelPath);

describe('sortRel', () => {
  it('sorts paths into compareRel order', () => {
    fc.assert(
      fc.property(fc.array(nameArb, { maxLength: 40 }), (paths) => {
        expect(sortRel([...paths])).toEqual([...paths].sort(compareRel));
      }),
    );
  });
});
