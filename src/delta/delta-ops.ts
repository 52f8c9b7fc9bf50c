// The delta stream's encoding: a sequence of ops, cut into chunks anywhere by the transport.
//
//   copy     u8 1 + u32 first block + u32 count   (count ≥ 1 consecutive blocks of the basis)
//   literal  u8 2 + u32 length + that many bytes  (1 ≤ length ≤ MAX_LITERAL)
//   end      u8 3 + 8 bytes: the XXH64 of the whole new file, as the sender read it (last, exactly once)
//
// Why the hash travels in the stream: the receiver must check the rebuilt file before it renames it into
// place, and the sender knows the hash only once it has read the whole file, i.e. at the stream's end.
//
// Why lengths up front: the decoder sizes nothing from the stream beyond MAX_LITERAL, and a chunk may end
// in the middle of an op header or a literal's bytes.

export const OP_COPY = 1;
export const OP_LITERAL = 2;
/** The largest literal op: a long run of new bytes is sent as several. */
export const OP_END = 3;
export const MAX_LITERAL = 256 * 1024;
const HEADER = 9;
const LITERAL_HEADER = 5;
const END_LENGTH = 9;

export type DeltaOp =
  | { readonly kind: 'copy'; readonly first: number; readonly count: number }
  | { readonly kind: 'literal'; readonly data: Buffer }
  | { readonly kind: 'end'; readonly hash: string };

export class DeltaFormatError extends Error {
  readonly code = 'DELTA_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'DeltaFormatError';
  }
}

export function encodeCopy(first: number, count: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER);
  b[0] = OP_COPY;
  b.writeUInt32BE(first, 1);
  b.writeUInt32BE(count, 5);
  return b;
}

/** The header and the bytes, not copied into one buffer. */
export function encodeLiteral(data: Buffer): Buffer[] {
  if (data.length === 0 || data.length > MAX_LITERAL) throw new DeltaFormatError(`a literal of ${data.length} bytes`);
  const h = Buffer.allocUnsafe(LITERAL_HEADER);
  h[0] = OP_LITERAL;
  h.writeUInt32BE(data.length, 1);
  return [h, data];
}

/** `hash`: 16 hex digits (hash/xxhash.ts hexOf). */
export function encodeEnd(hash: string): Buffer {
  if (!/^[0-9a-f]{16}$/.test(hash)) throw new DeltaFormatError(`a hash of "${hash}"`);
  return Buffer.concat([Buffer.from([OP_END]), Buffer.from(hash, 'hex')]);
}

/** Reads ops back from chunks split anywhere. */
export class DeltaOpDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;

  push(chunk: Buffer): DeltaOp[] {
    const data = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: DeltaOp[] = [];
    let at = 0;
    for (;;) {
      if (at >= data.length) break;
      if (this.ended) throw new DeltaFormatError('ops after the end of the delta');
      const tag = data[at];
      if (tag === OP_COPY) {
        if (data.length - at < HEADER) break;
        const first = data.readUInt32BE(at + 1);
        const count = data.readUInt32BE(at + 5);
        if (count === 0) throw new DeltaFormatError('a copy of no blocks');
        out.push({ kind: 'copy', first, count });
        at += HEADER;
      } else if (tag === OP_LITERAL) {
        if (data.length - at < LITERAL_HEADER) break;
        const length = data.readUInt32BE(at + 1);
        if (length === 0 || length > MAX_LITERAL) throw new DeltaFormatError(`a literal of ${length} bytes`);
        if (data.length - at - LITERAL_HEADER < length) break;
        // a copy: the op outlives the chunk it came in
        out.push({ kind: 'literal', data: Buffer.from(data.subarray(at + LITERAL_HEADER, at + LITERAL_HEADER + length)) });
        at += LITERAL_HEADER + length;
      } else if (tag === OP_END) {
        if (data.length - at < END_LENGTH) break;
        out.push({ kind: 'end', hash: data.subarray(at + 1, at + END_LENGTH).toString('hex') });
        this.ended = true;
        at += END_LENGTH;
      } else throw new DeltaFormatError(`an op of kind ${String(tag)}`);
    }
    this.buf = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
    return out;
  }

  /** The stream ended: it must end with its end op. */
  finish(): void {
    if (this.buf.length > 0) throw new DeltaFormatError(`the delta ends inside an op (${this.buf.length} bytes left)`);
    if (!this.ended) throw new DeltaFormatError('the delta ends without its hash');
  }
}
