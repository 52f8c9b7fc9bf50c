import fc from 'fast-check';
import type { BaseRecord, Entry, SideRecord } from '../../src/core/types.js';

// Index records as fast-check draws them for the tests of the base's loading and its snapshot file: 64-bit inodes,
// racy ctimes, binary names and targets (one char per byte, no NUL), owners, groups and xattr digests present or not.

const U64_MAX = 2n ** 64n - 1n;
export const sideArb: fc.Arbitrary<SideRecord | null> = fc.option(
  fc.record({ mtimeNs: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), ino: fc.bigInt(0n, U64_MAX), ctimeNs: fc.oneof(fc.constant(-1n), fc.bigInt(0n, 2n ** 62n)) }),
  { nil: null },
);
export const hexArb = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 });
const idArb = fc.nat(2 ** 32 - 2);
const xattrsArb = fc.oneof(fc.constant(''), hexArb);
/** A binary string of 1-255 char codes (bytes without NUL), as names and symlink targets are. */
export const binaryArb = (minLength: number): fc.Arbitrary<string> => fc.array(fc.integer({ min: 1, max: 255 }), { minLength, maxLength: 6 }).map((codes) => String.fromCharCode(...codes));
export const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('file' as const),
      size: fc.nat(2 ** 40),
      mode: fc.nat(0o7777),
      mtimeNs: fc.bigInt(-(2n ** 62n), 2n ** 62n),
      hash: fc.option(hexArb, { nil: null }),
      uid: idArb,
      gid: idArb,
      xattrs: xattrsArb,
    },
    { requiredKeys: ['kind', 'size', 'mode', 'mtimeNs', 'hash'] },
  ),
  fc.record(
    { kind: fc.constant('dir' as const), mode: fc.nat(0o7777), mtimeNs: fc.bigInt(0n, 2n ** 62n), uid: idArb, gid: idArb, xattrs: xattrsArb },
    { requiredKeys: ['kind', 'mode', 'mtimeNs'] },
  ),
  fc.record({ kind: fc.constant('symlink' as const), target: binaryArb(0), mtimeNs: fc.bigInt(0n, 2n ** 62n), uid: idArb, gid: idArb }, { requiredKeys: ['kind', 'target', 'mtimeNs'] }),
);
export const recordArb: fc.Arbitrary<BaseRecord> = fc.record({ entry: entryArb, left: sideArb, right: sideArb });
