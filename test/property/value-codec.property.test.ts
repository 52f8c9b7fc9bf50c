// Property and fuzz tests of the wire layer (src/remote): random nested values round-trip through the codec
// exactly, and random or mutated bytes fed to the frame decoder and the codec either decode or raise a
// ProtocolError: no other exception, no hang, no buffer sized beyond MAX_FRAME.
// PROPERTY_SEED: the seed (default: a random one, printed, so that a failure can be replayed);
// PROPERTY_RUNS: runs per property (default 300).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test, vi, type MockInstance } from 'vitest';
import { decodeMessage, encodeMessage, FrameDecoder, MAX_DATA_CHUNK, MAX_FRAME, type Message } from '../../src/remote/frame.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';
import { decodeValue, encodeValue, type CodecObject, type CodecValue } from '../../src/remote/value-codec.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`PROPERTY_SEED=${SEED} (PROPERTY_RUNS=${RUNS})`);
const params = { seed: SEED, numRuns: RUNS };

/** A path as tsync holds it: one char a byte, any byte, so also names that are not UTF-8. */
const binaryString = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1'));
/** Any UTF-16 code units, lone surrogates included. */
const anyUtf16 = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }).map((units) => String.fromCharCode(...units));
const stringArb = fc.oneof(binaryString, anyUtf16, fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', '__proto__', 'toString'));
const bigintArb = fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }), fc.constantFrom(0n, -1n, 2n ** 64n - 1n));
const scalarArb: fc.Arbitrary<CodecValue> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.maxSafeInteger(),
  bigintArb,
  stringArb,
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
);

const valueArb: fc.Arbitrary<CodecValue> = fc.letrec<{ value: CodecValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.array(fc.tuple(stringArb, tie('value')), { maxLength: 6 }).map((entries) => {
      const o: Record<string, CodecValue> = {};
      for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 6 }).map((entries) => new Map(entries)),
  ),
})).value;

/** What the decoder must give back: the same value, but with undefined object members left out. */
function expected(v: CodecValue): CodecValue {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return (v as readonly CodecValue[]).map(expected);
  if (v instanceof Map) return new Map([...(v as ReadonlyMap<CodecValue, CodecValue>)].map(([k, x]) => [expected(k), expected(x)]));
  const out: Record<string, CodecValue> = {};
  for (const [k, x] of Object.entries(v as CodecObject)) {
    if (x !== undefined) Object.defineProperty(out, k, { value: expected(x), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

describe('value codec, random values', () => {
  test('every value round-trips exactly (bigints, binary strings, lone surrogates, -0, NaN, nested maps)', () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        expect(decodeValue(encodeValue(v))).toStrictEqual(expected(v));
      }),
      params,
    );
  });
});

const wireErrorArb = fc.record({ name: stringArb, message: stringArb, code: fc.option(stringArb, { nil: undefined }), errno: fc.option(fc.integer(), { nil: undefined }) });
const idArb = fc.integer({ min: 0, max: 0xffffffff });
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('call' as const), id: idArb, method: stringArb, args: valueArb, upload: fc.boolean() }),
  fc.record({ kind: fc.constant('result' as const), id: idArb, value: valueArb, download: fc.boolean() }),
  fc.record({ kind: fc.constant('error' as const), id: idArb, error: wireErrorArb }),
  fc.record({ kind: fc.constant('abort' as const), id: idArb, error: wireErrorArb }),
  fc.record({ kind: fc.constant('data' as const), id: idArb, chunk: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }),
  fc.record({ kind: fc.constantFrom('end' as const, 'cancel' as const), id: idArb }),
  fc.record({ kind: fc.constantFrom('ping' as const, 'pong' as const) }),
);

