// The binary encoding of the values that endpoint calls carry, the same on Node 20 and 24 (node:v8's
// serializer changes format between versions, and JSON has no bigint, Map or bytes).
//
// A value is a one-byte tag, then its body; integers are big-endian:
//   0 null | 1 undefined | 2 false | 3 true
//   4 int32 (4 bytes) | 5 float64 (8 bytes; -0, NaN, non-int32 numbers)
//   6 bigint: u8 sign (0 or 1 for negative), u32 n, n bytes of magnitude
//   7 string, every char code <= 0xFF (our "binary string" paths, and ASCII): u32 n, n bytes, one a char
//   8 string, well-formed UTF-16 with a char above 0xFF: u32 n, n bytes of UTF-8
//   9 string with a lone surrogate (UTF-8 cannot carry it): u32 n, n bytes of UTF-16LE
//   10 bytes (decoded as a Buffer): u32 n, n bytes
//   11 array: u32 count, count values
//   12 plain object: u32 count, count pairs of (string value with tag 7-9, value); undefined members are left out
//   13 Map: u32 count, count pairs of (value, value)
// The decoder trusts nothing: each length is checked against the bytes left before anything is allocated,
// nesting is capped at MAX_DEPTH, and an unknown tag, malformed UTF-8 or trailing bytes are a ProtocolError.
import { ProtocolError } from './protocol-error.js';

export interface CodecObject {
  readonly [key: string]: CodecValue;
}

export type CodecValue = null | undefined | boolean | number | bigint | string | Uint8Array | readonly CodecValue[] | ReadonlyMap<CodecValue, CodecValue> | CodecObject;

/** Deeper nesting is refused both ways; it also stops a cyclic value on the encoding side. */
export const MAX_DEPTH = 64;

const TAG_NULL = 0;
const TAG_UNDEFINED = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_INT32 = 4;
const TAG_FLOAT64 = 5;
const TAG_BIGINT = 6;
const TAG_LATIN1 = 7;
const TAG_UTF8 = 8;
const TAG_UTF16 = 9;
const TAG_BYTES = 10;
const TAG_ARRAY = 11;
const TAG_OBJECT = 12;
const TAG_MAP = 13;

