import type { AbsPath, KeptMeta, RelPath, ScannedEntry, Side } from '../core/types.js';
import type { ErrorFields } from './error-fields.js';

/** What a copy worker thread starts with (its workerData): both roots, and how this run writes to each. */
export interface CopyWorkerSetup {
  readonly roots: Readonly<Record<Side, AbsPath>>;
  readonly keep: KeptMeta;
  readonly chownRefused: boolean;
  readonly racyWindowNs: Readonly<Record<Side, bigint>>;
}

/** One copy the worker makes: the file at `path` on the other side, as scanned, to `path` on side `to`, where nothing is. */
export interface CopyJob {
  readonly path: RelPath;
  readonly to: Side;
  readonly source: ScannedEntry;
}

export type CopyWorkerRequest = { readonly type: 'chunk'; readonly id: number; readonly jobs: readonly CopyJob[] } | { readonly type: 'end' };

export type CopyJobResult = { readonly ok: { readonly target: ScannedEntry; readonly source: ScannedEntry; readonly bytes: number } } | { readonly error: ErrorFields };

export type CopyWorkerReply =
  /** The worker has started its run (its isolate is made, the hasher loaded): chunks are copied from now on. */
  | { readonly type: 'ready' }
  | { readonly type: 'chunk'; readonly id: number; readonly results: readonly CopyJobResult[] }
  /** The answer to `end`: the run's warnings (what could not be kept), once the worker has closed what it held. */
  | { readonly type: 'ended'; readonly warnings: readonly string[] }
  /** The worker could not start its run (the hasher did not load, say): nothing was copied. */
  | { readonly type: 'failed'; readonly message: string };
