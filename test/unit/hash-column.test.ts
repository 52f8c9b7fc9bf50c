import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashColumn } from '../../src/core/hash-column.js';

/** What a column gives back must be what was put in, whatever it is: the plain arrays it replaces did no less. */
const hashLike = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => n.toString(16).padStart(16, '0')), // XXH64 as hexOf prints it
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxyz'), minLength: 14, maxLength: 18 }),
  fc.string(),
  fc.constant(null),
  fc.constant(undefined),
);

describe('HashColumn', () => {
  it('gives back every value set, at every slot, as it was set (hashes, other texts, null, unset), and grows like an array', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 300 }), hashLike), { maxLength: 200 }), fc.nat({ max: 40 }), (writes, capacity) => {
        const column = new HashColumn(capacity);
        const expected = new Map<number, string | null | undefined>();
        for (const [i, h] of writes) {
          column.set(i, h);
          expected.set(i, h);
        }
        for (let i = 0; i <= 301; i++) expect(column.get(i)).toBe(expected.get(i));
      }),
    );
  });

  it('keeps 16 lowercase hex digits as halves and any other text as it is', () => {
    const column = new HashColumn(4);
    column.set(0, '0000000000000000');
    column.set(1, 'ffffffffffffffff');
    column.set(2, 'ABCDEF0123456789'); // uppercase is no hexOf output: kept as text, not lowercased
    column.set(3, '00000000000000001');
    expect([0, 1, 2, 3].map((i) => column.get(i))).toEqual(['0000000000000000', 'ffffffffffffffff', 'ABCDEF0123456789', '00000000000000001']);
    column.set(2, 'abcdef0123456789'); // a text slot set to a hash forgets the text
    expect(column.get(2)).toBe('abcdef0123456789');
    column.set(2, 'x');
    expect(column.get(2)).toBe('x');
    column.set(2, null);
    expect(column.get(2)).toBeNull();
    expect(column.get(99)).toBeUndefined();
  });

  it('compares slots across columns and with a string only where both hold the same hash', () => {
    fc.assert(
      fc.property(hashLike, hashLike, (a, b) => {
        const left = new HashColumn(1);
        const right = new HashColumn();
        left.set(0, a);
        right.set(5, b);
        const same = typeof a === 'string' && a === b;
        expect(left.sameHash(0, right, 5)).toBe(same);
        expect(right.sameHash(5, left, 0)).toBe(same);
        if (typeof b === 'string') expect(left.holds(0, b)).toBe(same);
      }),
    );
  });

  it('tells apart hashes that share either half', () => {
    const left = new HashColumn();
    const right = new HashColumn();
    left.set(0, '0123456789abcdef');
    right.set(0, '0123456700000000');
    right.set(1, '0000000089abcdef');
    right.set(2, '0123456789abcdef');
    expect([0, 1, 2].map((j) => left.sameHash(0, right, j))).toEqual([false, false, true]);
    expect(['0123456700000000', '0000000089abcdef', '0123456789abcdef'].map((h) => left.holds(0, h))).toEqual([false, false, true]);
  });

  it('reads a text from bytes as set() reads the same text, an empty one as unset', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hashLike,
          fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        (text) => {
          const t = typeof text === 'string' ? Array.from(text, (ch) => ((ch.codePointAt(0) as number) > 0xff ? '?' : ch)).join('') : ''; // latin1 only
          const bytes = Buffer.concat([Buffer.from('pre\0', 'latin1'), Buffer.from(t, 'latin1'), Buffer.from('\0post', 'latin1')]);
          const fromBytes = new HashColumn();
          fromBytes.set(0, 'something else');
          fromBytes.setFromBytes(0, bytes, 4, 4 + t.length);
          expect(fromBytes.get(0)).toBe(t === '' ? undefined : t);
        },
      ),
    );
  });

  it('adopts the arrays another column hands out (a snapshot read back) and gives back every value that column held', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 100 }), hashLike), { maxLength: 80 }), (writes) => {
        const column = new HashColumn();
        for (const [i, h] of writes) column.set(i, h);
        const { state, hi, lo } = column.arrays();
        const texts = new Map<number, string>();
        for (let i = 0; i < state.length; i++) {
          const t = column.textAt(i);
          if (t !== undefined) texts.set(i, t);
        }
        const adopted = HashColumn.adopt(state.slice(), hi.slice(), lo.slice(), texts);
        expect(adopted).not.toBeNull();
        for (let i = 0; i <= 101; i++) expect(adopted?.get(i)).toBe(column.get(i));
      }),
    );
  });

  it('adopts nothing that is not a column: arrays of other lengths, an unknown state, a text slot without its text or a text without its slot', () => {
    const state = Uint8Array.of(0, 1, 2, 3);
    const halves = (): Uint32Array => new Uint32Array(4);
    const text = new Map([[3, 'a text']]);
    expect(HashColumn.adopt(state, halves(), halves(), text)?.get(3)).toBe('a text');
    expect(HashColumn.adopt(state, new Uint32Array(3), halves(), text)).toBeNull();
    expect(HashColumn.adopt(state, halves(), new Uint32Array(5), text)).toBeNull();
    expect(HashColumn.adopt(Uint8Array.of(0, 1, 2, 4), halves(), halves(), new Map())).toBeNull();
    expect(HashColumn.adopt(state, halves(), halves(), new Map())).toBeNull();
    expect(HashColumn.adopt(state, halves(), halves(), new Map([...text, [1, 'not a text slot']]))).toBeNull();
  });
});
