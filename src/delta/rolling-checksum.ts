// The weak checksum of rsync's algorithm (Tridgell and Mackerras, 1996): two 16-bit sums over a window,
// a = Σ x_k and b = Σ (n - k) · x_k, that can be moved one byte along in O(1). It is cheap enough to try at
// every byte offset of the sender's file; a hit is only a candidate, confirmed by the strong hash.

/** The checksum of `data[start, start + length)`, as an unsigned 32-bit number (b in the high half). */
export function weakSum(data: Uint8Array, start: number, length: number): number {
  let a = 0;
  let b = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    a += data[i] as number;
    b += a;
  }
  return combine(a, b);
}

/** The state of a window being rolled: its two sums and its length. */
export interface RollingState {
  a: number;
  b: number;
  readonly length: number;
}

export function rollingStart(data: Uint8Array, start: number, length: number): RollingState {
  let a = 0;
  let b = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    a += data[i] as number;
    b += a;
  }
  return { a: a & 0xffff, b: b & 0xffff, length };
}

/** Moves the window one byte on: `out` leaves at the front, `into` joins at the back. */
export function roll(s: RollingState, out: number, into: number): void {
  s.a = (s.a - out + into) & 0xffff;
  s.b = (s.b - s.length * out + s.a) & 0xffff;
}

export function rollingValue(s: RollingState): number {
  return combine(s.a, s.b);
}

function combine(a: number, b: number): number {
  return ((a & 0xffff) | ((b & 0xffff) << 16)) >>> 0;
}
