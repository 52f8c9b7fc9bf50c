// isSafeRelPath (core/paths.ts) is the check every path from outside passes (a remote scan, a plan file): its
// one-pass loop must accept exactly what the plain definition accepts, which this file states once more, the
// obvious way, and compares on random strings built from the chars that matter ('/', '.', NUL, a byte above
// 0x7F, a char above 0xFF) and ordinary ones.
// PROPERTY_SEED: the seed (default: a random one, printed); PROPERTY_RUNS: runs per property (default 200).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isSafeRelPath } from '../../src/core/paths.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`PROPERTY_SEED=${SEED} (PROPERTY_RUNS=${RUNS})`);

/** The definition: a binary string, not empty, no NUL, no empty, `.` or `..` part. */
function plainlySafe(p: string): boolean {
  if (p === '' || p.includes('\0') || /[\u0100-\uffff]/.test(p)) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

const charArb = fc.constantFrom('/', '.', '\0', 'a', 'Z', '\xff', '\u0100', '\u2603');
const textArb = fc.array(charArb, { maxLength: 12 }).map((cs) => cs.join(''));

describe('isSafeRelPath', () => {
  test('accepts exactly what the definition accepts', () => {
    fc.assert(
      fc.property(textArb, (p) => {
        expect(isSafeRelPath(p)).toBe(plainlySafe(p));
      }),
      { seed: SEED, numRuns: RUNS * 25 },
    );
  });

  test('the edges', () => {
    for (const p of ['', '/', '.', '..', 'a/', '/a', 'a//b', 'a/./b', 'a/../b', '..a', 'a..', '...', '.a/b.', 'a\0', 'a/\u0100']) expect(isSafeRelPath(p)).toBe(plainlySafe(p));
    expect(isSafeRelPath('a/b/c')).toBe(true);
    expect(isSafeRelPath('a/..')).toBe(false);
  });
});
