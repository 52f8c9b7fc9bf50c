/*
 * The base as one file of columns beside the index, so that a run loads it with one read instead of one SQLite
 * row at a time (issue 11): at 100k paths, stepping through the rows and building their values took 300-470 ms
 * of the main thread's critical path (an index of `path` alone 130-200 ms), where reading the columns back takes
 * tens of milliseconds. git keeps its index as such a file; here the SQLite index stays the only truth, and
 * the file is a cache of it that is used only when the index says it is current:
 * - the token: a run that loads the base from the index's rows writes a fresh random token into the index
 *   (table base_snapshot) in the same transaction as its read, and the file it then writes carries that token;
 * - the triggers: every insert, update or delete on `entries`, by any writer (this tsync, a later one, the
 *   sqlite3 shell), deletes the token in its own transaction (store/migrations.ts);
 * so a file is read only while its token is the index's, that is while the index holds exactly the rows it was
 * made from. A file that is missing, torn, of another orientation or another machine's byte order is not used,
 * and the rows are read instead: the file can be deleted at any time and costs only its speed.
 *
 * Layout: MAGIC, a u32 header length, the header (JSON: the token, the orientation, the row count and where each
 * section lies), then the sections, each starting at a multiple of 8: the number columns, the hashes' three arrays
 * (HASH_SECTIONS), then the texts. Paths, the hashes that are not 16 hex digits, symlink targets and xattr digests
 * are joined with NUL, which none of them can hold.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { HashColumn } from '../core/hash-column.js';
import { compactIds, isPerSlot } from '../core/id-column.js';
import type { RelPath } from '../core/types.js';
import { checkYoungGeneration } from '../runtime/young-generation.js';
import { BaseTable, type BaseColumns, roomFor } from './base-table.js';

// 2: hashes as columns of halves (hashStates, hashHi, hashLo), not as text; a file of version 1 is not read (the
// rows are, once, and the file is written anew)
const MAGIC = Buffer.from('TSYNCBS2', 'latin1');
const SEP = '\0';

type NumberColumn = 'kinds' | 'flags' | 'modes' | 'sizes' | 'mtimes' | 'uids' | 'gids' | 'leftMtimes' | 'leftInos' | 'leftCtimes' | 'rightMtimes' | 'rightInos' | 'rightCtimes';
const NUMBER_COLUMNS: readonly NumberColumn[] = [
  'kinds',
  'flags',
  'modes',
  'sizes',
  'mtimes',
  'uids',
  'gids',
  'leftMtimes',
  'leftInos',
  'leftCtimes',
  'rightMtimes',
  'rightInos',
  'rightCtimes',
];
/**
 * The hashes as core/hash-column.ts keeps them, a state byte and two 32-bit halves per row, with the few that are
 * not 16 hex digits as texts (hashTextSlots, hashTexts): read back into the column without a hash parsed per row
 * (as text, parsing was 11 ms of a 10k-row base's 26 ms load, 37 of 124 at 100k, issue 11).
 */
type HashSection = 'hashStates' | 'hashHi' | 'hashLo';
const HASH_SECTIONS: readonly HashSection[] = ['hashStates', 'hashHi', 'hashLo'];
const TEXT_SECTIONS = ['paths', 'hashTextSlots', 'hashTexts', 'targetSlots', 'targets', 'xattrSlots', 'xattrDigests'] as const;
type SectionName = NumberColumn | HashSection | (typeof TEXT_SECTIONS)[number];

interface Header {
  readonly token: string;
  readonly swapped: boolean;
  readonly count: number;
  /** Each section's byte offset (from the file's start) and length. */
  readonly sections: Readonly<Record<SectionName, readonly [number, number]>>;
}

/** The file for the index at `dbFile`. */
export function snapshotFileOf(dbFile: string): string {
  return `${dbFile}.base`;
}

/**
 * The rows a snapshot is written from: row k is row `slot(k)` of `source(k)`. A loaded table's own rows, or the
 * rows of a table and of a commit's upserts interleaved (base-table.ts rowsWithChanges), read where they are.
 */
export interface SnapshotRows {
  readonly count: number;
  readonly source: (k: number) => BaseColumns;
  readonly slot: (k: number) => number;
}

