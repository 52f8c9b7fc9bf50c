import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, futimesSync, writeSync } from 'node:fs';
import { fsPromises } from '../fs/lazy-promises.js';
import { withEntry } from '../core/scanned.js';
import { isRacy } from '../core/stat-cache.js';
import type { Entry, Expectation, FileEntry, OwnerMeta, ScannedEntry, XattrMeta } from '../core/types.js';
import { errCode, isSparse, nowNs, statIdOf } from '../fs/stat.js';
import { hashBytes, streamingHash } from '../hash/xxhash.js';
import {
  changedSince,
  createTemp,
  discardTemp,
  hashHandle,
  installSite,
  ownedAsRecorded,
  type RenameGuard,
  renameIntoPlace,
  sameSource,
  secondsOf,
  SourceChangedError,
  sourceOpenError,
} from './copy-file.js';
import { StaleTargetError } from './guards.js';
import { alternatingBuffers, FRESH_BUFFERS } from './read-buffers.js';
import { HOLE_BLOCK, writeSkippingZeros } from './sparse-copy.js';

/**
 * The two halves of a copy whose sides do not share a machine (or, with TSYNC_STREAM_COPIES=1, a test of
 * that path between two local sides): the source side reads a file into chunks, the target side writes
 * them into a temp file and installs it. The kernel copy of copy-file.ts needs both files on one host.
 */

/** A multiple of HOLE_BLOCK, so that every chunk of a local read starts on a block boundary. */
export const STREAM_CHUNK = 256 * HOLE_BLOCK;

/** A file being read: its chunks, then (once they ended without error) what was read. */
export interface ReadStream {
  /** The bytes in order. Ends only once the source was checked unchanged after the read; throws otherwise. */
  readonly chunks: AsyncIterable<Buffer>;
  /** Settles after the chunks: the hash of the bytes sent and the source as it stood. Rejects like the chunks. */
  readonly done: Promise<ReadTrailer>;
  /** Gives up a stream that will not be read (its install failed first): a remote one stops sending. */
  cancel?(): void;
}

export interface ReadTrailer {
  readonly hash: string;
  readonly bytes: number;
  readonly source: ScannedEntry;
}

/**
 * Reads `sourceAbs` (descriptor-anchored, opened O_NOFOLLOW) as `scanned` saw it. The file is opened when
 * the first chunk is asked for, so a stream that is never read holds no descriptor. The same checks as a
 * local copy: changed since the scan is stale; changed while read (fstat, and a second read when the ctime
 * is too recent to prove anything) is SourceChangedError.
 *
 * `transientChunks`: the consumer is done with each chunk once it asks for the next one (the delta matcher,
 * which copies what it keeps), so the chunks are read into two buffers in turn (read-buffers.ts). Otherwise
 * each chunk is a buffer of its own, which the consumer may hold on to (a frame queued on a socket).
 */
