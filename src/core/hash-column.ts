/**
 * A column of file hashes, one slot per path, as the base's and the scans' tables keep them (issue 11, memory).
 * A hash is XXH64 as 16 lowercase hex digits (hash/xxhash.ts hexOf); as a string in an array slot it cost 40 bytes
 * a path (a 32-byte string and the slot), the largest part of what a path costs at a million paths. Here such a
 * hash is its two 32-bit halves and a state byte: 9 bytes. Any other text (an index written by hand, a test's
 * made-up hash) is kept as it is, in a map beside the halves, so that what goes in comes out unchanged.
 *
 * A slot holds a hash, null (a file without one) or nothing (undefined: not a file, or never set), as the plain
 * arrays it replaces did. Setting past the end grows the column, as an array grows.
 */
export class HashColumn {
  private state: Uint8Array;
  private hi: Uint32Array;
  private lo: Uint32Array;
  /** Hashes that are not 16 lowercase hex digits, by slot. */
  private readonly texts = new Map<number, string>();

  constructor(capacity = 0) {
    this.state = new Uint8Array(capacity);
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
  }

  /**
   * A column over these arrays as they are (a snapshot of the base read back, store/base-snapshot.ts), or null when
   * they do not make one: lengths that differ, a state that is none of the four, or a text slot that `texts` lacks
   * (or one it has that is no text slot). Adopted, not copied: the caller lets go of them.
   */
  static adopt(state: Uint8Array, hi: Uint32Array, lo: Uint32Array, texts: ReadonlyMap<number, string>): HashColumn | null {
    if (hi.length !== state.length || lo.length !== state.length) return null;
    let textSlots = 0;
    for (let i = 0; i < state.length; i++) {
      const s = state[i] as number;
      if (s > TEXT) return null;
      if (s === TEXT) {
        if (!texts.has(i)) return null;
        textSlots++;
      }
    }
    if (textSlots !== texts.size) return null;
    const column = new HashColumn(0);
    column.state = state;
    column.hi = hi;
    column.lo = lo;
    for (const [i, text] of texts) column.texts.set(i, text);
    return column;
  }

  /**
   * The arrays as they are now, for a snapshot to write slot by slot (store/base-snapshot.ts): a state byte (0 unset,
   * 1 null, 2 the halves hold the hash, 3 a text, textAt), the high and low halves. Slots past their length are unset.
   * A view: valid until the column next grows.
   */
  arrays(): { readonly state: Uint8Array; readonly hi: Uint32Array; readonly lo: Uint32Array } {
    return { state: this.state, hi: this.hi, lo: this.lo };
  }

  /** The hash of slot i when it is kept as a text (not 16 lowercase hex digits), else undefined. */
  textAt(i: number): string | undefined {
    return this.state[i] === TEXT ? this.texts.get(i) : undefined;
  }

  get(i: number): string | null | undefined {
    switch (this.state[i]) {
      case HALVES:
        return hexOfHalves(this.hi[i] as number, this.lo[i] as number);
      case TEXT:
        return this.texts.get(i);
      case NULL:
        return null;
      default:
        return undefined;
    }
  }

  set(i: number, hash: string | null | undefined): void {
    if (i >= this.state.length) {
      if (hash === undefined) return; // reads undefined already
      this.grow(Math.max(i + 1, this.state.length < 65_536 ? this.state.length * 2 : this.state.length + (this.state.length >> 3), 16));
    }
    if (this.state[i] === TEXT) this.texts.delete(i);
    if (hash === undefined || hash === null) {
      this.state[i] = hash === null ? NULL : ABSENT;
      return;
    }
    if (parseHalves(hash)) {
      this.state[i] = HALVES;
      this.hi[i] = parsed.hi;
      this.lo[i] = parsed.lo;
      return;
    }
    this.state[i] = TEXT;
    this.texts.set(i, hash);
  }

