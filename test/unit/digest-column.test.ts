import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DigestColumn } from '../../src/core/digest-column.js';

describe('DigestColumn', () => {
  it('gives back every digest set, at every slot, as it was set (a digest, empty, nothing), and grows like an array', () => {
    const digestLike = fc.oneof(fc.constant(''), fc.constant(undefined), fc.string({ minLength: 1 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 200 }), digestLike), { maxLength: 150 }), fc.nat({ max: 40 }), (writes, capacity) => {
        const column = new DigestColumn(capacity);
        const expected = new Map<number, string | undefined>();
        for (const [i, d] of writes) {
          column.set(i, d);
          expected.set(i, d);
        }
        for (let i = 0; i <= 201; i++) expect(column.get(i)).toBe(expected.get(i));
      }),
    );
  });
});
