// Framing of the byte stream between tsync and its agent (after the SSH helper's one-line text preamble).
//
//   frame   = u32 length (big-endian) + payload of that many bytes
//   payload = u8 kind + u32 id (big-endian) + body
//   id      = the request id (31 bits) of the call the frame belongs to; the top bit is set when that call was
//             made by the frame's receiver (a result, or a download's data), clear when by its sender (a call,
//             or an upload's data), so that the two sides' ids, chosen independently, never collide
//
//   kind                body
//   1 call              codec [method: string, args]
//   2 call-upload       codec [method: string, args]; then data frames with the same id, then end or abort
//   3 result            codec value
//   4 result-download   codec value; then data frames with the same id, then end or abort
//   5 error             codec { name, message, code?, errno?, syscall?, kind? }: the call failed
//   6 data              raw bytes: the next chunk of the stream with this id (not codec-encoded: no copy, no tag)
//   7 end               empty: the stream with this id is complete
//   8 abort             codec { name, message, ... }: the stream's sender failed; the stream is incomplete
//   9 cancel            empty: the stream's receiver wants no more (the sender stops and sends end or abort)
//   10 ping, 11 pong    empty, id 0: keepalive
//   12 data-deflated    as data, the chunk compressed (raw deflate): sent only after `open` agreed to --compress
//   kind | 0x80         a call, call-upload, result or result-download whose codec value is raw-deflated (--compress;
//                       values of 512 bytes or more, when that makes them smaller); on any other kind, refused
//
// Why length-prefixed: a reader knows where each frame ends without scanning its bytes, so any byte may
// appear in a payload (raw file data, binary names), and a chunk split anywhere by the pipe reassembles.
// Why the limits: the length is read before the payload exists, so it is checked against MAX_FRAME before
// any buffer is sized by it; a corrupt or hostile length costs at most MAX_FRAME bytes, never a huge
// allocation or an endless wait. Streams are cut into data frames of at most MAX_DATA_CHUNK, so a large
// file never needs one large buffer and the replies of other calls interleave with it.
import { createRequire } from 'node:module';
import { ProtocolError } from './protocol-error.js';
import { decodeValue, encodeValueParts, type CodecValue } from './value-codec.js';
import { wireErrorFrom, type WireError } from './wire-error.js';

/** The largest payload accepted (and sent). */
export const MAX_FRAME = 16 * 1024 * 1024;
/** The largest chunk a stream's data frame carries. */
export const MAX_DATA_CHUNK = 256 * 1024;

let zlibModule: typeof import('node:zlib') | undefined;

/**
 * node:zlib, loaded on the first compressed frame: only --compress needs it, so a remote run without it
 * (and the agent serving one) does not pay for loading zlib at start-up (issue 11).
 */
function zlib(): typeof import('node:zlib') {
  zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  return zlibModule;
}

const LENGTH_BYTES = 4;
const HEADER_BYTES = LENGTH_BYTES + 1 + 4;

const KIND = {
  call: 1,
  callUpload: 2,
  result: 3,
  resultDownload: 4,
  error: 5,
  data: 6,
  end: 7,
  abort: 8,
  cancel: 9,
  ping: 10,
  pong: 11,
  dataDeflated: 12,
} as const;

/**
 * --compress: raw deflate at level 1. File data is mostly already compressed or quick to squeeze; level 1
 * takes most of what deflate can take at a fraction of the CPU of higher levels (and brotli's fast levels
 * are slower still per byte), which matters when the link is fast and the compressing side is a laptop.
 * Each frame is compressed on its own: frames of different streams interleave, and no shared dictionary
 * has to survive a cancel or an abort.
 */
const DEFLATE_LEVEL = 1;

/**
 * Set in the kind byte of a call or result frame whose value went deflated (--compress): a batch of small files
 * travels as a call's value (engine/batch-copy.ts), not as data frames. Values smaller than this go plain.
 */
const VALUE_DEFLATED = 0x80;
const DEFLATE_VALUE_MIN = 512;

export type Message =
  | { readonly kind: 'call'; readonly id: number; readonly method: string; readonly args: CodecValue; readonly upload: boolean; readonly compress?: boolean }
  | { readonly kind: 'result'; readonly id: number; readonly value: CodecValue; readonly download: boolean; readonly compress?: boolean }
  | { readonly kind: 'error'; readonly id: number; readonly error: WireError }
  | { readonly kind: 'data'; readonly id: number; readonly chunk: Buffer; readonly compress?: boolean }
  | { readonly kind: 'end'; readonly id: number }
  | { readonly kind: 'abort'; readonly id: number; readonly error: WireError }
  | { readonly kind: 'cancel'; readonly id: number }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' };

/** For the frames that carry nothing after the id (null is a value a result may carry). */
const NO_BODY: unique symbol = Symbol('no body');

