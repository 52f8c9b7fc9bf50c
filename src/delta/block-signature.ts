// What the receiving side knows of its current file: per block of `blockSize` bytes (the last one may be
// shorter) a weak rolling checksum and a strong hash. The sender needs nothing else to find the blocks it
// can refer to instead of sending them.
import { createHash } from 'node:crypto';
import { weakSum } from './rolling-checksum.js';

/** Bytes of the strong hash kept per block (MD5, cut): with the 32-bit weak sum, a false match is ~2^-96 per try; the final whole-file hash catches the rest. */
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

export function strongHash(data: Uint8Array, start: number, length: number): Buffer {
  return createHash('md5')
    .update(data.subarray(start, start + length))
    .digest()
    .subarray(0, STRONG_BYTES);
}

/** Builds the signature of a file read in chunks of any sizes. */
export class SignatureBuilder {
  private readonly weak: Buffer[] = [];
  private readonly strong: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private size = 0;

  constructor(private readonly blockSize: number) {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new SignatureFormatError(`a block size of ${blockSize}`);
  }

  push(chunk: Buffer): void {
    this.size += chunk.length;
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (data.length - at >= this.blockSize) {
      this.addBlock(data, at, this.blockSize);
      at += this.blockSize;
    }
    data = data.subarray(at);
    // a copy: the caller may reuse its chunk's memory
    this.pending = Buffer.from(data);
  }

  finish(): BlockSignature {
    if (this.pending.length > 0) this.addBlock(this.pending, 0, this.pending.length);
    this.pending = Buffer.alloc(0);
    return { blockSize: this.blockSize, size: this.size, weak: Buffer.concat(this.weak), strong: Buffer.concat(this.strong) };
  }

  private addBlock(data: Buffer, start: number, length: number): void {
    const w = Buffer.allocUnsafe(4);
    w.writeUInt32BE(weakSum(data, start, length), 0);
    this.weak.push(w);
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
