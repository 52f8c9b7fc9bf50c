import { lstatSync, type BigIntStats } from 'node:fs';
import type { Entry, StatId } from '../core/types.js';

export function statIdOf(st: BigIntStats): StatId {
  return { ino: st.ino, ctimeNs: st.ctimeNs, size: Number(st.size), mtimeNs: st.mtimeNs };
}

export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

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
