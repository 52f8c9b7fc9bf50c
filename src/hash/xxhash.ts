import { fsPromises } from '../fs/lazy-promises.js';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type xxhashInit from 'xxhash-wasm';

type XXHashApi = Awaited<ReturnType<typeof xxhashInit>>;

let api: XXHashApi | null = null;
let loading: Promise<void> | null = null;

/**
 * Compiles the WASM module once per process, on first need: a run that hashes nothing (a status of an
 * unchanged pair) never pays for it. Concurrent first callers share the one compile.
 */
export function loadHasher(): Promise<void> {
  loading ??= import('xxhash-wasm')
    .then(({ default: init }) => init())
    .then(
      (loaded) => {
        api = loaded;
      },
      (e: unknown) => {
        loading = null; // let a later call try again
        throw e;
      },
    );
  return loading;
}

/** True once loadHasher() has finished: callers that must not yield before their first step check this. */
export function hasherLoaded(): boolean {
  return api !== null;
}

function ready(): XXHashApi {
  if (api === null) throw new Error('loadHasher() must be awaited before a streaming hash');
  return api;
}

/** Chunk size for streaming reads: large enough that the per-call cost vanishes, small enough to stay in cache. */
export const HASH_CHUNK = 1 << 20;

export function hexOf(digest: bigint): string {
  return digest.toString(16).padStart(16, '0');
}

/** An incremental XXH64, for hashing data as it streams through a copy. */
export interface StreamingHash {
  update(chunk: Uint8Array): void;
  digestHex(): string;
}

/** XXH64 of bytes already in memory, in one call (a small file's whole content). */
export function hashBytes(data: Uint8Array): string {
  return hexOf(ready().h64Raw(data));
}

/** XXH64 of bytes already in memory, as the number itself (a delta block's strong hash: no hex string per block). */
export function hash64(data: Uint8Array): bigint {
  return ready().h64Raw(data);
}

export function streamingHash(): StreamingHash {
  const h = ready().create64();
  return {
    update: (chunk) => {
      h.update(chunk);
    },
    digestHex: () => hexOf(h.digest()),
  };
}

export interface HashedFile {
  readonly hash: string;
  /** Bytes read; differs from the expected size when the file changed underneath. */
  readonly size: number;
}

/**
 * Files up to this size are hashed with synchronous reads (hashSmallFileSync). Through hashFile each took an open, two
 * reads and a close on the thread pool, with a promise round trip for each, and the first call loaded `node:fs/promises`:
 * 23 ms of a 10k-file incremental run's CPU profile for the 50 same-sized changed files it had to read (issue 11).
 * Larger files keep hashFile, whose reads overlap the hashing and run several files at once.
 */
export const SYNC_HASH_MAX = 256 * 1024;

/**
 * hashFile for a small file, with synchronous calls on this thread and the same opening flags: null when the file is
 * larger than SYNC_HASH_MAX (or than `buffer`) as opened, for the caller to stream with hashFile. Errors are thrown as
 * hashFile throws them. loadHasher() must have been awaited.
 */
export function hashSmallFileSync(path: Buffer, buffer: Buffer): HashedFile | null {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (fstatSync(fd).size > Math.min(SYNC_HASH_MAX, buffer.length)) return null;
    const h = ready().create64();
    let size = 0;
    // to the end, as hashFile reads: a file that grew since its fstat is hashed whole, as it is now
    for (;;) {
      const got = readSync(fd, buffer, 0, buffer.length, size);
      if (got === 0) break;
      h.update(got === buffer.length ? buffer : buffer.subarray(0, got));
      size += got;
    }
    return { hash: hexOf(h.digest()), size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams a file through XXH64, reading the next chunk while the current one is hashed. Opens with
 * O_NOFOLLOW so a file swapped for a symlink after the scan is never followed. The caller compares
 * stats before and after when it needs a stable answer.
 */
export async function hashFile(path: Buffer, buffer: Buffer): Promise<HashedFile> {
  await loadHasher();
  const fh = await fsPromises().open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const h = ready().create64();
    const half = buffer.length >>> 1;
    const bufs = [buffer.subarray(0, half), buffer.subarray(half)] as const;
    let size = 0;
    let i = 0;
    let reading = fh.read(bufs[0], 0, half, 0);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const cur = bufs[i % 2] as Buffer;
      reading = fh.read(bufs[(i + 1) % 2] as Buffer, 0, half, size + bytesRead);
      h.update(bytesRead === half ? cur : cur.subarray(0, bytesRead));
      size += bytesRead;
      i++;
    }
    return { hash: hexOf(h.digest()), size };
  } finally {
    await fh.close();
  }
}