/** A table's columns as they are. */
export function rowsOf(columns: BaseColumns): SnapshotRows {
  return { count: columns.count, source: () => columns, slot: (k) => k };
}

/**
 * Writes `rows` (loaded in orientation `swapped`) as the snapshot for `token`: a temp file beside it, flushed,
 * then renamed over the old one, so that the file is whole or absent whatever happens. Written a section at a
 * time, in chunks, so that writing costs little memory beside what the run holds. False when it could not be
 * written or a text holds a NUL (nothing else is left behind).
 */
export function writeBaseSnapshot(file: string, rows: SnapshotRows, token: string, swapped: boolean): boolean {
  const encoded = encodeSnapshot(rows, token, swapped);
  if (encoded === null) return false;
  const temp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      for (const part of encoded) writeSync(fd, part);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    return true;
  } catch {
    rmSync(temp, { force: true });
    return false;
  }
}

/**
 * The base the snapshot at `file` holds, if it is the one for `token` in orientation `swapped`; else null. Each
 * column is read from the file straight into an array of its own, and each text section into a buffer dropped once
 * split: reading the whole file first kept a second copy of it alive at the peak (158 MiB against 131 at 100k).
 */
export function readBaseSnapshot(file: string, token: string, swapped: boolean): BaseTable | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null; // absent (the usual case after a run that changed the index) or unreadable: the rows are read
  }
  try {
    const columns = decodeSnapshot(sectionReader(fd, fstatSync(fd).size), token, swapped);
    return columns === null ? null : new BaseTable(columns.count, columns);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * How many rows the snapshot at `file` holds, if it is the one for `token` in orientation `swapped`; else null. Only
 * its header is read: the index's own count (`SELECT count(*)`) walks the whole table, 14 ms of a 100k-file no-op
 * spent before its scan could start.
 */
export function snapshotCount(file: string, token: string, swapped: boolean): number | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    return headerOf(sectionReader(fd, fstatSync(fd).size), token, swapped)?.count ?? null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The snapshot's header, if it is the one for `token` in orientation `swapped` (and this machine reads its byte order). */
function headerOf(read: ReadAt, token: string, swapped: boolean): Header | null {
  if (endianness() !== 'LE') return null;
  const start = read(0, MAGIC.length + 4);
  if (start === null || !Buffer.from(start.buffer, start.byteOffset, MAGIC.length).equals(MAGIC)) return null;
  const headerLength = Buffer.from(start.buffer, start.byteOffset, start.length).readUInt32LE(MAGIC.length);
  const headerBytes = read(MAGIC.length + 4, headerLength);
  if (headerBytes === null) return null;
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.length).toString('utf8')) as Header;
  } catch {
    return null;
  }
  if (header.token !== token || header.swapped !== swapped || !Number.isSafeInteger(header.count) || header.count < 0) return null;
  return header;
}

/** Reads `length` bytes at `offset` of a file into `into` (a fresh buffer when absent); null past its end. */
export type ReadAt = (offset: number, length: number, into?: Uint8Array) => Uint8Array | null;

function sectionReader(fd: number, size: number): ReadAt {
  return (offset, length, into) => {
    if (offset < 0 || length < 0 || offset + length > size) return null;
    const target = into ?? Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, target, done, length - done, offset + done);
      if (n === 0) return null;
      done += n;
    }
    return target;
  };
}

/** A ReadAt over bytes in memory (tests). */
export function bytesReader(bytes: Uint8Array): ReadAt {
  return (offset, length, into) => {
    if (offset < 0 || length < 0 || offset + length > bytes.length) return null;
    const part = bytes.subarray(offset, offset + length);
    if (into === undefined) return Buffer.from(part);
    into.set(part);
    return into;
  };
}

/** Rows a text section's chunk joins, and a number column's chunk holds. */
const TEXT_CHUNK = 4096;
const NUMBER_CHUNK = 65536;

/** One text section: the rows (or slots) it holds the texts of, in order, and its length in bytes. */
interface TextSection {
  readonly texts: (i: number) => string;
  readonly count: number;
  readonly length: number;
}

