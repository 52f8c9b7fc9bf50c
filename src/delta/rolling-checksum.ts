// The weak checksum of rsync's algorithm (Tridgell and Mackerras, 1996): two 16-bit sums over a window,
// a = Σ x_k and b = Σ (n - k) · x_k, that can be moved one byte along in O(1). It is cheap enough to try at
// every byte offset of the sender's file; a hit is only a candidate, confirmed by the strong hash.
//
// Every sum is kept in int32 (`| 0`): only the low 16 bits count, and int32 wrap-around keeps them, so V8
// never leaves integer registers for doubles on a long block (b alone would pass 2^31 at 128 KiB).

/** The checksum of `data[start, start + length)`, as an unsigned 32-bit number (b in the high half). */
export function weakSum(data: Uint8Array, start: number, length: number): number {
  let a = 0;
  let b = 0;
  const end = start + length;
  let i = start;
  // four bytes a step: b gains 4a + 4x0 + 3x1 + 2x2 + x3, one dependent add for four bytes instead of four
  for (const end4 = end - 3; i < end4; i += 4) {
    const x0 = data[i] as number;
    const x1 = data[i + 1] as number;
    const x2 = data[i + 2] as number;
    const x3 = data[i + 3] as number;
    b = (b + 4 * a + 4 * x0 + 3 * x1 + 2 * x2 + x3) | 0;
    a = (a + x0 + x1 + x2 + x3) | 0;
  }
  for (; i < end; i++) {
    a = (a + (data[i] as number)) | 0;
    b = (b + a) | 0;
  }
  return combine(a, b);
}

/** The weak sum's low half (a) from a whole value. */
export function weakA(weak: number): number {
  return weak & 0xffff;
}

/** The weak sum's high half (b) from a whole value. */
export function weakB(weak: number): number {
  return weak >>> 16;
}

/**
 * The weak sum of the window moved one byte on: `out` leaves at the front, `into` joins at the back, the
 * window `length` bytes long. Inlined by hand in the sender's loop (delta-match.ts); this is its definition.
 */
export function rollWeak(weak: number, out: number, into: number, length: number): number {
  const a = (weakA(weak) - out + into) & 0xffff;
  const b = (weakB(weak) - length * out + a) & 0xffff;
  return combine(a, b);
}

export function combine(a: number, b: number): number {
  return ((a & 0xffff) | ((b & 0xffff) << 16)) >>> 0;
}
