import { wellFormedCounts } from '../core/count-column.js';
import { DigestColumn } from '../core/digest-column.js';
import { HashColumn } from '../core/hash-column.js';
import { wellFormedRuns } from '../core/observed-runs.js';
import type { Problem, RelPath, Side, StatId } from '../core/types.js';
import type { ScanResult, SharedPath, VouchHash } from './scan.js';
import { ASK_RECORDS, type StatCacheColumns, wordsOf } from '../core/stat-words.js';
import { GrowingScanTable, type InSlotOrder } from './growing-scan-table.js';
import { PathBytes, PathBytesError, PathReader } from './path-bytes.js';
import { allocColumns, KIND_DIR, KIND_FILE, KIND_SYMLINK, type PathSlots, type ScanColumns, ScanTable, statAt, writeColumns } from './scan-table.js';

/*
 * A scan made in a worker thread (scan-worker.ts) crosses to the main thread in columns: a Map of
 * 100,000 small objects costs a structured clone of every object, while the paths' bytes and a few typed
 * arrays are moved in one piece each.
 */

/** One side's scan in columns; entry i is the i-th path of `pathBytes`. */
export interface EncodedScan extends ScanColumns {
  readonly side: Side;
  /** Every path's bytes followed by a NUL (a byte no Linux name holds), in the scan's order (path-bytes.ts). */
  readonly pathBytes: Uint8Array;
  readonly count: number;
  /** The devices of the entries that carry one (hard-linked files only), as [entry index, st_dev]. */
  readonly devs: readonly (readonly [number, bigint])[];
  /** The symlinks' targets, in the order the symlinks appear. */
  readonly targets: readonly string[];
  /** Per entry: XATTRS_KEPT when its xattr digest was read (then '' unless listed in `xattrs`). */
  readonly metaFlags: Uint8Array;
  /** The non-empty xattr digests, as [entry index, digest]: most entries have none. */
  readonly xattrs: readonly (readonly [number, string])[];
  /** The files whose hash was set when encoded, as [entry index, hash] (a worker's scan has none). */
  readonly hashes: readonly (readonly [number, string])[];
  readonly problems: readonly Problem[];
  readonly leftoverTemps: readonly RelPath[];
  /** The walk's count of listings read ahead (ScanResult.listedAhead), where it has one. */
  readonly listedAhead?: number;
}

const XATTRS_KEPT = 1;

/** The count of listings read ahead, as a field where there is one: a scan without it stays without it. */
function listedAheadOf(scan: { readonly listedAhead?: number }): { listedAhead?: number } {
  return scan.listedAhead === undefined ? {} : { listedAhead: scan.listedAhead };
}

export class ScanCodecError extends Error {
  readonly code = 'SCAN_CODEC';
}

/** The columns of a scan, and the buffers to transfer (not copy) with them. */
export function encodeScan(scan: ScanResult): { readonly encoded: EncodedScan; readonly transfer: ArrayBuffer[] } {
  const inPlace = scan.entries instanceof GrowingScanTable ? scan.entries.inSlotOrder() : null;
  if (inPlace !== null) return encodeInSlotOrder(scan, inPlace);
  const count = scan.entries.size;
  const columns = allocColumns(count);
  const devs: [number, bigint][] = [];
  const metaFlags = new Uint8Array(count);
  const xattrs: [number, string][] = [];
  const targets: string[] = [];
  const hashes: [number, string][] = [];
  const paths = new PathBytes(count);
  let i = 0;
  for (const [path, s] of scan.entries) {
    paths.push(path);
    writeColumns(columns, i, s);
    const e = s.entry;
    if (s.stat.dev !== undefined) devs.push([i, s.stat.dev]);
    if (e.kind === 'symlink') targets.push(e.target);
    if (e.kind === 'file' && e.hash !== null) hashes.push([i, e.hash]);
    if (e.kind !== 'symlink' && e.xattrs !== undefined) {
      metaFlags[i] = XATTRS_KEPT;
      if (e.xattrs !== '') xattrs.push([i, e.xattrs]);
    }
    i++;
  }
  const { kinds, sizes, mtimeNs, ctimeNs, ino, modes, observed, nlinks, blocks, uids, gids } = columns;
  const encoded: EncodedScan = {
    side: scan.side,
    pathBytes: paths.take(),
    count,
    kinds,
    sizes,
    mtimeNs,
    ctimeNs,
    ino,
    modes,
    observed,
    nlinks,
    blocks,
    devs,
    uids,
    gids,
    metaFlags,
    xattrs,
    targets,
    hashes,
    problems: scan.problems,
    leftoverTemps: scan.leftoverTemps,
    ...listedAheadOf(scan),
  };
  const transfer = [kinds, sizes, mtimeNs, ctimeNs, ino, modes, observed.starts, observed.values, nlinks.values, blocks.values, uids, gids, metaFlags, encoded.pathBytes].map(
    (a) => a.buffer as ArrayBuffer,
  );
  return { encoded, transfer };
}

