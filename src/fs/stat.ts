import { lstatSync, type BigIntStats } from 'node:fs';
import type { Entry, StatId } from '../core/types.js';

export function statIdOf(st: BigIntStats): StatId {
  const id = { ino: st.ino, ctimeNs: st.ctimeNs, size: Number(st.size), mtimeNs: st.mtimeNs, nlink: Number(st.nlink), blocks: Number(st.blocks) };
  // the device only matters to group hard links; a BigInt per entry for every other file is memory for nothing
  return st.nlink > 1n && st.isFile() ? { ...id, dev: st.dev } : id;
}

/** A file with fewer blocks allocated than its size needs has holes (what `cp --sparse=auto` looks at). */
export function isSparse(st: { readonly size: number | bigint; readonly blocks?: number | bigint }): boolean {
  return st.blocks !== undefined && BigInt(st.blocks) * 512n < BigInt(st.size);
}

let lastMs = -1;
let lastNowNs = 0n;

/**
 * Wall-clock time in ns (ms resolution). A scan stamps every entry with it: within one millisecond the
 * same BigInt is handed out again instead of a new one per entry (a 100k-path scan kept 100k of them).
 */
export function nowNs(): bigint {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastNowNs = BigInt(ms) * 1_000_000n;
  }
  return lastNowNs;
}

/** lstat with nanosecond times; null when nothing is there. */
export function lstatOrNull(p: Buffer): BigIntStats | null {
  try {
    return lstatSync(p, { bigint: true });
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return null;
    throw e;
  }
}

export function kindOfStat(st: BigIntStats): Entry['kind'] | 'special' {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'special';
}

export function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

export function errCode(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'EUNKNOWN';
}
