// Property tests of the delta transfer's pure parts (src/delta): for random files and random edits (bytes
// replaced, inserted, removed, at any offsets), the delta of the new file against the basis's signature,
// cut into chunks anywhere on both ends, applied to the basis gives back the new file exactly. A small
// alphabet makes weak-sum collisions and repeated blocks common, so the strong check and run handling are
// exercised. PROPERTY_SEED / PROPERTY_RUNS as in value-codec.property.test.ts.
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { type BlockSignature, signatureOf, SignatureBuilder } from '../../src/delta/block-signature.js';
import { applyDelta, type BasisReader } from '../../src/delta/delta-apply.js';
import { DeltaMatcher } from '../../src/delta/delta-match.js';
import { DeltaFormatError, DeltaOpDecoder } from '../../src/delta/delta-ops.js';
import { loadHasher } from '../../src/hash/xxhash.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`PROPERTY_SEED=${SEED} (PROPERTY_RUNS=${RUNS})`);
const params = { seed: SEED, numRuns: RUNS };
/** The end op's hash is carried, not checked, here (the install checks it: stream-copy.ts). */
const FAKE_HASH = '0123456789abcdef';

const bytes = (max: number): fc.Arbitrary<Buffer> =>
  fc
    .oneof(
      fc.uint8Array({ maxLength: max }),
      fc.array(fc.constantFrom(0, 1, 97), { maxLength: max }).map((a) => Uint8Array.from(a)),
    )
    .map((b) => Buffer.from(b));

type Edit = { at: number; remove: number; insert: Buffer };
const editArb: fc.Arbitrary<Edit> = fc.record({ at: fc.nat(), remove: fc.nat({ max: 80 }), insert: bytes(80) });

function applyEdits(base: Buffer, edits: readonly Edit[]): Buffer {
  let b = base;
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    b = Buffer.concat([b.subarray(0, at), e.insert, b.subarray(Math.min(b.length, at + e.remove))]);
  }
  return b;
}

/** `data` cut at the given (sorted, deduplicated) offsets. */
function cut(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % data.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) out.push(data.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

function readerOf(basis: Buffer, blockSize: number): BasisReader {
  return { size: basis.length, blockSize, read: async (off, len) => basis.subarray(off, off + len) };
}

async function* from(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

function deltaOf(next: Buffer, sig: BlockSignature, cuts: readonly number[]): Buffer {
  const m = new DeltaMatcher(sig);
  const out: Buffer[] = [];
  for (const c of cut(next, cuts)) out.push(...m.push(c));
  out.push(...m.finish(FAKE_HASH));
  return Buffer.concat(out);
}

async function rebuild(basis: Buffer, delta: Buffer, blockSize: number, cuts: readonly number[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sent = { hash: null as string | null };
  for await (const c of applyDelta(from(cut(delta, cuts)), readerOf(basis, blockSize), sent)) parts.push(Buffer.from(c));
  expect(sent.hash).toBe(FAKE_HASH);
  return Buffer.concat(parts);
}

function literalBytes(delta: Buffer): number {
  const d = new DeltaOpDecoder();
  let n = 0;
  for (const op of d.push(delta)) if (op.kind === 'literal') n += op.data.length;
  d.finish();
  return n;
}

// the strong block hash is XXH64, from the WASM hasher
beforeAll(loadHasher);

describe('delta transfer (rsync rolling checksum)', () => {
  test('applying the delta to the basis reproduces the new file exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(3000),
        fc.array(editArb, { maxLength: 5 }),
        fc.integer({ min: 1, max: 96 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (basis, edits, blockSize, sendCuts, recvCuts) => {
          const next = applyEdits(basis, edits);
          const sig = signatureOf(basis, blockSize);
          const delta = deltaOf(next, sig, sendCuts);
          expect((await rebuild(basis, delta, blockSize, recvCuts)).equals(next)).toBe(true);
        },
      ),
      params,
    );
  });

  test('the signature does not depend on how the basis was cut', () => {
    fc.assert(
      fc.property(bytes(2000), fc.integer({ min: 1, max: 64 }), fc.array(fc.nat(), { maxLength: 8 }), (basis, blockSize, cuts) => {
        const b = new SignatureBuilder(blockSize);
        for (const c of cut(basis, cuts)) b.push(c);
        expect(b.finish()).toEqual(signatureOf(basis, blockSize));
      }),
      params,
    );
  });

  test('one edit costs its own bytes and at most a block on either side in literals', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 2000, maxLength: 4000 }), editArb, fc.integer({ min: 16, max: 64 }), async (raw, edit, blockSize) => {
        const basis = Buffer.from(raw);
        const next = applyEdits(basis, [edit]);
        const delta = deltaOf(next, signatureOf(basis, blockSize), []);
        expect(literalBytes(delta)).toBeLessThanOrEqual(edit.insert.length + 2 * blockSize);
      }),
      params,
    );
  });

  test('blocks with the same weak sum are told apart by the strong hash', async () => {
    // [1,0,0,1] and [0,1,1,0] have equal rolling sums (a = 2, b = 5): only the strong hash separates them
    const token = fc.constantFrom(Buffer.from([1, 0, 0, 1]), Buffer.from([0, 1, 1, 0]));
    const file = fc.array(token, { minLength: 1, maxLength: 60 }).map((t) => Buffer.concat(t));
    await fc.assert(
      fc.asyncProperty(file, file, fc.constantFrom(4, 8, 12), async (basis, next, blockSize) => {
        const delta = deltaOf(next, signatureOf(basis, blockSize), []);
        expect((await rebuild(basis, delta, blockSize, [])).equals(next)).toBe(true);
      }),
      params,
    );
  });

  test('an unchanged file is one reference and no literal', () => {
    const basis = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 251));
    const delta = deltaOf(basis, signatureOf(basis, 1000), [4096]);
    expect(delta.length).toBe(9 + 9);
    expect(literalBytes(delta)).toBe(0);
  });

  test('random or mutated bytes fed to the applier give ops or a DeltaFormatError, never blocks outside the basis', async () => {
    const basis = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const valid = deltaOf(Buffer.concat([basis.subarray(100), Buffer.from('new')]), signatureOf(basis, 64), []);
    const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
      const b = Buffer.from(valid);
      b[at % b.length] = byte;
      return b;
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes(200), mutated), async (input) => {
        const reads: Array<[number, number]> = [];
        const reader: BasisReader = {
          size: basis.length,
          blockSize: 64,
          read: async (off, len) => {
            reads.push([off, len]);
            return basis.subarray(off, off + len);
          },
        };
        let refused = false;
        try {
          for await (const _ of applyDelta(from([input]), reader)) void _;
        } catch (e) {
          expect(e).toBeInstanceOf(DeltaFormatError);
          refused = true;
        }
        for (const [off, len] of reads) expect(off + len).toBeLessThanOrEqual(basis.length);
        // a reference past the basis's 16 blocks must be refused, not skipped
        let pastTheEnd = false;
        try {
          pastTheEnd = new DeltaOpDecoder().push(input).some((op) => op.kind === 'copy' && op.first + op.count > 16);
        } catch {
          // malformed later on: the applier refuses it too
        }
        if (pastTheEnd) expect(refused).toBe(true);
      }),
      params,
    );
  });
});
