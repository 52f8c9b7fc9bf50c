// The compact encoding of one batch of scanned entries (entry-batches.ts carries the batches). A scan is the
// biggest thing that crosses the wire on a no-op run, and the general codec spent most of both sides' time on
// it: a tagged value per field, a Map per batch, then a valibot check per entry. Here each entry is one row of
// fixed-width fields behind a flags word, so the reader knows every field's type by construction and the
// check per row is a few comparisons: the flags hold no unknown bit, every length fits the bytes left, the
// path is safe (core/paths.ts isSafeRelPath), numbers are what the engine relies on. A malformed row is a
// ProtocolError, which ends the session, exactly as a malformed codec value is.
//
// Batch: u8 format, then
//   FORMAT_ROWS: u32 count, count rows (little-endian)
//   FORMAT_VALUE: a value-codec Map of path -> entry, checked with wire-shapes.ts (the writer falls back to it
//     for a batch holding a value the rows cannot carry: a time beyond the 64-bit nanosecond range, a string
//     that is not a binary string)
// Row:
//   u16 flags | u16 length of the prefix shared with the previous path | u32 n, n latin1 bytes: the rest of the path
//   file:    f64 size | u32 mode | i64 mtimeNs | [8 bytes of hash: HASH]
//   dir:     u32 mode | i64 mtimeNs
//   symlink: u32 n, n latin1 bytes of target | i64 mtimeNs
//   [u32 uid: UID] [u32 gid: GID] [u32 n, n latin1 bytes of the xattr digest: XATTRS; never a symlink's]
//   stat: u64 ino | i64 ctimeNs | [f64 size, unless SAME_SIZE: a file whose stat size is its size]
//         [i64 mtimeNs, unless SAME_MTIME] [f64 nlink: NLINK] [f64 blocks: BLOCKS] [u64 dev: DEV]
//   i64 observedAtNs
// Paths, link targets and digests are binary strings (a char per byte), so names that are not UTF-8 travel
// byte for byte.
import * as v from 'valibot';
import { isSafeRelPath } from '../core/paths.js';
import type { DirEntry, FileEntry, RelPath, ScannedEntry, StatId, SymlinkEntry } from '../core/types.js';
import { ProtocolError } from './protocol-error.js';
import { type CodecValue, decodeValue, encodeValue } from './value-codec.js';
import { parseWire, relPath, scannedEntry } from './wire-shapes.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const FORMAT_VALUE = 1;
export const FORMAT_ROWS = 2;

const KIND_MASK = 0b11;
const KIND_FILE = 0;
const KIND_DIR = 1;
const KIND_SYMLINK = 2;
const HASH = 1 << 2;
const UID = 1 << 3;
const GID = 1 << 4;
const XATTRS = 1 << 5;
const SAME_SIZE = 1 << 6;
const SAME_MTIME = 1 << 7;
const NLINK = 1 << 8;
const BLOCKS = 1 << 9;
const DEV = 1 << 10;
const KNOWN_FLAGS = (DEV << 1) - 1;

/** The smallest row: flags, prefix, suffix length, a dir's mode and mtime, ino, ctime, observedAt (stat size and mtime shared). */
const MIN_ROW = 2 + 2 + 4 + 4 + 8 + 8 + 8 + 8 + 8;
const MAX_PREFIX = 0xffff;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const HASH_TEXT = /^[0-9a-f]{16}$/;

const valueBatch = v.map(relPath, scannedEntry);

/** A value the rows cannot carry: the batch goes as a codec value instead. */
class DoesNotFit extends Error {}

class RowWriter {
  buf: Buffer;
  pos = 0;
  /** The numbers go through a DataView, as on the reading side: Buffer's writeBigInt64LE splits the BigInt in halves first. */
  private view: DataView;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  u8(x: number): void {
    this.room(1);
    this.buf[this.pos++] = x;
  }

  u16(x: number): void {
    this.room(2);
    this.view.setUint16(this.pos, x, true);
    this.pos += 2;
  }

  u32(x: number): void {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new DoesNotFit();
    this.room(4);
    this.view.setUint32(this.pos, x, true);
    this.pos += 4;
  }

