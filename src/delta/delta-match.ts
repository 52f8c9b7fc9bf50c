// The sending side of rsync's algorithm: the new file is read once, a window of one block rolled along it
// byte by byte. Where the window's weak sum is one of the basis's and the strong hash agrees, the block is
// sent as a reference and the window jumps a whole block; the bytes between references go as literals.
// So an edit costs its own bytes plus at most a block on either side, at any offset (an insertion shifts
// nothing that follows it out of reach), and the basis is never read here: the signature is all it takes.
// Right after a reference the window is first taken for the basis's next block (one strong hash, no weak
// sum): an unchanged stretch, most of a large file, then costs one XXH64 per block and no per-byte work.
import { loadHasher } from '../hash/xxhash.js';
import { type BlockSignature, blockCount, strongHash, strongOf } from './block-signature.js';
import { encodeCopy, encodeEnd, encodeLiteral, MAX_LITERAL } from './delta-ops.js';
import { weakSum } from './rolling-checksum.js';

/**
 * A run of references is sent once it covers this many bytes, not only at the next literal: the receiver
 * rebuilds while the sender reads on, instead of waiting for the edit (or the end) to hear of the run.
 */
export const RUN_FLUSH_BYTES = 4 * 1024 * 1024;

/**
 * The basis's full blocks by weak sum, in typed arrays: a probe at every byte offset of a literal region is
 * an array read, not a Map lookup and no allocation. Chained open hashing; a chain lists its blocks in order.
 */
export class WeakIndex {
  /** Per block, its weak sum. */
  private readonly weakOf: Uint32Array;
  /** Per bucket, its first block (-1: empty). */
  private readonly heads: Int32Array;
  /** Per block, the next block in its bucket (-1: last). */
  private readonly chain: Int32Array;
  private readonly shift: number;

  constructor(weak: Buffer, blocks: number) {
    this.weakOf = new Uint32Array(blocks);
    this.chain = new Int32Array(blocks);
    // at least twice the blocks in buckets: most probes of a literal byte find an empty one
    let bits = 4;
    while (1 << bits < 2 * blocks) bits++;
    this.shift = 32 - bits;
    this.heads = new Int32Array(1 << bits).fill(-1);
    for (let j = blocks - 1; j >= 0; j--) {
      const w = weak.readUInt32BE(j * 4);
      this.weakOf[j] = w;
      const bucket = this.bucketOf(w);
      this.chain[j] = this.heads[bucket] as number;
      this.heads[bucket] = j;
    }
  }

  bucketOf(weak: number): number {
    return Math.imul(weak, 0x9e3779b1) >>> this.shift;
  }

  /** The first block of `weak`'s bucket, or -1. */
  first(weak: number): number {
    return this.heads[this.bucketOf(weak)] as number;
  }

  /** The block after `j` in its bucket, or -1. */
  next(j: number): number {
    return this.chain[j] as number;
  }

  weak(j: number): number {
    return this.weakOf[j] as number;
  }
}

export class DeltaMatcher {
  private readonly bs: number;
  private readonly index: WeakIndex;
  /** The basis's full blocks: only these are matched mid-file. */
  private readonly full: number;
  /** The basis's last block when it is shorter than a block (-1: none): matched only at the file's end. */
  private readonly tailBlock: number;
  private readonly tailLength: number;
  /** The bytes not yet sent or referred to, from the start of the pending literal. */
  private pending: Buffer = Buffer.alloc(0);
  /** Where the window starts, in `pending`. */
  private at = 0;
  /** The window's two weak halves, valid while `rolling`. */
  private a = 0;
  private b = 0;
  private rolling = false;
  /**
   * The block the next window most likely is (-1: no guess): the one after the last reference, and block 0
   * at the start. Its strong hash alone decides, with no weak sum taken: an unchanged stretch costs one hash
   * per block. A wrong guess costs one hash, and the window rolls as usual until the next reference.
   */
  private guess: number;
  /** A run of consecutive block references not yet written. */
  private run: { first: number; count: number } | null = null;
  private out: Buffer[] = [];

  constructor(private readonly sig: BlockSignature) {
    this.bs = sig.blockSize;
    const n = blockCount(sig.size, sig.blockSize);
    this.full = Math.floor(sig.size / sig.blockSize);
    this.index = new WeakIndex(sig.weak, this.full);
    this.tailBlock = n > this.full ? this.full : -1;
    this.tailLength = sig.size - this.full * sig.blockSize;
    this.guess = this.full > 0 ? 0 : -1;
  }

