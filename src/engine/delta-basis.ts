// The receiving side's file I/O for a delta transfer: the signature of the file it holds, and that file
// read back as the basis the new one is rebuilt from. Both open it O_NOFOLLOW through the caller's
// descriptor-anchored path and hold it to the scan: a basis that is not the inode, size and times the scan
// saw (before, or after it was read) is a stale target, as for any other write to it.
import { type BigIntStats, constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fsPromises } from '../fs/lazy-promises.js';
import type { Expectation, StatId } from '../core/types.js';
import { type BlockSignature, SignatureBuilder } from '../delta/block-signature.js';
import { applyDelta, type BasisReader, READ_PIECE, type RebuiltHash } from '../delta/delta-apply.js';
import { errCode, statIdOf } from '../fs/stat.js';
import { HASH_CHUNK, loadHasher } from '../hash/xxhash.js';
import { changedSince, sameStat } from './copy-file.js';
import { StaleTargetError } from './guards.js';
import { alternatingBuffers } from './read-buffers.js';

/** A basis is a file as scanned. */
export type FileExpectation = NonNullable<Expectation> & { readonly kind: 'file' };

async function openAsScanned(abs: Buffer, expect: FileExpectation, label: string): Promise<{ fh: FileHandle; before: BigIntStats }> {
  const fh = await fsPromises()
    .open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    .catch((e: unknown) => {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ELOOP') throw new StaleTargetError(`${label}: the file to update changed since the scan`);
      throw e;
    });
  try {
    const before = await fh.stat({ bigint: true });
    if (!before.isFile() || !sameStat(statIdOf(before), expect as StatId)) throw new StaleTargetError(`${label}: the file to update changed since the scan`);
    return { fh, before };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number, label: string): Promise<Buffer> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new StaleTargetError(`${label}: the file to update shrank while it was read`);
    got += bytesRead;
  }
  return buf.subarray(0, length);
}

/** Block sums of the file at `abs`, which must be as `expect` saw it before and after the read. */
export async function signatureOfFile(abs: Buffer, expect: FileExpectation, blockSize: number, label: string): Promise<BlockSignature> {
  await loadHasher();
  const { fh, before } = await openAsScanned(abs, expect, label);
  try {
    const size = Number(before.size);
    const builder = new SignatureBuilder(blockSize);
    // two buffers: the next piece is read while this one is summed
    const buffers = [Buffer.allocUnsafe(Math.min(HASH_CHUNK, size)), Buffer.allocUnsafe(Math.min(HASH_CHUNK, size))];
    const readPiece = (pos: number, i: number): Promise<Buffer> => {
      const p = readFully(fh, buffers[i % 2] as Buffer, Math.min(HASH_CHUNK, size - pos), pos, label);
      // awaited in turn below; a sum that throws first must not leave it unhandled
      p.catch(() => undefined);
      return p;
    };
    let next = size > 0 ? readPiece(0, 0) : null;
    for (let pos = 0, i = 0; next !== null; pos += HASH_CHUNK, i++) {
      const piece = await next;
      next = pos + HASH_CHUNK < size ? readPiece(pos + HASH_CHUNK, i + 1) : null;
      builder.push(piece);
    }
    if (changedSince(await fh.stat({ bigint: true }), before)) throw new StaleTargetError(`${label}: the file to update changed while its signature was taken`);
    return builder.finish();
  } finally {
    await fh.close();
  }
}

/**
 * The new file's bytes, rebuilt from `ops` and the basis at `abs` (held open for the whole rebuild, and
 * checked unchanged at its end); `sent` receives the hash from the delta's end op for the install to check.
 */
export async function* rebuildFromBasis(abs: Buffer, expect: FileExpectation, blockSize: number, ops: AsyncIterable<Buffer>, sent: RebuiltHash, label: string): AsyncGenerator<Buffer> {
  const { fh, before } = await openAsScanned(abs, expect, label);
  try {
    const size = Number(before.size);
    // applyDelta reads one piece ahead, and its one consumer (stream-copy.ts installStream) hashes and writes
    // each piece before it asks for the next: two buffers in turn are enough
    const buffers = alternatingBuffers(Math.min(READ_PIECE, size));
    const basis: BasisReader = {
      size,
      blockSize,
      read: (offset, length) => readFully(fh, buffers.take(length), length, offset, label),
    };
    yield* applyDelta(ops, basis, sent);
    if (changedSince(await fh.stat({ bigint: true }), before)) throw new StaleTargetError(`${label}: the file to update changed while the new version was built from it`);
  } finally {
    await fh.close();
  }
}
