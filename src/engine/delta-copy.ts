// A large file that changed, copied to a side that holds an older version of it, as a delta: the target
// sends the block sums of what it has (Endpoint.signature), the source sends only the bytes the target
// lacks plus references to blocks it has (Endpoint.openDelta), and the target rebuilds the file in a temp
// file from its old version and those (Endpoint.installDelta), then installs it as any other copy.
//
// Why rsync's rolling checksum and not content-defined chunking: this is one file against its own older
// version on the other side, known by path, so the single round trip of signature then delta is all it
// takes, and a match is found at any byte offset (CDC needs both sides to chunk the file and sends chunk
// hashes for the whole of it both ways, and an edit costs a whole variable-size chunk on either side, with
// a spread the benchmark's "≤ 1.2× rsync's bytes" has little room for). Chunk-level dedup across files,
// where CDC shines, is not something a path-by-path sync needs.
//
// Safety does not rest on the checksums: the rebuilt file's XXH64 must equal the source's (sent at the
// delta's end) before it is renamed into place, and the executor checks both ends' accounts after, as for
// a full copy. Any mismatch falls back to a full copy.
import type { Expectation, RelPath, ScannedEntry } from '../core/types.js';
import { blockSizeFor } from '../delta/block-signature.js';
import type { Copied, Endpoint, Xattrs } from '../endpoint/endpoint.js';
import { SourceChangedError } from './copy-file.js';
import { transferred } from './stream-copy.js';

/** Below this, a whole file costs little more than its signature and a round trip. */
export const DELTA_MIN_SIZE = 1024 * 1024;

/** Only across machines (a local copy is a kernel copy), between two files both large enough, one of them in place. */
export function deltaApplies(src: Endpoint, dst: Endpoint, from: ScannedEntry, expect: Expectation): boolean {
  if (src.isLocal && dst.isLocal) return false;
  return from.entry.kind === 'file' && from.entry.size >= DELTA_MIN_SIZE && expect !== null && expect.kind === 'file' && expect.size >= DELTA_MIN_SIZE;
}

export interface DeltaCopyRequest {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly fromPath: RelPath;
  readonly from: ScannedEntry;
  readonly toPath: RelPath;
  readonly expect: Expectation;
  readonly xattrs: Xattrs;
  readonly label: string;
}

/** The copy, or null when the delta did not reproduce the source (the caller then copies the whole file). */
export async function copyByDelta(r: DeltaCopyRequest): Promise<Copied | null> {
  const expect = r.expect;
  if (expect === null) return null;
  const blockSize = blockSizeFor(expect.size);
  try {
    const sig = await r.dst.signature(r.toPath, expect, blockSize);
    const read = await r.src.openDelta(r.fromPath, r.from, sig);
    let got: Awaited<ReturnType<Endpoint['installDelta']>>;
    try {
      got = await r.dst.installDelta(r.toPath, r.from, expect, { path: r.toPath, expect, blockSize }, read.chunks, r.xattrs);
    } catch (e) {
      read.cancel?.();
      throw e;
    }
    return transferred(await read.done, got, r.label);
  } catch (e) {
    if (isDeltaMismatch(e)) return null;
    throw e;
  }
}

/**
 * What a full copy may cure: the rebuilt file was not the source (a wrong block, or the source changed,
 * which the full copy then finds too), or a malformed delta or signature. A stale target, an unsafe path,
 * a lost link or an I/O error is the run's to report as it would for a full copy.
 */
function isDeltaMismatch(e: unknown): boolean {
  if (e instanceof SourceChangedError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'DELTA_FORMAT' || code === 'DELTA_SIGNATURE';
}
