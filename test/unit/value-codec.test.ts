// The value codec and the frame decoder on hand-picked values and hand-made malformed input (random ones:
// test/property/value-codec.property.test.ts).
import { describe, expect, it, vi } from 'vitest';
import { decodeMessage, encodeMessage, FrameDecoder, MAX_FRAME } from '../../src/remote/frame.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';
import { BYTES_BY_REFERENCE, decodeValue, encodeValue, encodeValueParts, MAX_DEPTH, type CodecValue } from '../../src/remote/value-codec.js';

function roundTrip(v: CodecValue): CodecValue {
  return decodeValue(encodeValue(v));
}

function nested(depth: number): CodecValue {
  let v: CodecValue = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('value codec', () => {
  it('round-trips every scalar kind exactly', () => {
    for (const v of [null, undefined, true, false, 0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 + 2, 0.1, -1e308, Number.POSITIVE_INFINITY, Number.NaN, '', 'ascii']) {
      expect(Object.is(roundTrip(v), v)).toBe(true);
    }
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
  });

  it('round-trips bigints of any sign and size: 64-bit inode and nanosecond values and beyond', () => {
    for (const v of [0n, 1n, -1n, 255n, 256n, -256n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 1_700_000_000_123_456_789n, -(3n ** 200n)]) {
      expect(roundTrip(v)).toBe(v);
    }
  });

  it('round-trips a binary string of all 256 char codes, non-UTF-8 byte names, any Unicode and lone surrogates', () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    expect(roundTrip(all)).toBe(all);
    expect(encodeValue(all).length).toBe(1 + 4 + 256); // one byte a char
    const nonUtf8Name = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0xc3]).toString('latin1');
    expect(roundTrip(nonUtf8Name)).toBe(nonUtf8Name);
    for (const s of ['naïve €uro 日本', '\u{1f600}', '\ud800', 'a\udfffb', '\ufeffbom first']) expect(roundTrip(s)).toBe(s);
  });

  it('decodes bytes as a Buffer, and containers with members of every kind', () => {
    const bytes = roundTrip(new Uint8Array([0, 1, 255]));
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes).toEqual(Buffer.from([0, 1, 255]));
    const map = new Map<CodecValue, CodecValue>([
      [1n, 'one'],
      ['k', [null, true]],
      [Buffer.from('key'), { nested: new Map([[2, 3]]) }],
    ]);
    const v = { a: [1, 'x', undefined, 2n ** 64n], map, empty: {}, none: null };
    expect(roundTrip(v)).toStrictEqual(v);
  });

  it('leaves out undefined members of objects, and keeps __proto__ as a plain member', () => {
    expect(roundTrip({ a: 1, gone: undefined })).toStrictEqual({ a: 1 });
    const hostile = decodeValue(encodeValue(JSON.parse('{"__proto__": {"polluted": true}}') as CodecValue)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect(Object.keys(hostile)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what it cannot carry: functions, symbols, class instances, nesting beyond the limit', () => {
    expect(() => encodeValue((() => 1) as unknown as CodecValue)).toThrow(ProtocolError);
    expect(() => encodeValue(Symbol('s') as unknown as CodecValue)).toThrow(ProtocolError);
    expect(() => encodeValue(new Date() as unknown as CodecValue)).toThrow(ProtocolError);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => encodeValue(cyclic as CodecValue)).toThrow(ProtocolError);
    expect(roundTrip(nested(MAX_DEPTH))).toStrictEqual(nested(MAX_DEPTH));
    expect(() => encodeValue(nested(MAX_DEPTH + 1))).toThrow(ProtocolError);
  });

  it('refuses nesting beyond the limit on decoding, without recursing further', () => {
    const deep = Buffer.concat([Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i % 5 === 0 ? 11 : i % 5 === 4 ? 1 : 0))), Buffer.from([0])]);
    // [11, 0, 0, 0, 1] repeated: an array of one element, 100,000 deep (a stack overflow without the limit)
    expect(() => decodeValue(deep)).toThrow(ProtocolError);
    expect(() => decodeValue(deep)).toThrow(/deeper than 64/);
  });

  it('refuses every strict prefix of a valid encoding, trailing bytes, unknown tags and malformed text', () => {
    const encoded = encodeValue({ s: 'näme\u00ff', b: Buffer.alloc(40, 7), n: -(2n ** 70n), m: new Map([[1, [2.5, '日本']]]) });
    for (let end = 0; end < encoded.length; end++) expect(() => decodeValue(encoded.subarray(0, end))).toThrow(ProtocolError);
    expect(() => decodeValue(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(ProtocolError);
    for (const tag of [14, 99, 255]) expect(() => decodeValue(Buffer.from([tag]))).toThrow(ProtocolError);
    expect(() => decodeValue(Buffer.from([8, 0, 0, 0, 2, 0xc3, 0x28]))).toThrow(/malformed UTF-8/);
    expect(() => decodeValue(Buffer.from([9, 0, 0, 0, 3, 0x41, 0, 0]))).toThrow(/odd/);
    expect(() => decodeValue(Buffer.from([6, 2, 0, 0, 0, 0]))).toThrow(/sign/);
    expect(() => decodeValue(Buffer.from([12, 0, 0, 0, 1, 0, 0]))).toThrow(ProtocolError); // object key tagged null
  });

  it('refers to long byte strings instead of copying them, in a value encoded the same as one written whole', () => {
    const big = Buffer.alloc(BYTES_BY_REFERENCE, 7);
    const bigger = Buffer.alloc(5 * BYTES_BY_REFERENCE + 3, 9);
    // an object's member count is written after its members: here into a part that two byte strings have closed
    const v: CodecValue = { first: big, n: 1, nested: { inner: bigger, after: 'x' }, list: [bigger, 'tail'], last: Buffer.alloc(BYTES_BY_REFERENCE - 1, 1) };
    const parts = encodeValueParts(v, 9);
    expect(parts.filter((p) => p.buffer === big.buffer)).toHaveLength(1);
    expect(parts.filter((p) => p.buffer === bigger.buffer)).toHaveLength(2);
    const whole = Buffer.concat(parts).subarray(9);
    expect(decodeValue(whole)).toEqual(v);
    expect(encodeValue(v).equals(whole)).toBe(true);
  });

  it('checks a count against the bytes left before building anything', () => {
    expect(() => decodeValue(Buffer.from([11, 0xff, 0xff, 0xff, 0xff, 0]))).toThrow(/cannot fit/);
    expect(() => decodeValue(Buffer.from([13, 0x7f, 0xff, 0xff, 0xff, 0, 0]))).toThrow(/cannot fit/);
    expect(() => decodeValue(Buffer.from([10, 0xff, 0xff, 0xff, 0xff, 1, 2]))).toThrow(/truncated/);
  });
});

