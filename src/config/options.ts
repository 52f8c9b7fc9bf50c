import { DEFAULT_DELETE_LIMIT, type DeleteLimit } from '../core/safety.js';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../core/types.js';
import { UsageError } from '../errors.js';

export { CONFLICT_POLICIES, type ConflictPolicy };

/** Two parallel file operations per core keeps both the disk and the hasher busy (bench/README.md). */
export const DEFAULT_CONCURRENCY = 8;

/** What a delete limit, a concurrency and a trash age look like: shared by the flags' and the config file's errors. */
export const EXPECTED_DELETE_LIMIT = 'a number of files (e.g. 100) or a share (e.g. 10%)';
export const EXPECTED_CONCURRENCY = 'a whole number from 1 to 256';
export const EXPECTED_DAYS = 'a number of days';

/** `--max-delete N` (files) or `--max-delete P%` (share of the destination's files). */
export function parseDeleteLimit(text: string | undefined): DeleteLimit {
  if (text === undefined) return DEFAULT_DELETE_LIMIT;
  const limit = deleteLimitOf(text);
  if (limit === 'over-100%') throw new UsageError(`--max-delete ${text}: a share must be between 0% and 100%`);
  if (limit === null) throw new UsageError(`--max-delete ${text}: expected ${EXPECTED_DELETE_LIMIT}`);
  return limit;
}

/** The limit `text` names; null when it names none. */
export function deleteLimitOf(text: string): DeleteLimit | 'over-100%' | null {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct?.[1] !== undefined) {
    const percent = Number(pct[1]);
    return percent > 100 ? 'over-100%' : { kind: 'percent', percent };
  }
  return /^\d+$/.test(text) ? { kind: 'count', count: Number(text) } : null;
}

export function parseConflictPolicy(text: string): ConflictPolicy {
  const found = CONFLICT_POLICIES.find((p) => p === text);
  if (found === undefined) throw new UsageError(`--conflict ${text}: expected one of ${CONFLICT_POLICIES.join(', ')}`);
  return found;
}

export function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CONCURRENCY;
  const n = concurrencyOf(text);
  if (n === null) throw new UsageError(`--concurrency ${text}: expected ${EXPECTED_CONCURRENCY}`);
  return n;
}

export function concurrencyOf(text: string): number | null {
  const n = Number(text);
  return /^\d+$/.test(text) && n >= 1 && n <= 256 ? n : null;
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
  const ms = trashKeepOf(value);
  if (ms === null) throw new UsageError(`--trash-keep ${value}: expected ${EXPECTED_DAYS}`);
  return ms;
}

/** `DAYS` in milliseconds; null when it is not a number of days. */
export function trashKeepOf(text: string): number | null {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) * 86_400_000 : null;
}
