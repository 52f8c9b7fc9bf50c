// The receiving side: the new file rebuilt from the basis's blocks and the literals, in order, as chunks
// (stream-copy.ts's installStream writes, hashes and installs them like any other stream).
import { blockCount } from './block-signature.js';
import { DeltaFormatError, DeltaOpDecoder } from './delta-ops.js';

/** The basis file as the signature saw it. */
export interface BasisReader {
  readonly size: number;
  readonly blockSize: number;
  /** Exactly `length` bytes at `offset` (within `size`). */
  read(offset: number, length: number): Promise<Buffer>;
}

/** Basis bytes are read in pieces of at most this, so a long run of references needs no large buffer. */
export const READ_PIECE = 1024 * 1024;

/** The hash the sender read, from the delta's end op: known once the chunks are through. */
export interface RebuiltHash {
  hash: string | null;
}

export async function* applyDelta(ops: AsyncIterable<Buffer>, basis: BasisReader, sent: RebuiltHash = { hash: null }): AsyncGenerator<Buffer> {
  const decoder = new DeltaOpDecoder();
  const blocks = blockCount(basis.size, basis.blockSize);
  for await (const chunk of ops) {
    for (const op of decoder.push(chunk)) {
      if (op.kind === 'literal') {
        yield op.data;
        continue;
      }
      if (op.kind === 'end') {
        sent.hash = op.hash;
        continue;
      }
      if (op.first + op.count > blocks) throw new DeltaFormatError(`blocks ${op.first}+${op.count} of a basis of ${blocks}`);
      const start = op.first * basis.blockSize;
      const end = Math.min(basis.size, (op.first + op.count) * basis.blockSize);
      yield* readAhead(basis, start, end);
    }
  }
  decoder.finish();
}

/**
 * The basis's bytes in [start, end), each piece's read started before the one before it is handed on: the
 * disk (or page cache copy) works while the consumer hashes and writes the last piece.
 */
async function* readAhead(basis: BasisReader, start: number, end: number): AsyncGenerator<Buffer> {
  const readAt = (off: number): Promise<Buffer> => {
    const p = basis.read(off, Math.min(READ_PIECE, end - off));
    // awaited below; until then a failure must not count as unhandled (a consumer that stops early never awaits it)
    p.catch(() => undefined);
    return p;
  };
  let next = readAt(start);
  for (let off = start; off < end; off += READ_PIECE) {
    const piece = await next;
    if (off + READ_PIECE < end) next = readAt(off + READ_PIECE);
    yield piece;
  }
}
