// The weak checksum of rsync's algorithm (Tridgell and Mackerras, 1996): two 16-bit sums over a window,
// a = Σ x_k and b = Σ (n - k) · x_k, that can be moved one byte along in O(1). It is cheap enough to try at
// every byte offset of the sender's file; a hit is only a candidate, confirmed by the strong hash.
//
// Every sum is kept in int32 (`| 0`): only the low 16 bits count, and int32 wrap-around keeps them, so V8
// never leaves integer registers for doubles on a long block (b alone would pass 2^31 at 128 KiB).

/**
 * Below this many bytes a block is summed a byte at a time: the word loop's setup (a typed-array view, the
 * unaligned head and tail) costs more than it saves.
 */
const WORDS_FROM = 64;

/** The word loop reads four bytes as one little-endian word; elsewhere every block is summed byte by byte. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// The sums of a part, unmasked int32 (module state, not an object per call: this runs once per block)
let partA = 0;
let partB = 0;

/** The checksum of `data[start, start + length)`, as an unsigned 32-bit number (b in the high half). */
export function weakSum(data: Uint8Array, start: number, length: number): number {
  if (length < WORDS_FROM || !LITTLE_ENDIAN) {
    sumBytes(data, start, length);
    return combine(partA, partB);
  }
  // three parts: the bytes before the first 4-byte boundary, whole words, the bytes after the last. Appending
  // a part of n bytes to sums (a, b) gives (a + a', b + n·a + b'): each earlier byte's weight grows by n.
  const head = (4 - ((data.byteOffset + start) & 3)) & 3;
  const words = (length - head) >>> 2;
  const tail = length - head - words * 4;
  sumBytes(data, start, head);
  let a = partA;
  let b = partB;
  sumWords(new Uint32Array(data.buffer, data.byteOffset + start + head, words));
  b = (b + Math.imul(words * 4, a) + partB) | 0;
  a = (a + partA) | 0;
  sumBytes(data, start + head + words * 4, tail);
  b = (b + Math.imul(tail, a) + partB) | 0;
  a = (a + partA) | 0;
  return combine(a, b);
}

function sumBytes(data: Uint8Array, start: number, length: number): void {
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
  partA = a;
  partB = b;
}

/**
 * The sums over whole words, four bytes per load (measured on 256 MiB in 16 KiB blocks: 112 ms against 140-184 ms
 * a byte at a time). With x_l the byte in lane l of word j (n = 4m bytes), b = Σ (n - 4j - l)·x = Σ_l (n - l)·S_l
 * - 4·Σ_j j·W_j, where S_l sums lane l and W_j word j's four bytes. Lanes 0 and 2 are summed in the two halves of
 * one int32, lanes 1 and 3 in another, and emptied every 256 words, before a half can pass 16 bits (256 · 255).
 * Σ_j j·W_j = m·P - Q, where P sums the W_j and Q the running values of P. Everything wraps mod 2^32 (`| 0`,
 * Math.imul), which keeps the low 16 bits exact, and those are all that count.
 */
function sumWords(words: Uint32Array): void {
  const m = words.length;
  let p = 0;
  let q = 0;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  while (j < m) {
    let lanes02 = 0;
    let lanes13 = 0;
    for (const stop = Math.min(m, j + 256); j < stop; j++) {
      const w = words[j] as number;
      const even = w & 0x00ff00ff;
      const odd = (w >>> 8) & 0x00ff00ff;
      lanes02 = (lanes02 + even) | 0;
      lanes13 = (lanes13 + odd) | 0;
      const pairs = even + odd;
      p = (p + (pairs & 0xffff) + (pairs >>> 16)) | 0;
      q = (q + p) | 0;
    }
    s0 = (s0 + (lanes02 & 0xffff)) | 0;
    s2 = (s2 + (lanes02 >>> 16)) | 0;
    s1 = (s1 + (lanes13 & 0xffff)) | 0;
    s3 = (s3 + (lanes13 >>> 16)) | 0;
  }
  const n = m * 4;
  const weighted = (Math.imul(m, p) - q) | 0;
  partA = (s0 + s1 + s2 + s3) | 0;
  partB = (Math.imul(n, s0) + Math.imul(n - 1, s1) + Math.imul(n - 2, s2) + Math.imul(n - 3, s3) - Math.imul(4, weighted)) | 0;
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
