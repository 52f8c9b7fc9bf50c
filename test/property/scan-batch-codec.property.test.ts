// Property and fuzz tests of the compact scan batch (src/remote/scan-batch-codec.ts): random entries of every
// kind, names that are not UTF-8, sizes and times at the ends of their ranges, come back exactly; values the rows
// cannot carry go as a codec value and come back exactly too; random or mutated bytes either decode to entries
// the engine may rely on (checked with the same wire shapes as any reply) or raise a ProtocolError.
// PROPERTY_SEED: the seed (default: a random one, printed); PROPERTY_RUNS: runs per property (default 200).
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { isSafeRelPath } from '../../src/core/paths.js';
import type { Entry, RelPath, ScannedEntry, StatId } from '../../src/core/types.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';
import { decodeScanBatch, encodeScanBatch, FORMAT_ROWS, FORMAT_VALUE } from '../../src/remote/scan-batch-codec.js';
import { scannedEntry } from '../../src/remote/wire-shapes.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`PROPERTY_SEED=${SEED} (PROPERTY_RUNS=${RUNS})`);
const params = { seed: SEED, numRuns: RUNS };

/** One name: any bytes but '/' and NUL (so also bytes that are not UTF-8), never '.' or '..'. */
const nameArb = fc
  .uint8Array({ minLength: 1, maxLength: 12 })
  .map((b) => Buffer.from(b.map((x) => (x === 0x2f || x === 0 ? 0x41 : x))).toString('latin1'))
  .filter((n) => n !== '.' && n !== '..');
const pathArb = fc.array(nameArb, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/') as RelPath);
/** A binary string: any bytes (a link target or a digest). */
const binaryArb = fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1'));
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const timeArb = fc.oneof(i64, fc.bigInt({ min: 0n, max: 2_000_000_000_000_000_000n }), fc.constantFrom(0n, -1n));
const countArb = fc.oneof(fc.nat(), fc.maxSafeInteger().map(Math.abs), fc.constantFrom(0, 2 ** 32, 2 ** 53 - 1));
const u32 = fc.oneof(fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 0xffffffff));
const hashArb = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex'));

interface Optional {
  uid?: number;
  gid?: number;
  xattrs?: string;
}
const ownerArb = fc.record({ uid: u32, gid: u32, xattrs: binaryArb }, { requiredKeys: [] }) as fc.Arbitrary<Optional>;

const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.tuple(countArb, timeArb, fc.nat({ max: 0o7777 }), fc.option(hashArb), ownerArb).map(([size, mtimeNs, mode, hash, o]) => ({ kind: 'file' as const, size, mtimeNs, mode, hash, ...o })),
  fc.tuple(timeArb, u32, ownerArb).map(([mtimeNs, mode, o]) => ({ kind: 'dir' as const, mode, mtimeNs, ...o })),
  fc.tuple(binaryArb, timeArb, ownerArb).map(([target, mtimeNs, o]) => {
    const { xattrs: _none, ...owners } = o;
    return { kind: 'symlink' as const, target, mtimeNs, ...owners };
  }),
);

const scannedArb: fc.Arbitrary<ScannedEntry> = fc
  .tuple(
    entryArb,
    u64,
    timeArb,
    fc.boolean(),
    fc.boolean(),
    fc.option(countArb, { nil: undefined }),
    fc.option(countArb, { nil: undefined }),
    fc.option(u64, { nil: undefined }),
    countArb,
    timeArb,
    timeArb,
  )
  .map(([entry, ino, ctimeNs, sameSize, sameMtime, nlink, blocks, dev, size, mtimeNs, observedAtNs]) => {
    const stat: { -readonly [K in keyof StatId]: StatId[K] } = {
      ino,
      ctimeNs,
      size: sameSize && entry.kind === 'file' ? entry.size : size,
      mtimeNs: sameMtime ? entry.mtimeNs : mtimeNs,
    };
    if (nlink !== undefined) stat.nlink = nlink;
    if (blocks !== undefined) stat.blocks = blocks;
    if (dev !== undefined) stat.dev = dev;
    return { entry, stat, observedAtNs };
  });

const batchArb = fc.uniqueArray(fc.tuple(pathArb, scannedArb), { maxLength: 40, selector: ([p]) => p });

