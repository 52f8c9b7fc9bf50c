// What the receiving side knows of its current file: per block of `blockSize` bytes (the last one may be
// shorter) a weak rolling checksum and a strong hash. The sender needs nothing else to find the blocks it
// can refer to instead of sending them.
import { hash64 } from '../hash/xxhash.js';
import { weakSum } from './rolling-checksum.js';

/**
 * Bytes of the strong hash kept per block: its XXH64, whole. With the 32-bit weak sum a false match is ~2^-96
 * per try, and the final whole-file hash catches the rest. Why not MD5 (as before, and as rsync < 3.2): it ran
 * at a fraction of XXH64's speed and was most of a large delta's CPU on both sides; rsync ≥ 3.2 moved to xxh
 * too. The data is the user's own file against its own older version, so there is no one to forge a collision.
 */
export const STRONG_BYTES = 8;
export const MIN_BLOCK = 2048;
export const MAX_BLOCK = 128 * 1024;

export interface BlockSignature {
  readonly blockSize: number;
  /** The basis file's size: the block count and the last block's length follow from it. */
  readonly size: number;
  /** 4 bytes per block, big-endian. */
  readonly weak: Buffer;
  /** STRONG_BYTES per block. */
  readonly strong: Buffer;
}

export class SignatureFormatError extends Error {
  readonly code = 'DELTA_SIGNATURE';
  constructor(message: string) {
    super(message);
    this.name = 'SignatureFormatError';
  }
}

/** About √size, as rsync picks it: the signature and the literal slack around an edit grow alike. Whole KiB within [MIN_BLOCK, MAX_BLOCK]. */
export function blockSizeFor(size: number): number {
  const root = Math.ceil(Math.sqrt(size) / 1024) * 1024;
  return Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, root));
}

export function blockCount(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

/** A block's strong hash (the hasher must be loaded: hash/xxhash.ts loadHasher). */
export function strongHash(data: Uint8Array, start: number, length: number): bigint {
  return hash64(data.subarray(start, start + length));
}

/** Block `j`'s strong hash as the signature holds it. */
export function strongOf(sig: BlockSignature, j: number): bigint {
  return sig.strong.readBigUInt64BE(j * STRONG_BYTES);
}

/** Builds the signature of a file read in chunks of any sizes. */
export class SignatureBuilder {
  private readonly weak: number[] = [];
  private readonly strong: bigint[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private size = 0;

  constructor(private readonly blockSize: number) {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new SignatureFormatError(`a block size of ${blockSize}`);
  }

  push(chunk: Buffer): void {
    this.size += chunk.length;
    const bs = this.blockSize;
    let at = 0;
    if (this.pending.length > 0) {
      // only the block that spans the cut is copied together, not the whole chunk behind it
      const need = bs - this.pending.length;
      if (chunk.length < need) {
        this.pending = Buffer.concat([this.pending, chunk]);
        return;
      }
      this.addBlock(Buffer.concat([this.pending, chunk.subarray(0, need)]), 0, bs);
      at = need;
    }
    for (; chunk.length - at >= bs; at += bs) this.addBlock(chunk, at, bs);
    // a copy: the caller may reuse its chunk's memory
    this.pending = at < chunk.length ? Buffer.from(chunk.subarray(at)) : Buffer.alloc(0);
  }

  finish(): BlockSignature {
    if (this.pending.length > 0) this.addBlock(this.pending, 0, this.pending.length);
    this.pending = Buffer.alloc(0);
    const n = this.weak.length;
    const weak = Buffer.allocUnsafe(n * 4);
    const strong = Buffer.allocUnsafe(n * STRONG_BYTES);
    for (let j = 0; j < n; j++) {
      weak.writeUInt32BE(this.weak[j] as number, j * 4);
      strong.writeBigUInt64BE(this.strong[j] as bigint, j * STRONG_BYTES);
    }
    return { blockSize: this.blockSize, size: this.size, weak, strong };
  }

  private addBlock(data: Buffer, start: number, length: number): void {
    this.weak.push(weakSum(data, start, length));
    this.strong.push(strongHash(data, start, length));
  }
}

export function signatureOf(data: Buffer, blockSize: number): BlockSignature {
  const b = new SignatureBuilder(blockSize);
  b.push(data);
  return b.finish();
}

/** A signature from the other side must be self-consistent before it sizes any loop or lookup. */
export function checkSignature(sig: BlockSignature): void {
  const n = blockCount(sig.size, sig.blockSize);
  if (!Number.isSafeInteger(sig.size) || sig.size < 0) throw new SignatureFormatError(`a basis size of ${sig.size}`);
  if (!Number.isInteger(sig.blockSize) || sig.blockSize < MIN_BLOCK || sig.blockSize > MAX_BLOCK) throw new SignatureFormatError(`a block size of ${sig.blockSize}`);
  if (sig.weak.length !== n * 4 || sig.strong.length !== n * STRONG_BYTES)
    throw new SignatureFormatError(`${n} blocks, but ${sig.weak.length / 4} weak and ${sig.strong.length / STRONG_BYTES} strong sums`);
}
