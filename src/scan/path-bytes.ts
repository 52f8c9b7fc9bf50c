import type { RelPath } from '../core/types.js';

/**
 * Paths kept as their bytes, each followed by a NUL (a byte no Linux name holds), in one growing buffer:
 * what a scan worker's walk keeps of its paths until it hands them over (growing-scan-table.ts). Kept as
 * strings, 100,000 paths cost the worker about 5 MB of its heap (a string and an array slot each), then a
 * joined copy, then a copy into the message; all of it alive while the main thread's own side is whole,
 * which is when a run's memory peaks (issue 11). Here they cost their bytes, and the buffer is moved to
 * the main thread, not copied.
 *
 * A RelPath is a binary string (core/types.ts: each char is one byte), so latin1 writes and reads it back
 * exactly.
 */
export class PathBytes {
  private bytes: Buffer;
  private used = 0;
  private paths = 0;

  constructor(expectedPaths = 0) {
    // about 24 bytes a path in the trees measured (bench/run.mjs's 100k tree: 23); growth doubles from there
    this.bytes = freshBuffer(Math.max(4096, expectedPaths * 24));
  }

  get count(): number {
    return this.paths;
  }

  push(path: RelPath): void {
    if (path.includes(NUL)) throw new PathBytesError(`a path holds a NUL byte: ${JSON.stringify(path)}`);
    const need = this.used + path.length + 1;
    if (need > this.bytes.length) {
      const grown = freshBuffer(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.used += this.bytes.write(path, this.used, 'latin1');
    this.bytes[this.used++] = 0;
    this.paths++;
  }

  /** The paths so far, NUL after each, in a buffer of their own (the transfer list takes its whole ArrayBuffer). */
  take(): Uint8Array {
    return new Uint8Array(this.bytes.buffer, 0, this.used);
  }

  /** The paths so far, as strings, in the order pushed. */
  toPaths(): RelPath[] {
    return pathsOfBytes(this.take(), this.paths);
  }
}

const NUL = '\0';

export class PathBytesError extends Error {
  readonly code = 'PATH_BYTES';
}

/** Paths from bytes laid out as PathBytes lays them out (each followed by a NUL); `count` of them, or a PathBytesError. */
export function pathsOfBytes(bytes: Uint8Array, count: number): RelPath[] {
  if (count === 0 && bytes.length === 0) return [];
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) throw new PathBytesError('the path bytes do not end with a NUL');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length - 1).toString('latin1');
  const paths = text.split(NUL) as RelPath[];
  if (paths.length !== count) throw new PathBytesError(`${paths.length} paths in the bytes, ${count} expected`);
  return paths;
}

/**
 * Reads paths laid out as PathBytes lays them out, one at a time. pathsOfBytes splits one joined string into an array
 * of every piece at once, and all of them outlived the young generation while a decoded scan traded each for the
 * index's own string of the path (scan-codec.ts decodeScan): old-generation garbage when a no-op run's memory peaked
 * (issue 11). Here each is cut from the joined string only when asked for, and dies young once traded. Cut, not made
 * from the bytes: a Buffer's indexOf and toString are a call into C++ each, where a string's indexOf and slice run in
 * JavaScript, and V8 makes a piece of 13 chars or more a slice of the joined string (a reference, an offset and a
 * length), not a copy. Decoding a 100k-entry scan took 55-87 ms against 58-99 ms (six decodes in a process each).
 */
export class PathReader {
  private readonly text: string;
  private at = 0;
  private read = 0;

  constructor(
    bytes: Uint8Array,
    private readonly count: number,
  ) {
    if (!(count === 0 && bytes.length === 0) && (bytes.length === 0 || bytes[bytes.length - 1] !== 0)) throw new PathBytesError('the path bytes do not end with a NUL');
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  }

  /** The next path; a PathBytesError past the last. */
  next(): RelPath {
    const end = this.text.indexOf(NUL, this.at);
    if (end < 0 || this.read >= this.count) throw new PathBytesError(`more than ${this.read} paths asked for; ${this.count} expected`);
    const path = this.text.slice(this.at, end) as RelPath;
    this.at = end + 1;
    this.read++;
    return path;
  }

  /** Checks that every path was read and that nothing follows the last. */
  end(): void {
    if (this.read !== this.count || this.at !== this.text.length) throw new PathBytesError(`${this.read} paths read of ${this.count}, ${this.text.length - this.at} bytes left over`);
  }
}

/** The bytes of `paths` as PathBytes lays them out. */
export function bytesOfPaths(paths: Iterable<RelPath>): Uint8Array {
  const out = new PathBytes();
  for (const p of paths) out.push(p);
  return out.take();
}

/** A buffer over an ArrayBuffer of its own: never a slice of Node's shared pool, so it can be transferred. */
function freshBuffer(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size));
}
