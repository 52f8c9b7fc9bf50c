// A scan's entries cross the wire as a stream of batches, not as one reply: a reply is one frame, and a
// frame is capped (frame.ts MAX_FRAME), while a tree of 100,000 files encodes to some 30 MB. Each batch is
// a u32 length and a codec value (a Map of at most ENTRY_BATCH entries), so no frame ever holds more than
// one batch, and the receiver checks each batch as it arrives.
import type { RelPath, ScannedEntry } from '../core/types.js';
import { MAX_FRAME } from './frame.js';
import { ProtocolError } from './protocol-error.js';
import { type CodecValue, decodeValue, encodeValue } from './value-codec.js';

export const ENTRY_BATCH = 2000;

export async function* entryBatches(entries: ReadonlyMap<RelPath, ScannedEntry>): AsyncGenerator<Buffer> {
  let batch = new Map<RelPath, ScannedEntry>();
  for (const [path, scanned] of entries) {
    batch.set(path, scanned);
    if (batch.size < ENTRY_BATCH) continue;
    yield lengthPrefixed(batch);
    batch = new Map();
  }
  if (batch.size > 0) yield lengthPrefixed(batch);
}

function lengthPrefixed(batch: Map<RelPath, ScannedEntry>): Buffer {
  const body = encodeValue(batch as unknown as CodecValue);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Reads the batches back, handing each decoded value to `onBatch` (which checks its shape). */
export async function readEntryBatches(chunks: AsyncIterable<Buffer>, onBatch: (value: CodecValue) => void): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readUInt32BE(0);
      if (size > MAX_FRAME) throw new ProtocolError(`a scan batch of ${size} bytes exceeds the limit of ${MAX_FRAME}`);
      if (pending.length < 4 + size) break;
      onBatch(decodeValue(pending, 4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  }
  if (pending.length > 0) throw new ProtocolError('a scan stream ended inside a batch');
}