  /** The ops this chunk completes, encoded. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.scan();
    // keep only what is still pending, in memory of our own (the caller may reuse its chunk)
    this.pending = Buffer.from(this.pending);
    return this.take();
  }

  /** The last ops, and the end op with `hash`, the whole new file's XXH64. */
  finish(hash: string): Buffer[] {
    const data = this.pending;
    const tailAt = data.length - this.tailLength;
    if (this.tailBlock >= 0 && tailAt >= this.at && this.sameBlock(this.tailBlock, data, tailAt, this.tailLength)) {
      this.literal(data.subarray(0, tailAt));
      this.copy(this.tailBlock);
    } else this.literal(data);
    this.flushRun();
    this.out.push(encodeEnd(hash));
    this.pending = Buffer.alloc(0);
    return this.take();
  }

  private scan(): void {
    const data = this.pending;
    const bs = this.bs;
    const end = data.length;
    const index = this.index;
    let at = this.at;
    let litStart = 0;
    let a = this.a;
    let b = this.b;
    let rolling = this.rolling;
    while (at + bs <= end) {
      if (!rolling) {
        const guess = this.guess;
        this.guess = -1;
        if (guess >= 0 && strongHash(data, at, bs) === strongOf(this.sig, guess)) {
          this.literal(data.subarray(litStart, at));
          this.copy(guess);
          at += bs;
          litStart = at;
          continue;
        }
        const w = weakSum(data, at, bs);
        a = w & 0xffff;
        b = w >>> 16;
        rolling = true;
      }
      const weak = (a | (b << 16)) >>> 0;
      const hit = index.first(weak) < 0 ? -1 : this.find(weak, data, at);
      if (hit >= 0) {
        this.literal(data.subarray(litStart, at));
        this.copy(hit);
        at += bs;
        litStart = at;
        rolling = false;
        continue;
      }
      if (at + bs < end) {
        // rolling-checksum.ts rollWeak, by hand: this runs once per byte of every literal
        const out = data[at] as number;
        a = (a - out + (data[at + bs] as number)) & 0xffff;
        b = (b - bs * out + a) & 0xffff;
      } else rolling = false;
      at++;
      if (at - litStart >= MAX_LITERAL) {
        this.literal(data.subarray(litStart, at));
        litStart = at;
      }
    }
    this.a = a;
    this.b = b;
    this.rolling = rolling;
    this.pending = data.subarray(litStart);
    this.at = at - litStart;
  }

  /** The full block the window holds, or -1. */
  private find(weak: number, data: Buffer, at: number): number {
    let strong: bigint | null = null;
    for (let j = this.index.first(weak); j >= 0; j = this.index.next(j)) {
      if (this.index.weak(j) !== weak) continue;
      strong ??= strongHash(data, at, this.bs);
      if (strongOf(this.sig, j) === strong) return j;
    }
    return -1;
  }

  private sameBlock(j: number, data: Buffer, at: number, length: number): boolean {
    return weakSum(data, at, length) === this.sig.weak.readUInt32BE(j * 4) && strongHash(data, at, length) === strongOf(this.sig, j);
  }

  private copy(j: number): void {
    this.guess = j + 1 < this.full ? j + 1 : -1;
    if (this.run !== null && this.run.first + this.run.count === j) this.run.count++;
    else {
      this.flushRun();
      this.run = { first: j, count: 1 };
    }
    if (this.run.count * this.bs >= RUN_FLUSH_BYTES) this.flushRun();
  }

  private flushRun(): void {
    if (this.run === null) return;
    this.out.push(encodeCopy(this.run.first, this.run.count));
    this.run = null;
  }

  private literal(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.flushRun();
    for (let off = 0; off < bytes.length; off += MAX_LITERAL) {
      // copied: `bytes` is a view into the pending buffer, which is reused
      this.out.push(...encodeLiteral(Buffer.from(bytes.subarray(off, off + MAX_LITERAL))));
    }
  }

  private take(): Buffer[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/**
 * The delta of `chunks` (the new file) against the basis that `sig` describes, as encoded ops; `hashOf`
 * settles, once the chunks are through, with their XXH64 (a read stream's trailer).
 */
export async function* deltaOf(chunks: AsyncIterable<Buffer>, sig: BlockSignature, hashOf: () => Promise<string>): AsyncGenerator<Buffer> {
  await loadHasher();
  const m = new DeltaMatcher(sig);
  for await (const chunk of chunks) yield* m.push(chunk);
  yield* m.finish(await hashOf());
}