const ABOVE_LATIN1 = /[\u0100-\uffff]/;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Byte strings at least this long are not copied into the encoding: the parts of an encoded value refer to them
 * (a batch of small files was copied twice on its way out, into the growing buffer and as it grew: 3-4 copies
 * of every byte sent, with the frame decoder's one on the far side).
 */
export const BYTES_BY_REFERENCE = 1024;

/** Where a u32 was left to be filled in later: in which part, at which offset. */
interface Mark {
  readonly part: number;
  readonly at: number;
}

class Writer {
  buf: Buffer;
  pos: number;
  /** The parts before `buf`: buffers written to the end, and byte strings referred to. */
  private readonly done: Buffer[] = [];

  constructor(headroom: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, headroom * 2));
    this.pos = headroom;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A place for a u32 written now and set later (patchU32), whatever is written in between. */
  markU32(): Mark {
    const m = { part: this.done.length, at: this.pos };
    this.u32(0);
    return m;
  }

  patchU32(m: Mark, v: number): void {
    const part = m.part === this.done.length ? this.buf : this.done[m.part];
    if (part === undefined) throw new Error('internal: a mark past the parts written');
    part.writeUInt32BE(v, m.at);
  }

  /** The encoding as it stands, in order: the parts done, then what `buf` holds. */
  parts(): Buffer[] {
    return [...this.done, this.buf.subarray(0, this.pos)];
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    if (b.length >= BYTES_BY_REFERENCE) {
      // the buffer so far becomes a part, then `b` itself, then a fresh buffer goes on
      this.done.push(this.buf.subarray(0, this.pos), Buffer.from(b.buffer, b.byteOffset, b.length));
      this.buf = this.buf.subarray(this.pos);
      this.pos = 0;
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    if (!ABOVE_LATIN1.test(s)) {
      this.u8(TAG_LATIN1);
      this.u32(s.length);
      this.ensure(s.length);
      this.pos += this.buf.write(s, this.pos, s.length, 'latin1');
    } else if (!SURROGATE.test(s)) {
      const n = Buffer.byteLength(s, 'utf8');
      this.u8(TAG_UTF8);
      this.u32(n);
      this.ensure(n);
      this.pos += this.buf.write(s, this.pos, n, 'utf8');
    } else {
      this.u8(TAG_UTF16);
      this.u32(s.length * 2);
      this.ensure(s.length * 2);
      this.pos += this.buf.write(s, this.pos, s.length * 2, 'utf16le');
    }
  }
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function encodeInto(w: Writer, v: CodecValue, depth: number): void {
  switch (typeof v) {
    case 'undefined':
      w.u8(TAG_UNDEFINED);
      return;
    case 'boolean':
      w.u8(v ? TAG_TRUE : TAG_FALSE);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff && !Object.is(v, -0)) {
        w.u8(TAG_INT32);
        w.ensure(4);
        w.buf.writeInt32BE(v, w.pos);
        w.pos += 4;
      } else {
        w.u8(TAG_FLOAT64);
        w.ensure(8);
        w.buf.writeDoubleBE(v, w.pos);
        w.pos += 8;
      }
      return;
    case 'bigint': {
      w.u8(TAG_BIGINT);
      w.u8(v < 0n ? 1 : 0);
      const hex = (v < 0n ? -v : v).toString(16);
      w.bytes(v === 0n ? Buffer.alloc(0) : Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex'));
      return;
    }
    case 'string':
      w.string(v);
      return;
    case 'object':
      break;
    default:
      throw new ProtocolError(`cannot encode a ${typeof v}`);
  }
  if (v === null) {
    w.u8(TAG_NULL);
    return;
  }
  if (v instanceof Uint8Array) {
    w.u8(TAG_BYTES);
    w.bytes(v);
    return;
  }
  if (depth >= MAX_DEPTH) throw new ProtocolError(`cannot encode a value nested deeper than ${MAX_DEPTH} (or cyclic)`);
  if (Array.isArray(v)) {
    const items = v as readonly CodecValue[];
    w.u8(TAG_ARRAY);
    w.u32(items.length);
    for (const item of items) encodeInto(w, item, depth + 1);
  } else if (v instanceof Map) {
    const map = v as ReadonlyMap<CodecValue, CodecValue>;
    w.u8(TAG_MAP);
    w.u32(map.size);
    for (const [key, value] of map) {
      encodeInto(w, key, depth + 1);
      encodeInto(w, value, depth + 1);
    }
  } else if (isPlainObject(v)) {
    const obj = v as CodecObject;
    w.u8(TAG_OBJECT);
    const countAt = w.markU32();
    let count = 0;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      if (value === undefined) continue;
      w.string(key);
      encodeInto(w, value, depth + 1);
      count++;
    }
    w.patchU32(countAt, count);
  } else {
    throw new ProtocolError(`cannot encode an object of class ${v.constructor?.name ?? 'unknown'}`);
  }
}

/**
 * Encodes one value as parts to be written in order: byte strings of BYTES_BY_REFERENCE or more are parts of
 * their own, not copied, so the caller must not change them until the parts are written. `headroom` bytes are
 * left free at the start of the first part, so that a frame header can be written in front without a copy.
 */
export function encodeValueParts(v: CodecValue, headroom = 0): Buffer[] {
  const w = new Writer(headroom);
  encodeInto(w, v, 0);
  return w.parts();
}

/** encodeValueParts in one buffer. */
export function encodeValue(v: CodecValue, headroom = 0): Buffer {
  const parts = encodeValueParts(v, headroom);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  /** Checks that n more bytes are there before anything is sized by n. */
  private take(n: number, what: string): number {
    if (n > this.end - this.pos) throw new ProtocolError(`value truncated: ${what} needs ${n} bytes, ${this.end - this.pos} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.buf[this.take(1, 'a tag')] as number;
  }

  private u32(): number {
    return this.buf.readUInt32BE(this.take(4, 'a length'));
  }

  private count(minBytesEach: number, what: string): number {
    const n = this.u32();
    if (n * minBytesEach > this.end - this.pos) throw new ProtocolError(`${what} of ${n} cannot fit in the ${this.end - this.pos} bytes left`);
    return n;
  }

  private stringBody(tag: number): string {
    const n = this.u32();
    const at = this.take(n, 'a string');
    if (tag === TAG_LATIN1) return this.buf.toString('latin1', at, at + n);
    if (tag === TAG_UTF16) {
      if (n % 2 !== 0) throw new ProtocolError('UTF-16 string of an odd byte length');
      return this.buf.toString('utf16le', at, at + n);
    }
    try {
      return strictUtf8.decode(this.buf.subarray(at, at + n));
    } catch {
      throw new ProtocolError('malformed UTF-8 in a string');
    }
  }

  value(depth: number): CodecValue {
    const tag = this.u8();
    switch (tag) {
      case TAG_NULL:
        return null;
      case TAG_UNDEFINED:
        return undefined;
      case TAG_FALSE:
        return false;
      case TAG_TRUE:
        return true;
      case TAG_INT32:
        return this.buf.readInt32BE(this.take(4, 'an int32'));
      case TAG_FLOAT64:
        return this.buf.readDoubleBE(this.take(8, 'a float64'));
      case TAG_BIGINT: {
        const sign = this.u8();
        if (sign > 1) throw new ProtocolError(`bigint sign byte ${sign}`);
        const n = this.u32();
        const at = this.take(n, 'a bigint');
        const magnitude = n === 0 ? 0n : BigInt(`0x${this.buf.toString('hex', at, at + n)}`);
        return sign === 1 ? -magnitude : magnitude;
      }
      case TAG_LATIN1:
      case TAG_UTF8:
      case TAG_UTF16:
        return this.stringBody(tag);
      case TAG_BYTES: {
        const n = this.u32();
        const at = this.take(n, 'bytes');
        // a copy: the value must not pin (or alias) the whole frame it came in
        return Buffer.from(this.buf.subarray(at, at + n));
      }
      case TAG_ARRAY:
      case TAG_OBJECT:
      case TAG_MAP:
        if (depth >= MAX_DEPTH) throw new ProtocolError(`value nested deeper than ${MAX_DEPTH}`);
        return this.container(tag, depth + 1);
      default:
        throw new ProtocolError(`unknown value tag ${tag}`);
    }
  }

  private container(tag: number, depth: number): CodecValue {
    if (tag === TAG_ARRAY) {
      const n = this.count(1, 'an array');
      const items: CodecValue[] = new Array<CodecValue>(n);
      for (let i = 0; i < n; i++) items[i] = this.value(depth);
      return items;
    }
    if (tag === TAG_MAP) {
      const n = this.count(2, 'a map');
      const map = new Map<CodecValue, CodecValue>();
      for (let i = 0; i < n; i++) {
        const key = this.value(depth);
        map.set(key, this.value(depth));
      }
      return map;
    }
    const n = this.count(6, 'an object');
    const obj: Record<string, CodecValue> = {};
    for (let i = 0; i < n; i++) {
      const keyTag = this.u8();
      if (keyTag !== TAG_LATIN1 && keyTag !== TAG_UTF8 && keyTag !== TAG_UTF16) throw new ProtocolError(`object key with tag ${keyTag}`);
      const key = this.stringBody(keyTag);
      const value = this.value(depth);
      // a key named __proto__ must stay a member, not replace the prototype
      if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      else obj[key] = value;
    }
    return obj;
  }

  finish(): void {
    if (this.pos !== this.end) throw new ProtocolError(`${this.end - this.pos} bytes after the value`);
  }
}

/** Decodes exactly one value from bytes [start, end) of buf; anything else there is a ProtocolError. */
export function decodeValue(buf: Buffer, start = 0, end = buf.length): CodecValue {
  const reader = new Reader(buf, start, end);
  const v = reader.value(0);
  reader.finish();
  return v;
}