  /**
   * Sets slot i from the text in `bytes` between `start` and `end` (a binary string's bytes, as a file of the
   * base's columns holds it): an empty text leaves the slot unset. A hash of 16 hex digits builds no string.
   */
  setFromBytes(i: number, bytes: Uint8Array, start: number, end: number): void {
    if (end === start) {
      this.set(i, undefined);
      return;
    }
    if (end - start === 16 && parseHalvesOfBytes(bytes, start)) {
      if (i >= this.state.length) this.set(i, null); // grows
      if (this.state[i] === TEXT) this.texts.delete(i);
      this.state[i] = HALVES;
      this.hi[i] = parsed.hi;
      this.lo[i] = parsed.lo;
      return;
    }
    this.set(i, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1', start, end));
  }

  /** Slot i of this column and slot j of `other` hold the same hash (neither null nor unset); no string is built. */
  sameHash(i: number, other: HashColumn, j: number): boolean {
    const s = this.state[i];
    if (s !== other.state[j]) return false;
    if (s === HALVES) return this.hi[i] === other.hi[j] && this.lo[i] === other.lo[j];
    return s === TEXT && this.texts.get(i) === other.texts.get(j);
  }

  /** Sets slot i to what slot j of `other` holds, building no string (a walk copying the index's vouched hash). */
  copyFrom(i: number, other: HashColumn, j: number): void {
    const s = other.state[j] ?? ABSENT;
    if (s === TEXT) {
      this.set(i, other.texts.get(j));
      return;
    }
    if (s !== HALVES) {
      this.set(i, s === NULL ? null : undefined);
      return;
    }
    if (i >= this.state.length) this.set(i, null); // grows
    if (this.state[i] === TEXT) this.texts.delete(i);
    this.state[i] = HALVES;
    this.hi[i] = other.hi[j] as number;
    this.lo[i] = other.lo[j] as number;
  }

  /** Slot i holds `hash` (a string; null and undefined are never a hash here). */
  holds(i: number, hash: string): boolean {
    const s = this.state[i];
    if (s === HALVES) return parseHalves(hash) && this.hi[i] === parsed.hi && this.lo[i] === parsed.lo;
    return s === TEXT && this.texts.get(i) === hash;
  }

  private grow(capacity: number): void {
    const state = new Uint8Array(capacity);
    const hi = new Uint32Array(capacity);
    const lo = new Uint32Array(capacity);
    state.set(this.state);
    hi.set(this.hi);
    lo.set(this.lo);
    this.state = state;
    this.hi = hi;
    this.lo = lo;
  }
}

const ABSENT = 0;
const NULL = 1;
const HALVES = 2;
const TEXT = 3;

/** parseHalves' result: one object, overwritten by each call (no garbage per hash). */
const parsed = { hi: 0, lo: 0 };

/** True, with the halves in `parsed`, when `hash` is 16 lowercase hex digits. */
function parseHalves(hash: string): boolean {
  if (hash.length !== 16) return false;
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 16; k++) {
    const v = digitOf(hash.charCodeAt(k));
    if (v < 0) return false;
    if (k < 8) hi = hi * 16 + v;
    else lo = lo * 16 + v;
  }
  parsed.hi = hi;
  parsed.lo = lo;
  return true;
}

/** parseHalves of the 16 bytes from `start`. */
function parseHalvesOfBytes(bytes: Uint8Array, start: number): boolean {
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 16; k++) {
    const v = digitOf(bytes[start + k] as number);
    if (v < 0) return false;
    if (k < 8) hi = hi * 16 + v;
    else lo = lo * 16 + v;
  }
  parsed.hi = hi;
  parsed.lo = lo;
  return true;
}

/** A lowercase hex digit's value, or -1 (an uppercase digit would not come back the same from hexOfHalves). */
function digitOf(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
}

/** The character codes of the lowercase hex digits, by value. */
const HEX_DIGIT_CODES: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

function hexDigit(v: number): number {
  return HEX_DIGIT_CODES[v & 15] as number;
}

/**
 * The 16 lowercase hex digits of two halves, as one flat string (a concatenation of two 8-digit strings would be a
 * V8 cons string: 32 bytes more). Made from the character codes, not through a Buffer's hex encoding: 40-55 ns
 * against 110-120 here (a loop of 200k), and a no-op scan makes one per file the index vouches for. Written out
 * digit by digit on purpose: a loop filling an array for `String.fromCharCode.apply` took 84-111 ns, no better
 * than the Buffer.
 */
function hexOfHalves(hi: number, lo: number): string {
  return String.fromCharCode(
    hexDigit(hi >>> 28),
    hexDigit(hi >>> 24),
    hexDigit(hi >>> 20),
    hexDigit(hi >>> 16),
    hexDigit(hi >>> 12),
    hexDigit(hi >>> 8),
    hexDigit(hi >>> 4),
    hexDigit(hi),
    hexDigit(lo >>> 28),
    hexDigit(lo >>> 24),
    hexDigit(lo >>> 20),
    hexDigit(lo >>> 16),
    hexDigit(lo >>> 12),
    hexDigit(lo >>> 8),
    hexDigit(lo >>> 4),
    hexDigit(lo),
  );
}