/** The frame's parts: the header in front of the first (encodeValueParts leaves room for it), long byte strings by reference. */
function withHeader(kind: number, id: number, body: CodecValue | typeof NO_BODY): Buffer[] {
  const parts = body === NO_BODY ? [Buffer.allocUnsafe(HEADER_BYTES)] : encodeValueParts(body, HEADER_BYTES);
  let length = 0;
  for (const p of parts) length += p.length;
  const payloadLength = length - LENGTH_BYTES;
  if (payloadLength > MAX_FRAME) throw new ProtocolError(`a frame of ${payloadLength} bytes exceeds the limit of ${MAX_FRAME}`);
  const head = parts[0] as Buffer;
  head.writeUInt32BE(payloadLength, 0);
  head[LENGTH_BYTES] = kind;
  head.writeUInt32BE(id, LENGTH_BYTES + 1);
  return parts;
}

/**
 * The bytes of one message, ready to write, in parts: long byte strings in a value, and a data frame's chunk,
 * are parts of their own, not copied (the caller must not change them until they are written). Throws
 * ProtocolError if a value cannot be encoded or the frame would exceed MAX_FRAME.
 */
export function encodeMessage(msg: Message): Buffer[] {
  switch (msg.kind) {
    case 'call':
      return deflatedIf(msg.compress, withHeader(msg.upload ? KIND.callUpload : KIND.call, msg.id, [msg.method, msg.args]));
    case 'result':
      return deflatedIf(msg.compress, withHeader(msg.download ? KIND.resultDownload : KIND.result, msg.id, msg.value));
    case 'error':
      return withHeader(KIND.error, msg.id, { ...msg.error });
    case 'abort':
      return withHeader(KIND.abort, msg.id, { ...msg.error });
    case 'data': {
      if (msg.chunk.length > MAX_DATA_CHUNK) throw new ProtocolError(`a data chunk of ${msg.chunk.length} bytes exceeds ${MAX_DATA_CHUNK}`);
      let chunk = msg.chunk;
      let kind: number = KIND.data;
      if (msg.compress === true) {
        const deflated = zlib().deflateRawSync(chunk, { level: DEFLATE_LEVEL });
        // what does not shrink (already compressed data) goes as it is: the receiver then skips the inflate too
        if (deflated.length < chunk.length) {
          chunk = deflated;
          kind = KIND.dataDeflated;
        }
      }
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      header.writeUInt32BE(HEADER_BYTES - LENGTH_BYTES + chunk.length, 0);
      header[LENGTH_BYTES] = kind;
      header.writeUInt32BE(msg.id, LENGTH_BYTES + 1);
      return [header, chunk];
    }
    case 'end':
      return withHeader(KIND.end, msg.id, NO_BODY);
    case 'cancel':
      return withHeader(KIND.cancel, msg.id, NO_BODY);
    case 'ping':
      return withHeader(KIND.ping, 0, NO_BODY);
    case 'pong':
      return withHeader(KIND.pong, 0, NO_BODY);
  }
}

/** The frame with its value deflated and VALUE_DEFLATED set, when asked and when that makes it smaller. */
function deflatedIf(compress: boolean | undefined, frame: Buffer[]): Buffer[] {
  if (compress !== true) return frame;
  const whole = frame.length === 1 ? (frame[0] as Buffer) : Buffer.concat(frame);
  if (whole.length - HEADER_BYTES < DEFLATE_VALUE_MIN) return [whole];
  const deflated = zlib().deflateRawSync(whole.subarray(HEADER_BYTES), { level: DEFLATE_LEVEL });
  if (deflated.length >= whole.length - HEADER_BYTES) return [whole];
  const header = Buffer.from(whole.subarray(0, HEADER_BYTES));
  header.writeUInt32BE(HEADER_BYTES - LENGTH_BYTES + deflated.length, 0);
  header[LENGTH_BYTES] = (header[LENGTH_BYTES] as number) | VALUE_DEFLATED;
  return [header, deflated];
}

