// A scan's entries cross the wire as a stream of batches, not as one reply: a reply is one frame, and a
// frame is capped (frame.ts MAX_FRAME), while a tree of 100,000 files encodes to megabytes. Each batch is
// a u32 length and at most ENTRY_BATCH entries (scan-batch-codec.ts), so no frame ever holds more than
// one batch, and the receiver checks each batch as it arrives.
import type { RelPath, ScannedEntry } from '../core/types.js';
import { MAX_FRAME } from './frame.js';
import { ProtocolError } from './protocol-error.js';
import { decodeScanBatch, encodeScanBatch } from './scan-batch-codec.js';
import { type CodecValue, decodeValue, encodeValue } from './value-codec.js';

export const ENTRY_BATCH = 2000;

/**
 * In a streamed scan (streamedEntryBatches), the length that says "no more batches: the summary follows", as a
 * u32 length and the summary's value-codec bytes. No batch can have it: it is far above MAX_FRAME.
 */
const TRAILER_MARK = 0xffffffff;

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

/**
 * A scan's entries as they come (each part: the entries a slice of the walk made final), then the summary that
 * only the end of the walk knows (its count, problems, ignore rules read), after TRAILER_MARK.
 */
export async function* streamedEntryBatches(parts: AsyncIterable<readonly (readonly [RelPath, ScannedEntry])[]>, summary: () => CodecValue): AsyncGenerator<Buffer> {
  for await (const part of parts) {
    for (let at = 0; at < part.length; at += ENTRY_BATCH) yield lengthPrefixed(part.slice(at, at + ENTRY_BATCH));
  }
  const body = encodeValue(summary());
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(TRAILER_MARK, 0);
  head.writeUInt32BE(body.length, 4);
  yield Buffer.concat([head, body]);
}

function lengthPrefixed(batch: readonly (readonly [RelPath, ScannedEntry])[]): Buffer {
  const body = encodeScanBatch(batch);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Reads the batches back, handing each entry to `onEntry` once its batch's row for it is checked. `streamed`: the
 * stream ends with a summary (streamedEntryBatches), which is returned (else undefined); a stream without one is a
 * protocol error.
 */
export async function readEntryBatches(chunks: AsyncIterable<Buffer>, onEntry: (path: RelPath, scanned: ScannedEntry) => void, streamed = false): Promise<CodecValue | undefined> {
  let summary: CodecValue | undefined;
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
      if (summary !== undefined && pending.length > 0) throw new ProtocolError('a scan stream went on after its summary');
      if (pending.length < 4) {
        want = 4;
        break;
      }
      const size = pending.readUInt32BE(0);
      if (streamed && size === TRAILER_MARK) {
        if (pending.length < 8) {
          want = 8;
          break;
        }
        const length = pending.readUInt32BE(4);
        if (length > MAX_FRAME) throw new ProtocolError(`a scan summary of ${length} bytes exceeds the limit of ${MAX_FRAME}`);
        if (pending.length < 8 + length) {
          want = 8 + length;
          break;
        }
        summary = decodeValue(pending, 8, 8 + length);
        pending = pending.subarray(8 + length);
        continue;
      }
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
  if (streamed && summary === undefined) throw new ProtocolError('a scan stream ended without its summary');
  return summary;
}
