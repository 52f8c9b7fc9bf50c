import { ancestorsOf } from './paths.js';
import type { Problem, RelPath } from './types.js';

/** Paths whose scan failed on either side: they and everything below them are left untouched. */
export type BlockedPaths = ReadonlySet<RelPath>;

export function blockedPaths(problems: readonly Problem[]): BlockedPaths {
  return new Set(problems.map((p) => p.path));
}

export function isBlocked(blocked: BlockedPaths, path: RelPath): boolean {
  if (blocked.size === 0) return false;
  if (blocked.has(path)) return true;
  for (const a of ancestorsOf(path)) if (blocked.has(a)) return true;
  return false;
}