function decodeAll(bytes: Buffer): [RelPath, ScannedEntry][] {
  const out: [RelPath, ScannedEntry][] = [];
  decodeScanBatch(bytes, 0, bytes.length, (p, s) => out.push([p, s]));
  return out;
}

describe('compact scan batches', () => {
  test('any batch comes back exactly, as rows', () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const bytes = encodeScanBatch(batch);
        expect(bytes[0]).toBe(FORMAT_ROWS);
        expect(decodeAll(bytes)).toStrictEqual(batch);
      }),
      params,
    );
  });

  test('long paths, sharing long prefixes or not, come back exactly', () => {
    // the reader puts each path together in a buffer that starts small and grows (past 256 bytes, then again)
    const longName = fc
      .string({ minLength: 1, maxLength: 200, size: 'max' })
      .map((n) => n.replace(/[/\0]/g, 'x'))
      .filter((n) => n !== '.' && n !== '..');
    const longPath = fc.array(longName, { minLength: 1, maxLength: 8, size: 'max' }).map((parts) => Buffer.from(parts.join('/'), 'utf8').toString('latin1') as RelPath);
    const rows = fc.uniqueArray(fc.tuple(longPath, scannedArb), { maxLength: 20, selector: ([p]) => p });
    fc.assert(
      fc.property(rows, fc.nat({ max: 3 }), (batch, nested) => {
        // some rows below others, so that whole long paths are shared prefixes
        const deep = batch.map(([p, s], i): [RelPath, ScannedEntry] => [(i > 0 && i % 4 < nested ? `${(batch[i - 1] as [RelPath, ScannedEntry])[0]}/${p}` : p) as RelPath, s]);
        fc.pre(new Set(deep.map(([p]) => p)).size === deep.length);
        const sorted = deep.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(decodeAll(encodeScanBatch(sorted))).toStrictEqual(sorted);
      }),
      params,
    );
  });

  test('a batch with a time beyond 64 bits or a string that is not binary goes as a codec value, and comes back exactly', () => {
    const odd = fc.oneof(
      fc.constant<(s: ScannedEntry) => ScannedEntry>((s) => ({ ...s, observedAtNs: 2n ** 70n })),
      fc.constant<(s: ScannedEntry) => ScannedEntry>((s) => ({ ...s, stat: { ...s.stat, ino: -1n } })),
      fc.constant<(s: ScannedEntry) => ScannedEntry>((s) => ({ ...s, entry: s.entry.kind === 'symlink' ? { ...s.entry, target: 'é→ü' } : { ...s.entry, mtimeNs: -(2n ** 64n) } })),
    );
    fc.assert(
      fc.property(batchArb, fc.nat(), odd, (batch, at, change) => {
        fc.pre(batch.length > 0);
        const i = at % batch.length;
        const [path, s] = batch[i] as [RelPath, ScannedEntry];
        const changed: [RelPath, ScannedEntry][] = batch.map((row, j) => (j === i ? [path, change(s)] : row));
        const bytes = encodeScanBatch(changed);
        expect(bytes[0]).toBe(FORMAT_VALUE);
        expect(decodeAll(bytes)).toStrictEqual(changed);
      }),
      params,
    );
  });

  test('mutated, cut or extended bytes decode to well-formed entries or raise a ProtocolError', () => {
    const mutation = fc.oneof(
      fc.tuple(fc.constant('flip' as const), fc.nat(), fc.integer({ min: 1, max: 255 })),
      fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant(0)),
      fc.tuple(fc.constant('extend' as const), fc.nat({ max: 20 }), fc.integer({ min: 0, max: 255 })),
    );
    fc.assert(
      fc.property(batchArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (batch, mutations) => {
        let bytes = Buffer.from(encodeScanBatch(batch));
        for (const [how, at, x] of mutations) {
          if (bytes.length === 0) break;
          if (how === 'flip') bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ x;
          else if (how === 'cut') bytes = bytes.subarray(0, at % bytes.length);
          else bytes = Buffer.concat([bytes, Buffer.alloc(at + 1, x)]);
        }
        let got: [RelPath, ScannedEntry][];
        try {
          got = decodeAll(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          return;
        }
        for (const [p, s] of got) {
          expect(isSafeRelPath(p)).toBe(true);
          expect(v.safeParse(scannedEntry, s).success).toBe(true);
        }
      }),
      params,
    );
  });

  test('pure noise is refused or well-formed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(FORMAT_ROWS, FORMAT_VALUE, 0, 99), (noise, format) => {
        const bytes = Buffer.concat([Buffer.from([format]), Buffer.from(noise)]);
        try {
          for (const [p, s] of decodeAll(bytes)) {
            expect(isSafeRelPath(p)).toBe(true);
            expect(v.safeParse(scannedEntry, s).success).toBe(true);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      params,
    );
  });
});