/** What a hostile or broken peer might do to a valid stream of frames. */
const mutationArb = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('length' as const), frame: fc.nat(), length: fc.oneof(fc.nat(), fc.constantFrom(0, 4, 5, MAX_FRAME, MAX_FRAME + 1, 0xffffffff)) }),
  fc.record({ op: fc.constant('tag' as const), at: fc.nat(), tag: fc.integer({ min: 0, max: 255 }) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(frames: readonly Buffer[], m: Mutation): Buffer {
  if (m.op === 'length') {
    const copy = frames.map((f) => Buffer.from(f));
    const target = copy[m.frame % copy.length] as Buffer;
    if (target.length >= 4) target.writeUInt32BE(m.length, 0);
    return Buffer.concat(copy);
  }
  const bytes = Buffer.concat(frames);
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  switch (m.op) {
    case 'flip':
      bytes[at] = (bytes[at] as number) ^ m.xor;
      return bytes;
    case 'tag':
      bytes[at] = m.tag;
      return bytes;
    case 'truncate':
      return bytes.subarray(0, at);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
  }
}

/** Feeds bytes split at the given points; returns the messages, or the ProtocolError that stopped them. Anything else escapes. */
function feed(bytes: Buffer, cuts: readonly number[]): Message[] | ProtocolError {
  const decoder = new FrameDecoder();
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const messages: Message[] = [];
  let from = 0;
  try {
    for (const to of [...points, bytes.length]) {
      for (const payload of decoder.push(bytes.subarray(from, to))) messages.push(decodeMessage(payload));
      from = to;
    }
    return messages;
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
}

describe('frame decoder and codec, fuzzed', () => {
  let allocs: MockInstance<typeof Buffer.allocUnsafe>;
  // the sizes asked of Buffer.allocUnsafe, recorded (and passed through) to show no buffer is sized by a hostile length
  beforeAll(() => {
    allocs = vi.spyOn(Buffer, 'allocUnsafe');
  });
  afterAll(() => {
    allocs.mockRestore();
  });
  const largestAlloc = (): number => Math.max(0, ...allocs.mock.calls.map(([size]) => size));
  const cutsArb = fc.array(fc.nat(), { maxLength: 6 });

  test('valid frames split anywhere decode to the messages sent', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 5 }), cutsArb, (messages, cuts) => {
        const got = feed(Buffer.concat(messages.flatMap(encodeMessage)), cuts);
        expect(got).not.toBeInstanceOf(ProtocolError);
        expect(got).toStrictEqual(messages.map(decodeMessageShape));
      }),
      params,
    );
  });

  test('random bytes: a message or a ProtocolError, nothing else, no buffer over MAX_FRAME', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), cutsArb, (bytes, cuts) => {
        feed(Buffer.from(bytes), cuts);
        // frames of random bytes start with a random length: make the lengths small enough to complete too
        const small = Buffer.from(bytes);
        if (small.length >= 4) small.writeUInt32BE(Math.min(small.length - 4, small.readUInt32BE(0) % 64), 0);
        feed(small, cuts);
        expect(largestAlloc()).toBeLessThanOrEqual(MAX_FRAME);
      }),
      params,
    );
  });

  test('mutated valid frames: a message or a ProtocolError, nothing else, no buffer over MAX_FRAME', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 4 }), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), cutsArb, (messages, mutations, cuts) => {
        let bytes: Buffer = Buffer.concat(messages.flatMap(encodeMessage));
        for (const m of mutations) bytes = mutate([bytes], m);
        feed(bytes, cuts);
        const perFrame = mutate(
          messages.map((m) => Buffer.concat(encodeMessage(m))),
          mutations[0] as Mutation,
        );
        feed(perFrame, cuts);
        expect(largestAlloc()).toBeLessThanOrEqual(MAX_FRAME);
      }),
      params,
    );
  });

  test('a data chunk over MAX_DATA_CHUNK is refused on sending', () => {
    expect(() => encodeMessage({ kind: 'data', id: 1, chunk: Buffer.alloc(MAX_DATA_CHUNK + 1) })).toThrow(ProtocolError);
  });
});

/** A message as it decodes: undefined object members gone, bytes as Buffers. */
function decodeMessageShape(m: Message): Message {
  switch (m.kind) {
    case 'call':
      return { ...m, args: expected(m.args) };
    case 'result':
      return { ...m, value: expected(m.value) };
    case 'error':
    case 'abort':
      return { ...m, error: expected({ ...m.error }) as unknown as typeof m.error };
    default:
      return { ...m }; // fc.record may build null-prototype objects
  }
}
