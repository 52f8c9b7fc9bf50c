import type { FileHandle } from 'node:fs/promises';
import { streamingHash } from '../hash/xxhash.js';

/**
 * The unit of hole detection: a block of this many zero bytes (aligned in the file) is not written.
 * 4 KiB is the block size of ext4, xfs and btrfs by default; a larger file-system block still gets a
 * hole wherever all of its 4 KiB pieces are skipped.
 */
export const HOLE_BLOCK = 4096;
const CHUNK = 1 << 20; // a multiple of HOLE_BLOCK: every chunk starts on a block boundary
const ZEROS = Buffer.alloc(HOLE_BLOCK);

/**
 * Calls `write(from, to)` for each run of `data` (which starts at a block-aligned file offset) that is
 * not made of whole zero blocks; the zero blocks in between are left unwritten, to become holes.
 * A file whose length is not reached by the last write must be extended afterwards (ftruncate).
 */
export function writeSkippingZeros(data: Buffer, write: (from: number, to: number) => void): void {
  let runStart = -1;
  for (let off = 0; off < data.length; off += HOLE_BLOCK) {
    const end = Math.min(off + HOLE_BLOCK, data.length);
    const zero = data.subarray(off, end).equals(end - off === HOLE_BLOCK ? ZEROS : ZEROS.subarray(0, end - off));
    if (zero) {
      if (runStart >= 0) write(runStart, off);
      runStart = -1;
    } else if (runStart < 0) {
      runStart = off;
    }
  }
  if (runStart >= 0) write(runStart, data.length);
}

/**
 * Copies an open file with holes into an open, empty file: reads it in block-aligned chunks, hashes
 * every byte (a hole reads as zeros, so the hash is of the logical content), writes only the blocks that
 * are not all zero, and sets the length with ftruncate at the end (a file ending in a hole). Node has no
 * SEEK_DATA/SEEK_HOLE, so the holes are found by looking at the bytes, as `cp --sparse=auto` does.
 */
export async function sparseCopy(src: FileHandle, dst: FileHandle): Promise<{ hash: string; bytes: number }> {
  const h = streamingHash();
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  for (;;) {
    let got = 0;
    // fill the whole chunk (short reads happen) so that the next one starts block-aligned again
    while (got < CHUNK) {
      const { bytesRead } = await src.read(buf, got, CHUNK - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got === 0) break;
    const chunk = buf.subarray(0, got);
    h.update(chunk);
    const runs: [number, number][] = [];
    writeSkippingZeros(chunk, (from, to) => runs.push([from, to]));
    for (const [from, to] of runs) {
      let off = from;
      while (off < to) off += (await dst.write(chunk, off, to - off, pos + off)).bytesWritten;
    }
    pos += got;
    if (got < CHUNK) break;
  }
  await dst.truncate(pos);
  return { hash: h.digestHex(), bytes: pos };
}