export function openReadStream(sourceAbs: Buffer, scanned: ScannedEntry, label: string, racyWindowNs: bigint, transientChunks = false): ReadStream {
  let settle: { resolve: (t: ReadTrailer) => void; reject: (e: unknown) => void } = { resolve: () => undefined, reject: () => undefined };
  const done = new Promise<ReadTrailer>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // the chunks carry the error to whoever reads them; `done` must not count as an unhandled rejection too
  done.catch(() => undefined);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      const src = await fsPromises()
        .open(sourceAbs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
        .catch((e: unknown) => {
          throw sourceOpenError(label, errCode(e));
        });
      try {
        const before = await src.stat({ bigint: true });
        const observedAt = nowNs();
        if (!before.isFile() || !sameSource(statIdOf(before), scanned.stat)) throw new StaleTargetError(`${label}: the source changed since the scan`);
        const h = streamingHash();
        let pos = 0;
        // a file smaller than a chunk gets a buffer of its size (a block over, to see its end in the same
        // read): a 1 MiB buffer per small file was most of a small copy's cost (allocation and GC)
        const chunkSize = Math.min(STREAM_CHUNK, (Math.floor(Number(before.size) / HOLE_BLOCK) + 1) * HOLE_BLOCK);
        const buffers = transientChunks ? alternatingBuffers(chunkSize) : FRESH_BUFFERS;
        const readChunk = async (at: number): Promise<Buffer> => {
          const buf = buffers.take(chunkSize);
          let got = 0;
          while (got < chunkSize) {
            const { bytesRead } = await src.read(buf, got, chunkSize - got, at + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          return buf.subarray(0, got);
        };
        let next = readChunk(0);
        for (;;) {
          const chunk = await next;
          const got = chunk.length;
          if (got === 0) break;
          h.update(chunk);
          pos += got;
          // the next chunk is read while this one is consumed (matched, framed, sent); a short one was the last
          if (got === chunkSize) {
            next = readChunk(pos);
            // awaited on the next turn; a consumer that stops first must not leave it unhandled
            next.catch(() => undefined);
          }
          yield chunk;
          if (got < chunkSize) break;
        }
        const hash = h.digestHex();
        const changed = (): SourceChangedError => new SourceChangedError(`${label}: the source changed while it was copied`);
        if (pos !== Number(before.size) || changedSince(await src.stat({ bigint: true }), before)) throw changed();
        if (isRacy(before.ctimeNs, observedAt, racyWindowNs) && ((await hashHandle(src)) !== hash || changedSince(await src.stat({ bigint: true }), before))) throw changed();
        const e = scanned.entry;
        const entry: Entry = e.kind === 'file' ? { ...e, size: pos, mtimeNs: before.mtimeNs, mode: Number(before.mode) & 0o7777, hash } : e;
        settle.resolve({ hash, bytes: pos, source: { entry, stat: statIdOf(before), observedAtNs: nowNs() } });
      } finally {
        await src.close();
      }
    } catch (e) {
      settle.reject(e);
      throw e;
    }
  }
  return { chunks: chunks(), done };
}

/**
 * The sending end's account of a streamed copy against the receiving end's: both hashed the same bytes, so
 * a difference is a stream that lost or changed some on the way. The record holds what the target got (its
 * owner and xattrs as set), as a local copy's does.
 */
export function transferred(sent: ReadTrailer, got: StreamInstalled, label: string): { target: ScannedEntry; source: ScannedEntry; bytes: number } {
  if (sent.hash !== got.hash || sent.bytes !== got.bytes) throw new SourceChangedError(`${label}: the bytes installed differ from those read`);
  return { target: got.target, source: withEntry(sent.source, got.target.entry), bytes: got.bytes };
}

export interface InstallRequest {
  readonly targetDirAbs: Buffer;
  readonly targetAbs: Buffer;
  /** The source as scanned: size, mode, mtime and (if known) hash; its stat says whether it has holes. */
  readonly source: ScannedEntry;
  readonly expect: Expectation;
  readonly label: string;
  readonly beforeRename: () => void;
  readonly keepReplaced: () => void;
  /**
   * Sets owner, group and xattrs on the temp file (before its mode and mtime); returns what it set. It may
   * leave out a chown where the temp file already had the owner and group it returns: the installed file's
   * are checked after the rename, and set there if they differ (copy-file.ts ownedAsRecorded).
   */
  readonly applyMeta?: (tmpFd: number, tmpAbs: Buffer) => OwnerMeta & XattrMeta;
  /** A hash the bytes must have that is known only once they are through (a delta's end op): checked like the scanned one. */
  readonly finalHash?: () => string | null;
}

export interface StreamInstalled {
  readonly target: ScannedEntry;
  readonly bytes: number;
  readonly hash: string;
}

/**
 * Writes `chunks` into a new 0600 temp file beside the target, hashing exactly the bytes written. A source
 * with holes gets holes where a block is all zeros (as `cp --sparse=auto`; a chunk that does not start on a
 * block boundary only makes holes coarser, never wrong: what is not written reads as zeros). The size must
 * be the scanned one and the hash the scanned one where the scan had it: otherwise the source changed on
 * the way (SourceChangedError). Then owner, xattrs, mode and mtime, and renameIntoPlace: the stale check,
 * the trash, the rename. Any failure, the chunks' own included, removes the temp file.
 */
export async function installStream(req: InstallRequest, chunks: AsyncIterable<Buffer>): Promise<StreamInstalled> {
  const e = fileOf(req);
  const sparse = isSparse(req.source.stat);
  const { tmpAbs, fd } = createTemp(req.targetDirAbs);
  let installed = false;
  try {
    const h = streamingHash();
    let pos = 0;
    for await (const chunk of chunks) {
      h.update(chunk);
      writeChunk(fd, chunk, pos, sparse);
      pos += chunk.length;
    }
    const done = completeInstall(req, req, e, fd, tmpAbs, pos, h.digestHex(), sparse);
    installed = true;
    return done;
  } finally {
    closeSync(fd);
    if (!installed) discardTemp(tmpAbs);
  }
}

/**
 * installStream for bytes already in memory (a batch's small files): the same steps and checks, run without
 * yielding from the temp file's creation to the rename, so the target's entries go by bare names from inside
 * its directory (copy-file.ts installSite).
 */
export function installBytes(req: InstallRequest, bytes: Buffer): StreamInstalled {
  const e = fileOf(req);
  const sparse = isSparse(req.source.stat);
  const site = installSite(req);
  const { tmpAbs, fd } = createTemp(site.dirAbs);
  let installed = false;
  try {
    writeChunk(fd, bytes, 0, sparse);
    const done = completeInstall(req, site, e, fd, tmpAbs, bytes.length, hashBytes(bytes), sparse);
    installed = true;
    return done;
  } finally {
    closeSync(fd);
    if (!installed) discardTemp(tmpAbs);
  }
}

function fileOf(req: InstallRequest): FileEntry {
  const e = req.source.entry;
  if (e.kind !== 'file') throw new Error(`cannot install a ${e.kind} from a stream`);
  return e;
}

/** Writes `chunk` at `at`, leaving holes for its all-zero blocks when the source has holes. */
function writeChunk(fd: number, chunk: Buffer, at: number, sparse: boolean): void {
  const write = (from: number, to: number): void => {
    let off = from;
    while (off < to) off += writeSync(fd, chunk, off, to - off, at + off);
  };
  if (sparse) writeSkippingZeros(chunk, write);
  else write(0, chunk.length);
}

/** The checks on what was written (`pos` bytes hashing to `hash`), the metadata, and the rename over the target as `guard` names it. */
function completeInstall(req: InstallRequest, guard: RenameGuard, e: FileEntry, fd: number, tmpAbs: Buffer, pos: number, hash: string, sparse: boolean): StreamInstalled {
  if (sparse) ftruncateSync(fd, pos);
  if (pos !== e.size || (e.hash !== null && hash !== e.hash)) throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
  // a delta rebuilt from the wrong blocks (or a basis that changed under it) ends here, before the rename
  if (req.finalHash !== undefined && req.finalHash() !== hash) throw new SourceChangedError(`${req.label}: the file rebuilt from the delta differs from the source`);
  // owner first: a chown clears setuid/setgid, which the chmod after it sets again; the mtime last
  const meta = req.applyMeta?.(fd, tmpAbs) ?? {};
  fchmodSync(fd, e.mode);
  futimesSync(fd, secondsOf(e.mtimeNs), secondsOf(e.mtimeNs));
  renameIntoPlace(guard, tmpAbs);
  const entry: Entry = { kind: 'file', size: pos, mtimeNs: e.mtimeNs, mode: e.mode, hash, ...meta };
  // applyMeta may have left out a chown on a guess (apply-meta.ts applyToTempFile): what the rename installed is
  // checked on the same descriptor, and put right where the guess did not hold
  const st = ownedAsRecorded(fd, meta, e.mode, fstatSync(fd, { bigint: true }));
  return { target: { entry, stat: statIdOf(st), observedAtNs: nowNs() }, bytes: pos, hash };
}
