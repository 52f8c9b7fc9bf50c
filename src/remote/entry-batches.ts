// A scan's entries cross the wire as a stream of batches, not as one reply: a reply is one frame, and a
// frame is capped (frame.ts MAX_FRAME), while a tree of 100,000 files encodes to megabytes. Each batch is
// a u32 length and at most ENTRY_BATCH entries (scan-batch-codec.ts), so no frame ever holds more than
// one batch, and the receiver checks each batch as it arrives.
import type { RelPath, ScannedEntry } from '../core/types.js';
import { MAX_FRAME } from './frame.js';
import { ProtocolError } from './protocol-error.js';
import { decodeScanBatch, encodeScanBatch } from './scan-batch-codec.js';

export const ENTRY_BATCH = 2000;

export async function* entryBatches(entries: ReadonlyMap<RelPath, ScannedEntry>): AsyncGenerator<Buffer> {
  let batch: [RelPath, ScannedEntry][] = [];
  for (const pair of entries) {
    batch.push(pair);
    if (batch.length < ENTRY_BATCH) continue;
    yield lengthPrefixed(batch);
    batch = [];
  }
  if (batch.length > 0) yield lengthPrefixed(batch);
}

function lengthPrefixed(batch: readonly (readonly [RelPath, ScannedEntry])[]): Buffer {
  const body = encodeScanBatch(batch);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Reads the batches back, handing each entry to `onEntry` once its batch's row for it is checked. */
export async function readEntryBatches(chunks: AsyncIterable<Buffer>, onEntry: (path: RelPath, scanned: ScannedEntry) => void): Promise<void> {
  // chunks are gathered until a whole batch is there, then joined once (not once per chunk)
  let parts: Buffer[] = [];
  let have = 0;
  let want = 4;
  for await (const chunk of chunks) {
    parts.push(chunk);
    have += chunk.length;
    if (have < want) continue;
    let pending = parts.length === 1 ? chunk : Buffer.concat(parts, have);
    for (;;) {
      if (pending.length < 4) {
        want = 4;
        break;
      }
      const size = pending.readUInt32BE(0);
      if (size > MAX_FRAME) throw new ProtocolError(`a scan batch of ${size} bytes exceeds the limit of ${MAX_FRAME}`);
      if (pending.length < 4 + size) {
        want = 4 + size;
        break;
      }
      decodeScanBatch(pending, 4, 4 + size, onEntry);
      pending = pending.subarray(4 + size);
    }
    parts = pending.length === 0 ? [] : [pending];
    have = pending.length;
  }
  if (have > 0) throw new ProtocolError('a scan stream ended inside a batch');
}