/**
 * A walk's table as it stands (scan-worker.ts): its columns go as they are, room to grow included, and no entry is
 * built per path; only the extras are put in the encoded form. Same result as encoding its entries one by one.
 */
function encodeInSlotOrder(scan: ScanResult, t: InSlotOrder): { readonly encoded: EncodedScan; readonly transfer: ArrayBuffer[] } {
  const { count, columns, pathBytes } = t;
  const metaFlags = new Uint8Array(count);
  const xattrs: [number, string][] = [];
  const hashes: [number, string][] = [];
  for (let i = 0; i < count; i++) {
    const hash = t.hashes.get(i);
    if (typeof hash === 'string') hashes.push([i, hash]);
    const digest = t.xattrs.get(i);
    if (digest === undefined) continue;
    metaFlags[i] = XATTRS_KEPT;
    if (digest !== '') xattrs.push([i, digest]);
  }
  const encoded: EncodedScan = {
    ...columns,
    side: scan.side,
    pathBytes,
    count,
    devs: [...t.devs],
    metaFlags,
    xattrs,
    targets: [...t.targets.values()],
    hashes,
    problems: scan.problems,
    leftoverTemps: scan.leftoverTemps,
    ...listedAheadOf(scan),
  };
  const { observed, nlinks, blocks, ...arrays } = columns;
  const transfer = [...Object.values(arrays), observed.starts, observed.values, nlinks.values, blocks.values, metaFlags, pathBytes];
  return { encoded, transfer: transfer.map((a: ArrayBufferView) => a.buffer as ArrayBuffer) };
}

/** The xattr digest of an entry the encoded scan has none for (scan/late-xattrs.ts); undefined: unknown. */
export type LateXattrDigest = (path: RelPath, stat: StatId) => string | undefined;

/**
 * The scan back as entries. `vouch` (the stat cache's step, null with --checksum) sets the hash of each
 * file that had none: the worker that encoded the scan could not consult the index. `lateXattrs`, when
 * given, supplies the digest of each file and directory the worker did not read xattrs for. `statCache`, when
 * given, answers as `vouch` and the index's side of `lateXattrs` do, from the index's columns (core/stat-words.ts):
 * then no stat or hash string is built for an entry it vouches for.
 * Entries are built in one shape each, as scan.ts builds them (absent metadata is an undefined field).
 */