describe('frame decoder', () => {
  const frames = [
    ...encodeMessage({ kind: 'call', id: 1, method: 'echo', args: ['a', 2n], upload: false }),
    ...encodeMessage({ kind: 'data', id: 0x80000002, chunk: Buffer.alloc(1000, 9) }),
    ...encodeMessage({ kind: 'ping' }),
    ...encodeMessage({ kind: 'error', id: 0x80000003, error: { name: 'E', message: 'm', code: 'ENOENT', errno: -2 } }),
  ];
  const stream = Buffer.concat(frames);

  it('yields the same frames whether the stream comes whole, a byte at a time, or split anywhere', () => {
    const whole = new FrameDecoder().push(stream).map(decodeMessage);
    expect(whole.map((m) => m.kind)).toEqual(['call', 'data', 'ping', 'error']);
    expect(whole[0]).toEqual({ kind: 'call', id: 1, method: 'echo', args: ['a', 2n], upload: false });
    const oneByOne = new FrameDecoder();
    const bytewise = [...stream].flatMap((b) => oneByOne.push(Buffer.from([b]))).map(decodeMessage);
    expect(bytewise).toEqual(whole);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const d = new FrameDecoder();
      expect([...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))].map(decodeMessage)).toEqual(whole);
      expect(d.atBoundary).toBe(true);
    }
  });

  it('refuses a length over the limit before allocating anything for it', () => {
    const allocs = vi.spyOn(Buffer, 'allocUnsafe'); // records the sizes asked for; calls through
    try {
      const d = new FrameDecoder();
      const header = Buffer.alloc(4);
      header.writeUInt32BE(MAX_FRAME + 1);
      expect(() => d.push(header)).toThrow(ProtocolError);
      header.writeUInt32BE(0xffffffff);
      expect(() => new FrameDecoder().push(Buffer.concat([header, Buffer.alloc(10)]))).toThrow(/exceeds the limit/);
      expect(allocs.mock.calls.every(([size]) => size <= MAX_FRAME)).toBe(true);
    } finally {
      allocs.mockRestore();
    }
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 4, 1, 0, 0, 0]))).toThrow(/no kind and id/);
  });

  it('refuses unknown kinds, a call without [method, args], bodies where none belong', () => {
    expect(() => decodeMessage(Buffer.from([77, 0, 0, 0, 1, 0]))).toThrow(/unknown frame kind 77/);
    expect(() => decodeMessage(Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), encodeValue('echo')]))).toThrow(/method, args/);
    expect(() => decodeMessage(Buffer.from([10, 0, 0, 0, 0, 0]))).toThrow(/ping frame with a body/);
    expect(() => decodeMessage(Buffer.concat([Buffer.from([5, 0, 0, 0, 1]), encodeValue({ message: 'no name' })]))).toThrow(/name and message/);
  });
});
