import { DEFAULT_DELETE_LIMIT, type DeleteLimit } from '../core/safety.js';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../core/types.js';
import { UsageError } from '../errors.js';

export { CONFLICT_POLICIES, type ConflictPolicy };

/** Two parallel file operations per core keeps both the disk and the hasher busy (bench/README.md). */
export const DEFAULT_CONCURRENCY = 8;

/** `--max-delete N` (files) or `--max-delete P%` (share of the destination's files). */
export function parseDeleteLimit(text: string | undefined): DeleteLimit {
  if (text === undefined) return DEFAULT_DELETE_LIMIT;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct?.[1] !== undefined) {
    const percent = Number(pct[1]);
    if (percent > 100) throw new UsageError(`--max-delete ${text}: a share must be between 0% and 100%`);
    return { kind: 'percent', percent };
  }
  if (/^\d+$/.test(text)) return { kind: 'count', count: Number(text) };
  throw new UsageError(`--max-delete ${text}: expected a number of files (e.g. 100) or a share (e.g. 10%)`);
}

export function parseConflictPolicy(text: string): ConflictPolicy {
  const found = CONFLICT_POLICIES.find((p) => p === text);
  if (found === undefined) throw new UsageError(`--conflict ${text}: expected one of ${CONFLICT_POLICIES.join(', ')}`);
  return found;
}

export function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 256) throw new UsageError(`--concurrency ${text}: expected a whole number from 1 to 256`);
  return n;
}

/** `--wait` alone waits for ever; `--wait N` at most N seconds; no flag: not at all. */
export function parseWait(value: string | boolean | undefined): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return Number.POSITIVE_INFINITY;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new UsageError(`--wait ${value}: expected a number of seconds`);
  return n;
}

/** `--rescan-interval SECONDS` for watch: how often a full scan backs up the watcher (default 10 minutes). */
export function parseRescanInterval(value: string | undefined): number {
  if (value === undefined) return 600_000;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < 1) throw new UsageError(`--rescan-interval ${value}: expected a number of seconds, at least 1`);
  return n * 1000;
}

/** `--trash-keep DAYS`: how long trash folders are kept (default 30 days). */
export function parseTrashKeep(value: string | undefined): number {
  if (value === undefined) return 30 * 86_400_000;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--trash-keep ${value}: expected a number of days`);
  return n * 86_400_000;
}
