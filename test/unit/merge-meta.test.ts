import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeMeta, metaAgrees } from '../../src/core/merge-meta.js';
import type { BaseRecord, Entry } from '../../src/core/types.js';

// Two-way planning skips reading the base for a path whose two sides hold the same metadata
// (metaAgrees): that is only sound if mergeMeta then changes nothing whatever the base says.
// A small value space so that sides agree, differ and match the base often.
const mtimeArb = fc.constantFrom(1_000_000_000n, 1_000_000_500n, 2_000_000_000n);
const modeArb = fc.constantFrom(0o644, 0o600);
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const meta = { uid: optional(fc.constantFrom(0, 1000)), gid: optional(fc.constantFrom(0, 1000)) };
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ kind: fc.constant('file' as const), size: fc.constant(3), mode: modeArb, mtimeNs: mtimeArb, hash: fc.constant('aa'), ...meta, xattrs: optional(fc.constantFrom('', 'x1')) }),
  fc.record({ kind: fc.constant('dir' as const), mode: modeArb, mtimeNs: mtimeArb, ...meta, xattrs: optional(fc.constantFrom('', 'x1')) }),
  fc.record({ kind: fc.constant('symlink' as const), target: fc.constant('t'), mtimeNs: mtimeArb, ...meta }),
);
const sideArb = fc.option(fc.record({ mtimeNs: mtimeArb, ino: fc.constant(1n), ctimeNs: fc.constant(1n) }), { nil: null });
const baseArb: fc.Arbitrary<BaseRecord | undefined> = optional(fc.record({ entry: entryArb, left: sideArb, right: sideArb }));

describe('metaAgrees', () => {
  it('holds only where mergeMeta changes neither side, whatever the base', () => {
    fc.assert(
      fc.property(entryArb, entryArb, baseArb, (l, r, b) => {
        if (metaAgrees(l, r)) expect(mergeMeta(l, r, b)).toEqual({ left: null, right: null });
      }),
      { numRuns: 2000 },
    );
  });
});
