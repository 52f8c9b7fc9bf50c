// The delta stream's encoding: a sequence of ops, cut into chunks anywhere by the transport.
//
//   copy     u8 1 + u32 first block + u32 count   (count ≥ 1 consecutive blocks of the basis)
//   literal  u8 2 + u32 length + that many bytes  (1 ≤ length ≤ MAX_LITERAL)
//
// Why lengths up front: the decoder sizes nothing from the stream beyond MAX_LITERAL, and a chunk may end
// in the middle of an op header or a literal's bytes.

export const OP_COPY = 1;
export const OP_LITERAL = 2;
/** The largest literal op: a long run of new bytes is sent as several. */
export const MAX_LITERAL = 256 * 1024;
const HEADER = 9;
const LITERAL_HEADER = 5;

export type DeltaOp = { readonly kind: 'copy'; readonly first: number; readonly count: number } | { readonly kind: 'literal'; readonly data: Buffer };

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

/** Reads ops back from chunks split anywhere. */
export class DeltaOpDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): DeltaOp[] {
    const data = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: DeltaOp[] = [];
    let at = 0;
    for (;;) {
      if (at >= data.length) break;
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
      } else throw new DeltaFormatError(`an op of kind ${String(tag)}`);
    }
    this.buf = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
    return out;
  }

  /** The stream ended: it must end between ops. */
  finish(): void {
    if (this.buf.length > 0) throw new DeltaFormatError(`the delta ends inside an op (${this.buf.length} bytes left)`);
  }
}