/** A deflated value, inflated to at most MAX_FRAME bytes: a corrupt or hostile one (a zip bomb) is a ProtocolError. */
function inflatedValue(body: Buffer): Buffer {
  try {
    return zlib().inflateRawSync(body, { maxOutputLength: MAX_FRAME });
  } catch (e) {
    throw new ProtocolError(`a deflated frame could not be inflated: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A deflated chunk, inflated to at most MAX_DATA_CHUNK: a corrupt or hostile one (a zip bomb) is a ProtocolError. */
function inflated(body: Buffer): Buffer {
  try {
    return zlib().inflateRawSync(body, { maxOutputLength: MAX_DATA_CHUNK });
  } catch (e) {
    throw new ProtocolError(`a deflated data frame could not be inflated: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function wireErrorBody(v: CodecValue, what: string): WireError {
  const error = wireErrorFrom(v);
  if (error === undefined) throw new ProtocolError(`${what} frame without a name and message`);
  return error;
}

function emptyBody(payload: Buffer, what: string): void {
  if (payload.length !== 5) throw new ProtocolError(`${what} frame with a body of ${payload.length - 5} bytes`);
}

/** Reads one frame's payload (as FrameDecoder yields it) into a message; anything malformed is a ProtocolError. */
export function decodeMessage(payload: Buffer): Message {
  if (payload.length < 5) throw new ProtocolError(`a frame of ${payload.length} bytes has no kind and id`);
  const flagged = payload[0] as number;
  const id = payload.readUInt32BE(1);
  const deflated = (flagged & VALUE_DEFLATED) !== 0;
  const kind = flagged & ~VALUE_DEFLATED;
  if (deflated && kind !== KIND.call && kind !== KIND.callUpload && kind !== KIND.result && kind !== KIND.resultDownload) throw new ProtocolError(`unknown frame kind ${flagged}`);
  // the value: after the kind and id, or all of what they are followed by, inflated
  const value = (): CodecValue => (deflated ? decodeValue(inflatedValue(payload.subarray(5))) : decodeValue(payload, 5));
  switch (kind) {
    case KIND.call:
    case KIND.callUpload: {
      const body = value();
      if (!Array.isArray(body) || body.length !== 2 || typeof body[0] !== 'string') throw new ProtocolError('call frame without [method, args]');
      return { kind: 'call', id, method: body[0], args: body[1] as CodecValue, upload: kind === KIND.callUpload };
    }
    case KIND.result:
    case KIND.resultDownload:
      return { kind: 'result', id, value: value(), download: kind === KIND.resultDownload };
    case KIND.error:
      return { kind: 'error', id, error: wireErrorBody(decodeValue(payload, 5), 'error') };
    case KIND.abort:
      return { kind: 'abort', id, error: wireErrorBody(decodeValue(payload, 5), 'abort') };
    case KIND.data:
      return { kind: 'data', id, chunk: payload.subarray(5) };
    case KIND.dataDeflated:
      return { kind: 'data', id, chunk: inflated(payload.subarray(5)) };
    case KIND.end:
      emptyBody(payload, 'end');
      return { kind: 'end', id };
    case KIND.cancel:
      emptyBody(payload, 'cancel');
      return { kind: 'cancel', id };
    case KIND.ping:
      emptyBody(payload, 'ping');
      return { kind: 'ping' };
    case KIND.pong:
      emptyBody(payload, 'pong');
      return { kind: 'pong' };
    default:
      throw new ProtocolError(`unknown frame kind ${kind}`);
  }
}

/**
 * Cuts a byte stream, split into chunks anywhere, into whole frame payloads. A payload that fits in one
 * chunk is a view into it (no copy); one that spans chunks is assembled into a buffer sized only after
 * its length passed the MAX_FRAME check.
 */
export class FrameDecoder {
  private readonly lengthBytes = Buffer.alloc(LENGTH_BYTES);
  private lengthFill = 0;
  private partial: Buffer | null = null;
  private partialFill = 0;

  constructor(private readonly maxFrame = MAX_FRAME) {}

  /** The payloads completed by this chunk, in order. Throws ProtocolError on an impossible length. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.partial !== null) {
        const n = Math.min(this.partial.length - this.partialFill, chunk.length - off);
        chunk.copy(this.partial, this.partialFill, off, off + n);
        this.partialFill += n;
        off += n;
        if (this.partialFill === this.partial.length) {
          out.push(this.partial);
          this.partial = null;
        }
        continue;
      }
      let length: number;
      if (this.lengthFill === 0 && chunk.length - off >= LENGTH_BYTES) {
        length = chunk.readUInt32BE(off);
        off += LENGTH_BYTES;
      } else {
        const n = Math.min(LENGTH_BYTES - this.lengthFill, chunk.length - off);
        chunk.copy(this.lengthBytes, this.lengthFill, off, off + n);
        this.lengthFill += n;
        off += n;
        if (this.lengthFill < LENGTH_BYTES) break;
        this.lengthFill = 0;
        length = this.lengthBytes.readUInt32BE(0);
      }
      if (length > this.maxFrame) throw new ProtocolError(`a frame of ${length} bytes exceeds the limit of ${this.maxFrame}`);
      if (length < 5) throw new ProtocolError(`a frame of ${length} bytes has no kind and id`);
      if (chunk.length - off >= length) {
        out.push(chunk.subarray(off, off + length));
        off += length;
      } else {
        this.partial = Buffer.allocUnsafe(length);
        this.partialFill = 0;
      }
    }
    return out;
  }

  /** True between frames: a stream that ends here ended cleanly. */
  get atBoundary(): boolean {
    return this.partial === null && this.lengthFill === 0;
  }
}
