import { displayPath } from '../core/paths.js';
import { withEntry } from '../core/scanned.js';
import type { Action, CopyAction, KeptMeta, Side } from '../core/types.js';
import type { BatchInstallItem, Copied, Endpoint, Installed, PerFile } from '../endpoint/endpoint.js';
import { NO_XATTRS } from './apply-meta.js';
import { SourceChangedError } from './copy-file.js';
import { type ReadTrailer, transferred } from './stream-copy.js';

/**
 * Batched copies of small files between sides that do not share a machine (issue 15): one request reads
 * many files whole on the source side, one request installs them on the target side. Streamed one by one,
 * each small file cost a request, its upload frames, a reply and a promise chain on both ends: about as
 * much as its bytes, so thousands of them were bound by the per-file overhead, not by the link.
 * The guarantees are install's, per file (each is installed on its own, endpoint installBatch): a file
 * that fails fails alone, and only the files the target confirmed are reported as copied.
 */

/** Files up to this size go in batches; larger ones are streamed (their bytes dwarf a request's cost). */
export const BATCH_FILE_MAX = 64 * 1024;
/** A batch closes at this many bytes of content or this many files, whichever comes first. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 512;
/** Batches in flight at once: one being read while others travel and are installed. */
export const BATCHES_IN_FLIGHT = 4;

/**
 * TEST HOOK: TSYNC_BATCH_COPIES=0 streams small files one by one as before (the bench compares both ways,
 * and the stream-path tests keep a path for single small installs).
 */
export function batchingAllowed(): boolean {
  return process.env.TSYNC_BATCH_COPIES !== '0';
}

/** A copy of a small regular file from one side to the other. */
export function isBatchable(a: Action): a is CopyAction {
  return a.type === 'copy' && a.source.entry.kind === 'file' && a.source.entry.size <= BATCH_FILE_MAX;
}

/** Cuts the copies into batches, each going one way (a two-way run copies both ways). */
export function intoBatches(copies: readonly CopyAction[]): CopyAction[][] {
  const batches: CopyAction[][] = [];
  for (const side of ['left', 'right'] as const) {
    let batch: CopyAction[] = [];
    let bytes = 0;
    for (const a of copies) {
      if (a.target !== side) continue;
      const size = a.source.entry.kind === 'file' ? a.source.entry.size : 0;
      if (batch.length > 0 && (batch.length >= BATCH_FILES || bytes + size > BATCH_BYTES)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(a);
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
  }
  return batches;
}

export interface BatchContext {
  readonly endpoints: Readonly<Record<Side, Endpoint>>;
  readonly keep: KeptMeta;
  readonly chownRefused: boolean;
}

export interface BatchCopied {
  readonly action: CopyAction;
  readonly result: PerFile<Copied>;
}

/**
 * Copies one batch (all to the same side): read on the source side, install on the target side, then
 * each file's account of what was read against what was installed (stream-copy.ts transferred). A failure
 * of a whole request (the link lost) is every file's failure.
 */
export async function copyBatch(batch: readonly CopyAction[], ctx: BatchContext): Promise<BatchCopied[]> {
  const first = batch[0];
  if (first === undefined) return [];
  const toSide = first.target;
  const src = ctx.endpoints[toSide === 'left' ? 'right' : 'left'];
  const dst = ctx.endpoints[toSide];
  const out: BatchCopied[] = [];
  const pending: { action: CopyAction; sent: ReadTrailer }[] = [];
  const items: BatchInstallItem[] = [];
  try {
    const reads = await src.readBatch(
      batch.map((a) => ({
        path: a.path,
        scanned: a.source,
        // none at scan time means none now: adding one changes the ctime, which the read checks
        xattrs: ctx.keep.xattrs && a.source.entry.kind === 'file' && a.source.entry.xattrs !== '',
        noteOwner: ctx.chownRefused,
      })),
    );
    if (reads.length !== batch.length) throw new Error(`a batch of ${batch.length} reads answered ${reads.length}`);
    batch.forEach((action, i) => {
      const read = reads[i];
      const e = action.source.entry;
      if (read === undefined || e.kind !== 'file') return;
      if ('error' in read) {
        out.push({ action, result: read });
        return;
      }
      const { bytes, trailer } = read.ok;
      // the scan's hash, where it had one, must be what was read (as install checks it for a streamed copy)
      if (e.hash !== null && e.hash !== trailer.hash) {
        out.push({ action, result: { error: new SourceChangedError(`${displayPath(action.path)}: the source changed while it was copied`) } });
        return;
      }
      const xattrs = !ctx.keep.xattrs ? null : e.xattrs === '' ? NO_XATTRS : read.ok.xattrs;
      // the hash sent along is checked by the target against the bytes it got, before its rename
      items.push({ path: action.path, source: withEntry(action.source, { ...e, hash: trailer.hash }), expect: action.expect, bytes, xattrs });
      pending.push({ action, sent: trailer });
    });
  } catch (error) {
    return batch.map((action) => ({ action, result: { error } }));
  }
  if (items.length === 0) return out;
  let installed: PerFile<Installed>[];
  try {
    installed = await dst.installBatch(items);
    if (installed.length !== items.length) throw new Error(`a batch of ${items.length} installs answered ${installed.length}`);
  } catch (error) {
    for (const { action } of pending) out.push({ action, result: { error } });
    return out;
  }
  pending.forEach(({ action, sent }, i) => {
    const got = installed[i];
    if (got === undefined) return;
    if ('error' in got) {
      out.push({ action, result: got });
      return;
    }
    try {
      out.push({ action, result: { ok: transferred(sent, got.ok, displayPath(action.path)) } });
    } catch (error) {
      out.push({ action, result: { error } });
    }
  });
  return out;
}