/**
 * The file's bytes, as chunks to write in order, or null when a text holds a NUL (it could not be split back).
 * A first pass measures the texts (the header says where each section lies); the chunks are made as they are
 * written, in one scratch buffer: **a chunk is valid only until the next one is pulled** (write it, or copy it,
 * first). Fresh buffers for every chunk (about 11 MB at 100k rows) were alive until the next scavenge and added
 * 3 MiB to the peak RSS of a run that changed the index, which peaks right here (issue 11).
 */
export function encodeSnapshot(rows: SnapshotRows, token: string, swapped: boolean): Iterable<Uint8Array> | null {
  if (endianness() !== 'LE') return null;
  const n = rows.count;
  const textOf = (k: number, pick: (c: BaseColumns, i: number) => string | undefined): string => pick(rows.source(k), rows.slot(k)) ?? '';
  const targetRows: number[] = [];
  const xattrRows: number[] = [];
  const hashTextRows: number[] = [];
  for (let k = 0; k < n; k++) {
    const c = rows.source(k);
    const i = rows.slot(k);
    if (c.targets.has(i)) targetRows.push(k);
    if (c.xattrDigests.has(i)) xattrRows.push(k);
    if (c.hashes.textAt(i) !== undefined) hashTextRows.push(k);
  }
  const section = (count: number, texts: (i: number) => string): TextSection | null => {
    let length = Math.max(0, count - 1);
    for (let i = 0; i < count; i++) {
      const text = texts(i);
      if (text.includes(SEP)) return null;
      length += text.length;
    }
    return { texts, count, length };
  };
  const paths = section(n, (k) => textOf(k, (c, i) => c.paths[i]));
  const hashTexts = section(hashTextRows.length, (j) => textOf(hashTextRows[j] as number, (c, i) => c.hashes.textAt(i)));
  const targets = section(targetRows.length, (j) => textOf(targetRows[j] as number, (c, i) => c.targets.get(i)));
  const digests = section(xattrRows.length, (j) => textOf(xattrRows[j] as number, (c, i) => c.xattrDigests.get(i)));
  if (paths === null || hashTexts === null || targets === null || digests === null) return null;
  const texts: Record<(typeof TEXT_SECTIONS)[number], TextSection | Uint32Array> = {
    paths,
    hashTextSlots: Uint32Array.from(hashTextRows),
    hashTexts,
    targetSlots: Uint32Array.from(targetRows),
    targets,
    xattrSlots: Uint32Array.from(xattrRows),
    xattrDigests: digests,
  };
  const lengthOf = (name: SectionName): number => {
    if (isNumberColumn(name)) return n * emptyColumn(name, 0).BYTES_PER_ELEMENT;
    if (isHashSection(name)) return n * HASH_WIDTH[name];
    const t = texts[name];
    return t instanceof Uint32Array ? t.byteLength : t.length;
  };
  const names: SectionName[] = [...NUMBER_COLUMNS, ...HASH_SECTIONS, ...TEXT_SECTIONS];
  // the header's offsets depend on its own length: lay the sections out after a header of a fixed, generous width
  const headerRoom = 2048;
  const sections = {} as Record<SectionName, readonly [number, number]>;
  let at = align8(MAGIC.length + 4 + headerRoom);
  for (const name of names) {
    sections[name] = [at, lengthOf(name)];
    at = align8(at + lengthOf(name));
  }
  const header: Header = { token, swapped, count: n, sections };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  if (headerBytes.length > headerRoom) return null;
  return chunks(rows, headerBytes, names, sections, texts);
}

function* chunks(
  rows: SnapshotRows,
  headerBytes: Buffer,
  names: readonly SectionName[],
  sections: Readonly<Record<SectionName, readonly [number, number]>>,
  texts: Readonly<Record<(typeof TEXT_SECTIONS)[number], TextSection | Uint32Array>>,
): Generator<Uint8Array> {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  yield MAGIC;
  yield length;
  yield headerBytes;
  let written = MAGIC.length + 4 + headerBytes.length;
  const scratch = new Scratch();
  const runs = runsOf(rows);
  for (const name of names) {
    const [offset, size] = sections[name];
    yield Buffer.alloc(offset - written);
    written = offset + size;
    if (isNumberColumn(name)) {
      yield* numberChunks(rows, runs, name, scratch);
      continue;
    }
    if (isHashSection(name)) {
      yield* hashChunks(rows, runs, name, scratch);
      continue;
    }
    const t = texts[name];
    if (t instanceof Uint32Array) {
      yield new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      continue;
    }
    for (let from = 0; from < t.count; from += TEXT_CHUNK) {
      const part: string[] = [];
      for (let i = from; i < Math.min(t.count, from + TEXT_CHUNK); i++) part.push(t.texts(i));
      const text = `${from === 0 ? '' : SEP}${part.join(SEP)}`;
      // a binary string (core/types.ts): one byte per char
      const into = scratch.bytes(text.length);
      yield into.subarray(0, into.write(text, 'latin1'));
    }
  }
}