describe('compact scan batches refuse', () => {
  const file = (path: string, size = 5): [RelPath, ScannedEntry] => [
    path as RelPath,
    { entry: { kind: 'file', size, mtimeNs: 1n, mode: 0o644, hash: null }, stat: { ino: 1n, ctimeNs: 2n, size, mtimeNs: 1n }, observedAtNs: 3n },
  ];
  const dir: [RelPath, ScannedEntry] = ['dd' as RelPath, { entry: { kind: 'dir', mode: 0o755, mtimeNs: 1n }, stat: { ino: 1n, ctimeNs: 2n, size: 0, mtimeNs: 1n }, observedAtNs: 3n }];
  // one row: u8 format, u32 count, then u16 flags at 5, u16 shared prefix at 7, u32 suffix length at 9, the name at 13
  const FLAGS = 5;
  const SHARED = 7;
  const NAME = 13;
  const refused = (bytes: Buffer, why: RegExp): void => {
    expect(() => decodeAll(bytes)).toThrow(ProtocolError);
    expect(() => decodeAll(bytes)).toThrow(why);
  };

  test('a path that leaves the root or is not a path', () => {
    for (const bad of ['..', '/a', 'a/', 'a//b', 'x/../y']) {
      const bytes = Buffer.from(encodeScanBatch([file('q'.repeat(bad.length))]));
      bytes.write(bad, NAME, 'latin1');
      refused(bytes, /not a path inside the root/);
    }
    const nul = Buffer.from(encodeScanBatch([file('ab')]));
    nul[NAME + 1] = 0;
    refused(nul, /not a path inside the root/);
  });

  test('unknown flags, a hash or a file size on a directory, an unknown kind', () => {
    const bytes = Buffer.from(encodeScanBatch([file('a')]));
    bytes.writeUInt16LE(bytes.readUInt16LE(FLAGS) | 0x8000, FLAGS);
    refused(bytes, /unknown flags/);
    for (const bit of [1 << 2, 1 << 6]) {
      const d = Buffer.from(encodeScanBatch([dir]));
      d.writeUInt16LE(d.readUInt16LE(FLAGS) | bit, FLAGS);
      refused(d, /no file/);
    }
    const k = Buffer.from(encodeScanBatch([dir]));
    k.writeUInt16LE(k.readUInt16LE(FLAGS) | 0b11, FLAGS);
    refused(k, /unknown kind/);
  });

  test('a size that is no count', () => {
    for (const size of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) {
      const bytes = Buffer.from(encodeScanBatch([file('a')]));
      bytes.writeDoubleLE(size, NAME + 1);
      refused(bytes, /is not a count/);
    }
  });

  test('a shared prefix longer than the path before, trailing bytes, a count the bytes cannot hold, an unknown format', () => {
    const two = Buffer.from(encodeScanBatch([file('a'), file('b')]));
    const second = 5 + (two.length - 5) / 2; // the two rows are the same size
    expect(two.readUInt16LE(second + 2)).toBe(0);
    two.writeUInt16LE(5, second + 2);
    refused(two, /shares 5 chars with one of 1/);
    const first = Buffer.from(encodeScanBatch([file('a')]));
    first.writeUInt16LE(1, SHARED);
    refused(first, /shares 1 chars with one of 0/);
    refused(Buffer.concat([encodeScanBatch([file('a')]), Buffer.from([0])]), /after its last entry/);
    const many = Buffer.from(encodeScanBatch([file('a')]));
    many.writeUInt32LE(1000, 1);
    refused(many, /cannot hold 1000 entries/);
    refused(Buffer.from([7, 0, 0, 0, 0]), /unknown format/);
    refused(Buffer.alloc(0), /empty/);
  });
});
