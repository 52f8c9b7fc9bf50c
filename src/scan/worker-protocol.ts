import type { AbsPath, KeptMeta, Side } from '../core/types.js';
import type { FilterRules } from '../ignore/path-filter.js';
import type { EncodedScan } from './scan-codec.js';

/** What a scan worker is asked to do: walk one side with a filter of its own (see scan-worker.ts). */
export interface ScanJob {
  readonly root: AbsPath;
  readonly side: Side;
  readonly rules: FilterRules;
  /** The roots whose ignore files the filter reads: the same as the main thread's filter. */
  readonly filterRoots: readonly AbsPath[];
  /** Owner, group and xattrs to record (absent: none). */
  readonly keep?: KeptMeta;
  /** About how many entries to expect (WalkOptions.expectedEntries). */
  readonly expectedEntries?: number;
}

/** The worker's one message: the scan in columns and the ignore rules its filter read, or why it failed. */
export type ScanReply = { readonly ok: true; readonly scan: EncodedScan; readonly rulesRead: readonly (readonly [string, string])[] } | { readonly ok: false; readonly message: string };