/** The one buffer a snapshot's chunks are made in, grown when a chunk needs more (see encodeSnapshot). */
class Scratch {
  private buffer = Buffer.alloc(NUMBER_CHUNK * 8);

  bytes(length: number): Buffer {
    if (length > this.buffer.length) this.buffer = Buffer.alloc(length);
    return this.buffer;
  }
}

/** Rows `row` to `row + length` of the snapshot are slots `slot` to `slot + length` of `columns`. */
interface RowRun {
  readonly columns: BaseColumns;
  readonly slot: number;
  readonly row: number;
  readonly length: number;
}

/**
 * The rows as runs of consecutive slots of one table: one run for a loaded table's own rows, and for the sum of a
 * table and a commit's upserts (rowsWithChanges) a run between each two upserts. A column is then copied a run at a
 * time, bytes to bytes, where it was copied a row at a time: each element of a 64-bit column read that way was a
 * BigInt made and dropped, seven columns of them per row.
 */
function runsOf(rows: SnapshotRows): RowRun[] {
  const runs: RowRun[] = [];
  for (let k = 0; k < rows.count; ) {
    const columns = rows.source(k);
    const slot = rows.slot(k);
    let end = k + 1;
    while (end < rows.count && rows.source(end) === columns && rows.slot(end) === slot + (end - k)) end++;
    runs.push({ columns, slot, row: k, length: end - k });
    k = end;
  }
  return runs;
}

function* numberChunks(rows: SnapshotRows, runs: readonly RowRun[], name: NumberColumn, scratch: Scratch): Generator<Uint8Array> {
  let first = 0;
  for (let from = 0; from < rows.count; from += NUMBER_CHUNK) {
    const to = Math.min(rows.count, from + NUMBER_CHUNK);
    const chunk = columnIn(name, scratch, to - from);
    const width = chunk.BYTES_PER_ELEMENT;
    const into = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (first < runs.length && (runs[first] as RowRun).row + (runs[first] as RowRun).length <= from) first++;
    for (let r = first; r < runs.length && (runs[r] as RowRun).row < to; r++) {
      const run = runs[r] as RowRun;
      const a = Math.max(from, run.row);
      const b = Math.min(to, run.row + run.length);
      const column = run.columns[name];
      if ((name === 'uids' || name === 'gids') && !isPerSlot(column as Uint32Array, run.columns.count)) {
        // a uniform id column holds one element for all its slots (core/id-column.ts): the file has one per row
        (chunk as Uint32Array).fill(column[0] as number, a - from, b - from);
        continue;
      }
      into.set(new Uint8Array(column.buffer, column.byteOffset + (run.slot + a - run.row) * width, (b - a) * width), (a - from) * width);
    }
    yield into;
  }
}

function isNumberColumn(name: SectionName): name is NumberColumn {
  return (NUMBER_COLUMNS as readonly string[]).includes(name);
}

const HASH_WIDTH: Readonly<Record<HashSection, number>> = { hashStates: 1, hashHi: 4, hashLo: 4 };

function isHashSection(name: SectionName): name is HashSection {
  return (HASH_SECTIONS as readonly string[]).includes(name);
}

/** One of a hash column's arrays (HashColumn.arrays): state bytes or a half. */
function hashArrayOf(columns: BaseColumns, name: HashSection): Uint8Array | Uint32Array {
  const a = columns.hashes.arrays();
  return name === 'hashStates' ? a.state : name === 'hashHi' ? a.hi : a.lo;
}

/**
 * numberChunks for one of the hash arrays: a run's slots copied as bytes, where the array holds them; slots past
 * its end (a column grows only as far as it was set) are unset, zeros.
 */