export function decodeScan(
  c: EncodedScan,
  vouch: VouchHash | null,
  lateXattrs: LateXattrDigest | null = null,
  sharedPath?: SharedPath,
  pathSlots?: PathSlots,
  statCache?: StatCacheColumns,
): ScanResult {
  let reader: PathReader;
  try {
    reader = new PathReader(c.pathBytes, c.count);
  } catch (e) {
    throw e instanceof PathBytesError ? new ScanCodecError(e.message) : e;
  }
  const columns = [c.kinds, c.sizes, c.mtimeNs, c.ctimeNs, c.ino, c.modes, c.metaFlags];
  // a walk's table hands its columns over with the room it had left to grow (encodeInSlotOrder): longer is fine; the
  // ids may be uniform, one element for every slot (core/id-column.ts)
  const idColumns = [c.uids, c.gids];
  if (columns.some((col) => col.length < c.count) || idColumns.some((col) => col.length !== 1 && col.length < c.count)) {
    throw new ScanCodecError(`columns of ${[...columns, ...idColumns].map((col) => col.length).join(', ')} entries for ${c.count}`);
  }
  if (!wellFormedCounts(c.nlinks, c.count) || !wellFormedCounts(c.blocks, c.count)) throw new ScanCodecError(`link or block counts that do not cover ${c.count} entries`);
  // the observed times as runs of slots (core/observed-runs.ts): for exactly the entries encoded
  if (!wellFormedRuns(c.observed, c.count)) throw new ScanCodecError(`observed times in ${c.observed.runs} runs over ${c.observed.slots} slots for ${c.count} entries`);
  const paths: RelPath[] = [];
  const nextPath = (): RelPath => {
    try {
      return reader.next();
    } catch (e) {
      throw e instanceof PathBytesError ? new ScanCodecError(e.message) : e;
    }
  };
  const hashOf = c.hashes.length === 0 ? null : new Map(c.hashes);
  const devs = c.devs.length === 0 ? null : new Map(c.devs);
  const xattrsOf = new Map(c.xattrs);
  // What the columns do not say is settled now, while the index (vouch) and the root (lateXattrs) are at hand.
  const hashes = new HashColumn(c.count);
  const xattrs = new DigestColumn(c.count);
  const targets = new Map<number, string>();
  const words = statCache === undefined ? null : { ino: wordsOf(c.ino), ctime: wordsOf(c.ctimeNs), mtime: wordsOf(c.mtimeNs) };
  let link = 0;
  // The columns' lengths were checked above: every index below count is in range, hence the casts.
  for (let i = 0; i < c.count; i++) {
    // the index's string where it has one: the string just read then dies young (scan.ts SharedPath, PathReader). Asked
    // right before the vouching steps, which ask the index of the same path: it looks the path up once for all three.
    const read = nextPath();
    const path = sharedPath === undefined ? read : sharedPath(read);
    paths.push(path);
    const kind = c.kinds[i];
    if (kind === KIND_SYMLINK) {
      const target = c.targets[link++];
      if (target === undefined) throw new ScanCodecError(`no link target for ${JSON.stringify(path)}`);
      targets.set(i, target);
      continue;
    }
    if (kind !== KIND_FILE && kind !== KIND_DIR) throw new ScanCodecError(`unknown kind ${kind} for ${JSON.stringify(path)}`);
    const given = hashOf?.get(i);
    const wantHash = kind === KIND_FILE && vouch !== null && given === undefined;
    const xattrsGiven = c.metaFlags[i] === XATTRS_KEPT;
    const wantXattrs = !xattrsGiven && lateXattrs !== null;
    // the index's columns first: the slot of an entry it recorded and that is unchanged since, or -1
    const slot = (wantHash || wantXattrs) && statCache !== undefined && words !== null ? statCache.unchangedSlot(path, c.side, words.ino, i, words.ctime, i) : ASK_RECORDS;
    const cachedXattrs = wantXattrs && slot >= 0 ? statCache?.xattrsAt(slot) : undefined;
    // a stat for the steps left: all of them where the columns could not say, else xattrs to read
    const needsStat = slot === ASK_RECORDS ? wantHash || wantXattrs : wantXattrs && cachedXattrs === undefined;
    const stat = needsStat ? statAt(c, i, devs?.get(i)) : null;
    if (kind === KIND_FILE) {
      if (!wantHash) hashes.set(i, given ?? null);
      else if (slot === ASK_RECORDS) hashes.set(i, vouch === null || stat === null ? null : vouch(path, stat));
      else if (slot < 0 || words === null || statCache?.copyHash(slot, c.side, c.sizes[i] as number, words.mtime, i, hashes, i) !== true) hashes.set(i, null);
    }
    const digest = xattrsGiven ? (xattrsOf.get(i) ?? '') : (cachedXattrs ?? (stat === null ? undefined : lateXattrs?.(path, stat)));
    xattrs.set(i, digest);
  }
  if (link !== c.targets.length) throw new ScanCodecError(`${c.targets.length} link targets for ${link} symlinks`);
  try {
    reader.end();
  } catch (e) {
    throw e instanceof PathBytesError ? new ScanCodecError(e.message) : e;
  }
  const entries = new ScanTable(c, { hashes, xattrs, targets, devs }, paths, pathSlots);
  return { side: c.side, entries, problems: [...c.problems], leftoverTemps: [...c.leftoverTemps], ...listedAheadOf(c) };
}