  f64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  i64(x: bigint): void {
    if (typeof x !== 'bigint' || x < I64_MIN || x > I64_MAX) throw new DoesNotFit();
    this.room(8);
    this.view.setBigInt64(this.pos, x, true);
    this.pos += 8;
  }

  u64(x: bigint): void {
    if (typeof x !== 'bigint' || x < 0n || x > U64_MAX) throw new DoesNotFit();
    this.room(8);
    this.view.setBigUint64(this.pos, x, true);
    this.pos += 8;
  }

  /** The chars after the first `from` of a binary string, a byte each (a char above 0xFF does not fit). */
  binary(s: string, from = 0): void {
    if (typeof s !== 'string') throw new DoesNotFit();
    const n = s.length - from;
    this.u32(n);
    this.room(n);
    // char by char, not Buffer.write of a slice: most are the few chars of a path after its shared prefix
    const buf = this.buf;
    for (let i = 0, at = this.pos; i < n; i++) {
      const c = s.charCodeAt(from + i);
      if (c > 0xff) throw new DoesNotFit();
      buf[at + i] = c;
    }
    this.pos += n;
  }

  hash(h: string): void {
    if (!HASH_TEXT.test(h)) throw new DoesNotFit();
    this.room(8);
    this.pos += this.buf.write(h, this.pos, 8, 'hex');
  }
}

function sharedPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length, MAX_PREFIX);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function flagsOf(path: RelPath, s: ScannedEntry): number {
  const e = s.entry;
  let f = e.kind === 'file' ? KIND_FILE : e.kind === 'dir' ? KIND_DIR : e.kind === 'symlink' ? KIND_SYMLINK : -1;
  if (f < 0) throw new Error(`unreachable: an entry of kind ${String((e as { kind: unknown }).kind)} at ${path}`);
  if (e.kind === 'file' && e.hash !== null) f |= HASH;
  if (e.uid !== undefined) f |= UID;
  if (e.gid !== undefined) f |= GID;
  if (e.kind !== 'symlink' && e.xattrs !== undefined) f |= XATTRS;
  if (e.kind === 'file' && s.stat.size === e.size) f |= SAME_SIZE;
  if (s.stat.mtimeNs === e.mtimeNs) f |= SAME_MTIME;
  if (s.stat.nlink !== undefined) f |= NLINK;
  if (s.stat.blocks !== undefined) f |= BLOCKS;
  if (s.stat.dev !== undefined) f |= DEV;
  return f;
}

function writeRows(entries: ReadonlyArray<readonly [RelPath, ScannedEntry]>): Buffer {
  const w = new RowWriter(64 + entries.length * 96);
  w.u8(FORMAT_ROWS);
  w.u32(entries.length);
  let prev = '';
  for (const [path, s] of entries) {
    const e = s.entry;
    const f = flagsOf(path, s);
    const shared = sharedPrefix(prev, path);
    w.u16(f);
    w.u16(shared);
    w.binary(path, shared);
    prev = path;
    if (e.kind === 'file') {
      w.f64(e.size);
      w.u32(e.mode);
      w.i64(e.mtimeNs);
      if (e.hash !== null) w.hash(e.hash);
    } else if (e.kind === 'dir') {
      w.u32(e.mode);
      w.i64(e.mtimeNs);
    } else {
      w.binary(e.target);
      w.i64(e.mtimeNs);
    }
    if (e.uid !== undefined) w.u32(e.uid);
    if (e.gid !== undefined) w.u32(e.gid);
    if (e.kind !== 'symlink' && e.xattrs !== undefined) w.binary(e.xattrs);
    const st = s.stat;
    w.u64(st.ino);
    w.i64(st.ctimeNs);
    if ((f & SAME_SIZE) === 0) w.f64(st.size);
    if ((f & SAME_MTIME) === 0) w.i64(st.mtimeNs);
    if (st.nlink !== undefined) w.f64(st.nlink);
    if (st.blocks !== undefined) w.f64(st.blocks);
    if (st.dev !== undefined) w.u64(st.dev);
    w.i64(s.observedAtNs);
  }
  return w.buf.subarray(0, w.pos);
}

