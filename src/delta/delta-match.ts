// The sending side of rsync's algorithm: the new file is read once, a window of one block rolled along it
// byte by byte. Where the window's weak sum is one of the basis's and the strong hash agrees, the block is
// sent as a reference and the window jumps a whole block; the bytes between references go as literals.
// So an edit costs its own bytes plus at most a block on either side, at any offset (an insertion shifts
// nothing that follows it out of reach), and the basis is never read here: the signature is all it takes.
import { type BlockSignature, blockCount, STRONG_BYTES, strongHash } from './block-signature.js';
import { encodeCopy, encodeEnd, encodeLiteral, MAX_LITERAL } from './delta-ops.js';
import { type RollingState, roll, rollingStart, rollingValue, weakSum } from './rolling-checksum.js';

export class DeltaMatcher {
  private readonly bs: number;
  /** Weak sum -> the full blocks that have it. */
  private readonly index = new Map<number, number[]>();
  /** The basis's last block when it is shorter than a block (-1: none): matched only at the file's end. */
  private readonly tailBlock: number;
  private readonly tailLength: number;
  /** The bytes not yet sent or referred to, from the start of the pending literal. */
  private pending: Buffer = Buffer.alloc(0);
  /** Where the window starts, in `pending`. */
  private at = 0;
  private window: RollingState | null = null;
  /** A run of consecutive block references not yet written. */
  private run: { first: number; count: number } | null = null;
  private out: Buffer[] = [];

  constructor(private readonly sig: BlockSignature) {
    this.bs = sig.blockSize;
    const n = blockCount(sig.size, sig.blockSize);
    const full = Math.floor(sig.size / sig.blockSize);
    for (let j = 0; j < full; j++) {
      const w = sig.weak.readUInt32BE(j * 4);
      const list = this.index.get(w);
      if (list === undefined) this.index.set(w, [j]);
      else list.push(j);
    }
    this.tailBlock = n > full ? full : -1;
    this.tailLength = sig.size - full * sig.blockSize;
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
    let at = this.at;
    let litStart = 0;
    let w = this.window;
    while (at + bs <= data.length) {
      if (w === null) w = rollingStart(data, at, bs);
      const hit = this.find(rollingValue(w), data, at);
      if (hit >= 0) {
        this.literal(data.subarray(litStart, at));
        this.copy(hit);
        at += bs;
        litStart = at;
        w = null;
        continue;
      }
      if (at + bs < data.length) roll(w, data[at] as number, data[at + bs] as number);
      else w = null;
      at++;
      if (at - litStart >= MAX_LITERAL) {
        this.literal(data.subarray(litStart, at));
        litStart = at;
      }
    }
    this.window = w;
    this.pending = data.subarray(litStart);
    this.at = at - litStart;
  }

  /** The block the window holds, or -1; the one after the last reference first, so that runs stay runs. */
  private find(weak: number, data: Buffer, at: number): number {
    const candidates = this.index.get(weak);
    if (candidates === undefined) return -1;
    const strong = strongHash(data, at, this.bs);
    const next = this.run === null ? -1 : this.run.first + this.run.count;
    if (next >= 0 && this.strongIs(next, strong) && candidates.includes(next)) return next;
    for (const j of candidates) if (this.strongIs(j, strong)) return j;
    return -1;
  }

  private sameBlock(j: number, data: Buffer, at: number, length: number): boolean {
    return weakSum(data, at, length) === this.sig.weak.readUInt32BE(j * 4) && this.strongIs(j, strongHash(data, at, length));
  }

  private strongIs(j: number, strong: Buffer): boolean {
    if (j * STRONG_BYTES >= this.sig.strong.length) return false;
    return this.sig.strong.compare(strong, 0, STRONG_BYTES, j * STRONG_BYTES, (j + 1) * STRONG_BYTES) === 0;
  }

  private copy(j: number): void {
    if (this.run !== null && this.run.first + this.run.count === j) {
      this.run.count++;
      return;
    }
    this.flushRun();
    this.run = { first: j, count: 1 };
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
  const m = new DeltaMatcher(sig);
  for await (const chunk of chunks) yield* m.push(chunk);
  yield* m.finish(await hashOf());
}