function* hashChunks(rows: SnapshotRows, runs: readonly RowRun[], name: HashSection, scratch: Scratch): Generator<Uint8Array> {
  const width = HASH_WIDTH[name];
  let first = 0;
  for (let from = 0; from < rows.count; from += NUMBER_CHUNK) {
    const to = Math.min(rows.count, from + NUMBER_CHUNK);
    const into = scratch.bytes((to - from) * width).subarray(0, (to - from) * width);
    into.fill(0);
    while (first < runs.length && (runs[first] as RowRun).row + (runs[first] as RowRun).length <= from) first++;
    for (let r = first; r < runs.length && (runs[r] as RowRun).row < to; r++) {
      const run = runs[r] as RowRun;
      const a = Math.max(from, run.row);
      const b = Math.min(to, run.row + run.length);
      const array = hashArrayOf(run.columns, name);
      // the run's slots that the array holds: the rest stay zero
      const start = run.slot + a - run.row;
      const end = Math.min(run.slot + b - run.row, array.length);
      if (end > start) into.set(new Uint8Array(array.buffer, array.byteOffset + start * width, (end - start) * width), (a - from) * width);
    }
    yield into;
  }
}

/** The columns a snapshot file holds when it is whole and for `token` and `swapped`; null otherwise. */
export function decodeSnapshot(read: ReadAt, token: string, swapped: boolean): BaseColumns | null {
  const header = headerOf(read, token, swapped);
  if (header === null) return null;
  const n = header.count;
  // room for a watch's new paths (roomFor): the table adopting these columns grows into it without a copy
  const room = roomFor(n);
  const where = (name: SectionName): readonly [number, number] | null => {
    const w: unknown = header.sections?.[name];
    if (!Array.isArray(w) || w.length !== 2 || !Number.isSafeInteger(w[0]) || !Number.isSafeInteger(w[1])) return null;
    return [w[0] as number, w[1] as number];
  };
  const section = (name: SectionName): Buffer | null => {
    const w = where(name);
    const part = w === null ? null : read(w[0], w[1]);
    return part === null ? null : Buffer.from(part.buffer, part.byteOffset, part.length);
  };
  const numbers = {} as Record<NumberColumn, Uint8Array | Uint16Array | Uint32Array | Float64Array | BigInt64Array | BigUint64Array>;
  for (const name of NUMBER_COLUMNS) {
    const w = where(name);
    const col = emptyColumn(name, room);
    const bytes = n * col.BYTES_PER_ELEMENT;
    if (w === null || w[1] !== bytes || read(w[0], w[1], new Uint8Array(col.buffer, 0, bytes)) === null) return null;
    // the ids of a tree of one owner and group kept as one element each (core/id-column.ts), not `room` of them
    const ids = name === 'uids' || name === 'gids' ? compactIds(col as Uint32Array, n) : col;
    numbers[name] = ids === col ? col.subarray(0, n) : ids;
  }
  const hashArrays = {} as Record<HashSection, Uint8Array | Uint32Array>;
  for (const name of HASH_SECTIONS) {
    const w = where(name);
    const col = name === 'hashStates' ? new Uint8Array(room) : new Uint32Array(room);
    const bytes = n * HASH_WIDTH[name];
    if (w === null || w[1] !== bytes || read(w[0], w[1], new Uint8Array(col.buffer, 0, bytes)) === null) return null;
    hashArrays[name] = col;
  }
  const paths = splitSection(section('paths'), n);
  const hashTextSlots = slotsOf(section('hashTextSlots'));
  const targetSlots = slotsOf(section('targetSlots'));
  const xattrSlots = slotsOf(section('xattrSlots'));
  if (paths === null || hashTextSlots === null || targetSlots === null || xattrSlots === null) return null;
  const hashTexts = splitSection(section('hashTexts'), hashTextSlots.length);
  const targets = splitSection(section('targets'), targetSlots.length);
  const digests = splitSection(section('xattrDigests'), xattrSlots.length);
  if (hashTexts === null || targets === null || digests === null) return null;
  const hashes = HashColumn.adopt(
    hashArrays.hashStates as Uint8Array,
    hashArrays.hashHi as Uint32Array,
    hashArrays.hashLo as Uint32Array,
    new Map(hashTextSlots.map((slot, i) => [slot, hashTexts[i] as string])),
  );
  if (hashes === null) return null;
  return {
    count: n,
    paths: paths as RelPath[],
    kinds: numbers.kinds as Uint8Array,
    flags: numbers.flags as Uint8Array,
    modes: numbers.modes as Uint16Array,
    sizes: numbers.sizes as Float64Array,
    mtimes: numbers.mtimes as BigInt64Array,
    uids: numbers.uids as Uint32Array,
    gids: numbers.gids as Uint32Array,
    leftMtimes: numbers.leftMtimes as BigInt64Array,
    leftInos: numbers.leftInos as BigUint64Array,
    leftCtimes: numbers.leftCtimes as BigInt64Array,
    rightMtimes: numbers.rightMtimes as BigInt64Array,
    rightInos: numbers.rightInos as BigUint64Array,
    rightCtimes: numbers.rightCtimes as BigInt64Array,
    hashes,
    targets: new Map(targetSlots.map((slot, i) => [slot, targets[i] as string])),
    xattrDigests: new Map(xattrSlots.map((slot, i) => [slot, digests[i] as string])),
    room,
  };
}