/** One batch's bytes: as rows, or as a codec value if some value does not fit the rows. */
export function encodeScanBatch(entries: ReadonlyArray<readonly [RelPath, ScannedEntry]>): Buffer {
  try {
    return writeRows(entries);
  } catch (e) {
    if (!(e instanceof DoesNotFit)) throw e;
  }
  const body = encodeValue(new Map(entries) as unknown as CodecValue);
  return Buffer.concat([Buffer.from([FORMAT_VALUE]), body]);
}

class RowReader {
  pos: number;
  /**
   * The numbers are read through a DataView: its getBigInt64 makes one BigInt where Buffer's readBigInt64LE
   * makes four (two halves, a shift, a sum), and a no-op's scan reads five per row (measured: 4x faster).
   */
  private readonly view: DataView;
  private pathBytes = Buffer.allocUnsafe(256);

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  need(n: number): void {
    if (n > this.end - this.pos) throw new ProtocolError(`a scan batch ends inside a row (${n} bytes wanted, ${this.end - this.pos} left)`);
  }

  u16(): number {
    this.need(2);
    const x = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return x;
  }

  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }

  /** A non-negative integer (a size or a count). */
  count(what: string): number {
    this.need(8);
    const x = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    if (!Number.isInteger(x) || x < 0) throw new ProtocolError(`malformed scan batch: ${what} ${x} is not a count`);
    return x;
  }

  i64(): bigint {
    this.need(8);
    const x = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return x;
  }

  u64(): bigint {
    this.need(8);
    const x = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return x;
  }

  /**
   * The path of the next row: `shared` chars of the one before, then its own. The bytes are put together in
   * `pathBytes` (which still holds the path before) and made a string once, a flat one: a slice joined to the
   * rest would be a rope that every Map lookup of the path flattens again.
   */
  path(shared: number): string {
    const n = this.u32();
    this.need(n);
    const length = shared + n;
    if (length > this.pathBytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(length, this.pathBytes.length * 2));
      this.pathBytes.copy(grown, 0, 0, shared);
      this.pathBytes = grown;
    }
    const to = this.pathBytes;
    const from = this.buf;
    // a loop, not Buffer.copy: the rest of a path is a few bytes, less than the native call costs
    for (let i = 0, at = this.pos; i < n; i++) to[shared + i] = from[at + i] as number;
    this.pos += n;
    return to.toString('latin1', 0, length);
  }

  binary(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('latin1', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  hash(): string {
    this.need(8);
    const s = this.buf.toString('hex', this.pos, this.pos + 8);
    this.pos += 8;
    return s;
  }
}

function malformed(path: string, why: string): ProtocolError {
  return new ProtocolError(`malformed scan batch at ${JSON.stringify(path)}: ${why}`);
}

function readRows(r: RowReader, onEntry: (path: RelPath, scanned: ScannedEntry) => void): void {
  const count = r.u32();
  if (count > (r.end - r.pos) / MIN_ROW) throw new ProtocolError(`a scan batch of ${r.end - r.pos} bytes cannot hold ${count} entries`);
  let prev = '';
  for (let i = 0; i < count; i++) {
    const f = r.u16();
    const shared = r.u16();
    if (shared > prev.length) throw new ProtocolError(`malformed scan batch: a path shares ${shared} chars with one of ${prev.length}`);
    const path = r.path(shared);
    if (!isSafeRelPath(path)) throw malformed(path, 'not a path inside the root');
    prev = path;
    if ((f & ~KNOWN_FLAGS) !== 0) throw malformed(path, `unknown flags ${f.toString(2)}`);
    const kind = f & KIND_MASK;
    if (kind !== KIND_FILE && (f & (HASH | SAME_SIZE)) !== 0) throw malformed(path, 'a hash or a file size on an entry that is no file');
    if (kind === KIND_SYMLINK && (f & XATTRS) !== 0) throw malformed(path, 'an xattr digest on a symlink');
    let entry: Mutable<FileEntry> | Mutable<DirEntry> | Mutable<SymlinkEntry>;
    if (kind === KIND_FILE) {
      const size = r.count('size');
      const mode = r.u32();
      const mtimeNs = r.i64();
      const hash = (f & HASH) !== 0 ? r.hash() : null;
      entry = fileEntry(r, f, size, mtimeNs, mode, hash);
    } else if (kind === KIND_DIR) {
      const mode = r.u32();
      entry = { kind: 'dir', mode, mtimeNs: r.i64() };
    } else if (kind === KIND_SYMLINK) {
      const target = r.binary();
      entry = { kind: 'symlink', target, mtimeNs: r.i64() };
    } else throw malformed(path, `unknown kind ${kind}`);
    if (entry.kind !== 'file') {
      if ((f & UID) !== 0) entry.uid = r.u32();
      if ((f & GID) !== 0) entry.gid = r.u32();
      if ((f & XATTRS) !== 0 && entry.kind !== 'symlink') entry.xattrs = r.binary();
    }
    const ino = r.u64();
    const ctimeNs = r.i64();
    const size = (f & SAME_SIZE) !== 0 && entry.kind === 'file' ? entry.size : r.count('stat size');
    const mtimeNs = (f & SAME_MTIME) !== 0 ? entry.mtimeNs : r.i64();
    let stat: Mutable<StatId>;
    // a stat from disk has both: one literal, as for fileEntry below
    if ((f & (NLINK | BLOCKS)) === (NLINK | BLOCKS)) {
      const nlink = r.count('nlink');
      stat = { ino, ctimeNs, size, mtimeNs, nlink, blocks: r.count('blocks') };
    } else {
      stat = { ino, ctimeNs, size, mtimeNs };
      if ((f & NLINK) !== 0) stat.nlink = r.count('nlink');
      if ((f & BLOCKS) !== 0) stat.blocks = r.count('blocks');
    }
    if ((f & DEV) !== 0) stat.dev = r.u64();
    onEntry(path as RelPath, { entry, stat, observedAtNs: r.i64() });
  }
  if (r.pos !== r.end) throw new ProtocolError(`a scan batch has ${r.end - r.pos} bytes after its last entry`);
}

/**
 * A file's entry with its owner, group and xattr digest as the flags say. The usual combinations are built
 * as one literal each, not by adding properties one by one: each property added after the literal
 * grows a backing store per entry, 100k of them on a no-op.
 */
function fileEntry(r: RowReader, f: number, size: number, mtimeNs: bigint, mode: number, hash: string | null): Mutable<FileEntry> {
  const owners = f & (UID | GID | XATTRS);
  if (owners === 0) return { kind: 'file', size, mtimeNs, mode, hash };
  if (owners === (UID | GID)) {
    const uid = r.u32();
    return { kind: 'file', size, mtimeNs, mode, hash, uid, gid: r.u32() };
  }
  if (owners === (UID | GID | XATTRS)) {
    const uid = r.u32();
    const gid = r.u32();
    return { kind: 'file', size, mtimeNs, mode, hash, uid, gid, xattrs: r.binary() };
  }
  const e: Mutable<FileEntry> = { kind: 'file', size, mtimeNs, mode, hash };
  if ((f & UID) !== 0) e.uid = r.u32();
  if ((f & GID) !== 0) e.gid = r.u32();
  if ((f & XATTRS) !== 0) e.xattrs = r.binary();
  return e;
}

/**
 * Reads one batch (`buf[start, end)`), handing each entry to `onEntry` once it is checked; anything malformed
 * is a ProtocolError (entries before it may have been handed over: the caller drops the whole scan).
 */
export function decodeScanBatch(buf: Buffer, start: number, end: number, onEntry: (path: RelPath, scanned: ScannedEntry) => void): void {
  if (end <= start) throw new ProtocolError('an empty scan batch');
  const format = buf[start];
  if (format === FORMAT_ROWS) readRows(new RowReader(buf, start + 1, end), onEntry);
  else if (format === FORMAT_VALUE) {
    for (const [path, scanned] of parseWire(valueBatch, decodeValue(buf, start + 1, end), 'scan batch')) onEntry(path, scanned as ScannedEntry);
  } else throw new ProtocolError(`a scan batch in an unknown format ${String(format)}`);
}
