// The delta's fast paths, each against its plain definition: the four-bytes-a-step weak sum and the hand-
// rolled window against the sums' formula, the typed-array weak index against a scan of all blocks, a long
// unchanged file sent as references while it is read (not only at its end), the basis read ahead in order,
// and the signature of a real file read with two alternating buffers against the signature of its bytes.
import { randomBytes } from 'node:crypto';
import { lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signatureOf } from '../../src/delta/block-signature.js';
import { applyDelta, type BasisReader } from '../../src/delta/delta-apply.js';
import { DeltaMatcher, RUN_FLUSH_BYTES, WeakIndex } from '../../src/delta/delta-match.js';
import { DeltaOpDecoder } from '../../src/delta/delta-ops.js';
import { combine, rollWeak, weakSum } from '../../src/delta/rolling-checksum.js';
import { signatureOfFile } from '../../src/engine/delta-basis.js';
import { statIdOf } from '../../src/fs/stat.js';
import { HASH_CHUNK, loadHasher } from '../../src/hash/xxhash.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

beforeAll(loadHasher);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeTempDir(d);
});

/** a = Σ x_k, b = Σ (n - k) · x_k, each mod 2^16: the definition, one byte at a time. */
function weakByDefinition(data: Uint8Array, start: number, length: number): number {
  let a = 0;
  let b = 0;
  for (let k = 0; k < length; k++) {
    const x = data[start + k] as number;
    a += x;
    b += (length - k) * x;
  }
  return combine(a % 65536, b % 65536);
}

describe('weak sum', () => {
  it('taken four bytes a step is the definition, for any length and start', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.nat(), (data, s, l) => {
        const start = s % data.length;
        const length = l % (data.length - start + 1);
        expect(weakSum(data, start, length)).toBe(weakByDefinition(data, start, length));
      }),
    );
  });

  it('keeps its low bits over a 128 KiB block of 0xff, where b passes 2^31', () => {
    const data = Buffer.alloc(128 * 1024, 0xff);
    expect(weakSum(data, 0, data.length)).toBe(weakByDefinition(data, 0, data.length));
  });

  it('sums long blocks word by word as the definition does, at every alignment of start and end', () => {
    // the word loop (blocks of 64 bytes and more) with its unaligned head and tail; the buffer's own offset varies too
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 5000 }), fc.nat(), fc.nat(), fc.nat({ max: 7 }), (bytes, s, l, shift) => {
        const backing = new Uint8Array(bytes.length + shift);
        backing.set(bytes, shift);
        const data = backing.subarray(shift);
        const start = s % (data.length - 63);
        const length = 64 + (l % (data.length - start - 63));
        expect(weakSum(data, start, length)).toBe(weakByDefinition(data, start, length));
      }),
    );
  });

  it('empties its 16-bit lanes in time: 0xff blocks at every alignment, up to 128 KiB', () => {
    const data = Buffer.alloc(128 * 1024 + 8, 0xff);
    for (const start of [0, 1, 2, 3]) {
      for (const length of [64, 1023, 1024 + 3, 4 * 256 + 1, 4 * 257, 128 * 1024]) {
        expect(weakSum(data, start, length)).toBe(weakByDefinition(data, start, length));
      }
    }
  });

  it('rolled one byte on is the sum of the window one byte on', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (data, len) => {
        const n = Math.min(len, data.length - 1);
        let w = weakSum(data, 0, n);
        for (let at = 0; at + n < data.length; at++) {
          w = rollWeak(w, data[at] as number, data[at + n] as number, n);
          expect(w).toBe(weakSum(data, at + 1, n));
        }
      }),
    );
  });
});

describe('weak index', () => {
  it('lists, in order, exactly the blocks of a weak sum', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(1, 2, 3, 0xffffffff, 0x10001), { maxLength: 200 }), (sums) => {
        const weak = Buffer.alloc(sums.length * 4);
        sums.forEach((w, j) => {
          weak.writeUInt32BE(w, j * 4);
        });
        const index = new WeakIndex(weak, sums.length);
        for (const w of new Set([...sums, 7])) {
          const found: number[] = [];
          for (let j = index.first(w); j >= 0; j = index.next(j)) if (index.weak(j) === w) found.push(j);
          expect(found).toEqual(sums.flatMap((x, j) => (x === w ? [j] : [])));
        }
      }),
    );
  });
});

describe('matcher', () => {
  it('sends a long unchanged stretch as references while the file is read, each covering at most RUN_FLUSH_BYTES', () => {
    const blockSize = 64 * 1024;
    const data = randomBytes(3 * RUN_FLUSH_BYTES + 5 * blockSize);
    const m = new DeltaMatcher(signatureOf(data, blockSize));
    const chunk = 1024 * 1024;
    const early: Buffer[] = [];
    for (let off = 0; off < data.length; off += chunk) early.push(...m.push(data.subarray(off, off + chunk)));
    const decoder = new DeltaOpDecoder();
    const ops = decoder.push(Buffer.concat(early));
    expect(ops.map((op) => (op.kind === 'copy' ? op.count * blockSize : op.kind))).toEqual([RUN_FLUSH_BYTES, RUN_FLUSH_BYTES, RUN_FLUSH_BYTES]);
    const rest = decoder.push(Buffer.concat(m.finish('0123456789abcdef')));
    expect(rest.map((op) => (op.kind === 'copy' ? [op.first, op.count] : op.kind))).toEqual([[(3 * RUN_FLUSH_BYTES) / blockSize, 5], 'end']);
  });
});

describe('basis read-ahead', () => {
  it('asks for the next piece before the last is taken, in order, and rebuilds the same bytes', async () => {
    const basis = randomBytes(3 * 1024 * 1024 + 17);
    const blockSize = 64 * 1024;
    const asked: number[] = [];
    const reader: BasisReader = {
      size: basis.length,
      blockSize,
      read: async (off, len) => {
        asked.push(off);
        return basis.subarray(off, off + len);
      },
    };
    const m = new DeltaMatcher(signatureOf(basis, blockSize));
    const delta = Buffer.concat([...m.push(basis), ...m.finish('0123456789abcdef')]);
    async function* once(): AsyncGenerator<Buffer> {
      yield delta;
    }
    const out: Buffer[] = [];
    const it = applyDelta(once(), reader)[Symbol.asyncIterator]();
    const first = await it.next();
    // the first piece is in hand and the second already asked for
    expect(asked).toEqual([0, 1024 * 1024]);
    out.push(first.value as Buffer);
    for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value);
    expect(asked).toEqual([0, 1, 2, 3].map((i) => i * 1024 * 1024));
    expect(Buffer.concat(out).equals(basis)).toBe(true);
  });
});

describe('signature of a file', () => {
  it('read in alternating buffers equals the signature of its bytes', async () => {
    const dir = makeTempDir('tsync-delta-parts-');
    dirs.push(dir);
    const path = join(dir, 'f');
    const data = randomBytes(3 * HASH_CHUNK + 4321);
    writeFileSync(path, data);
    const expect_ = { ...statIdOf(lstatSync(path, { bigint: true })), kind: 'file' as const };
    const sig = await signatureOfFile(Buffer.from(path), expect_, 16 * 1024, 'f');
    expect(sig).toEqual(signatureOf(data, 16 * 1024));
  });
});