/** A column of `n` values of `name`'s type over the scratch buffer (every value is written before it is yielded). */
function columnIn(name: NumberColumn, scratch: Scratch, n: number): NumberColumnArray {
  const b = scratch.bytes(n * 8);
  // Buffer.alloc of this size is a buffer of its own at offset 0: aligned for every width
  return emptyColumn(name, n, b.buffer);
}

type NumberColumnArray = Uint8Array | Uint16Array | Uint32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A column of `n` values of `name`'s type: fresh, or over `buffer` from its start. */
function emptyColumn(name: NumberColumn, n: number, buffer?: ArrayBufferLike): NumberColumnArray {
  const over = buffer ?? null;
  switch (name) {
    case 'kinds':
    case 'flags':
      return over === null ? new Uint8Array(n) : new Uint8Array(over, 0, n);
    case 'modes':
      return over === null ? new Uint16Array(n) : new Uint16Array(over, 0, n);
    case 'uids':
    case 'gids':
      return over === null ? new Uint32Array(n) : new Uint32Array(over, 0, n);
    case 'sizes':
      return over === null ? new Float64Array(n) : new Float64Array(over, 0, n);
    case 'leftInos':
    case 'rightInos':
      return over === null ? new BigUint64Array(n) : new BigUint64Array(over, 0, n);
    default:
      return over === null ? new BigInt64Array(n) : new BigInt64Array(over, 0, n);
  }
}

/**
 * The texts a NUL-joined section holds, when it holds exactly `count` of them. One at a time, not split(): the young
 * generation is capped as it grows (runtime/young-generation.ts), and 100k strings made in one call grew it past the
 * cap before it was looked at (16 MiB, a no-op run's peak 15 MiB higher). Cut from one string of the whole section:
 * V8 makes a text of 13 chars or more a slice of it (a reference, an offset and a length), not a copy of its chars,
 * and the scavenges that promote a base's paths copy less (a 100k-path base loaded in 131-146 ms against 142-186 ms
 * with a string made per text from the buffer, six runs each, alternating). The section's string lives as long as
 * any of its texts, which a base keeps for its whole life anyway: a no-op run's peak RSS stayed where it was.
 */
function splitSection(part: Buffer | null, count: number): string[] | null {
  if (part === null) return null;
  if (count === 0) return part.length === 0 ? [] : null;
  const all = part.toString('latin1');
  const texts: string[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const nul = all.indexOf('\0', start);
    const end = nul === -1 ? all.length : nul;
    if ((nul === -1) !== (i === count - 1)) return null; // fewer or more texts than `count`
    texts.push(all.slice(start, end));
    start = end + 1;
    if ((i & 1023) === 1023) checkYoungGeneration();
  }
  return texts;
}

function slotsOf(part: Buffer | null): number[] | null {
  if (part === null || part.length % 4 !== 0) return null;
  const slots = new Uint32Array(part.length / 4);
  new Uint8Array(slots.buffer).set(part);
  return [...slots];
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
