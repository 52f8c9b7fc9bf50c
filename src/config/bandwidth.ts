import { UsageError } from '../errors.js';

const SUFFIX: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * `--bwlimit RATE`: bytes per second, with an optional k, M or G suffix (powers of 1024, either case, an
 * optional trailing B or /s as people write it: `500K`, `4M`, `1.5MB/s`). Absent: no limit (null).
 */
export function parseBandwidth(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)(?:[bB])?(?:\/s)?$/.exec(text.trim());
  const n = m === null ? Number.NaN : Number(m[1]) * (SUFFIX[(m[2] ?? '').toLowerCase()] ?? Number.NaN);
  if (!Number.isFinite(n) || n < 1024) throw new UsageError(`--bwlimit ${text}: expected bytes per second of at least 1K, like 500K, 4M or 1G`);
  return Math.floor(n);
}
