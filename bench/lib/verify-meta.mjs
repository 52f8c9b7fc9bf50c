// Metadata checks for bench/run.mjs's `xattrs` scenario: does B carry A's owners, groups and user.* xattrs?
// (compareTrees in verify.mjs covers the file set, modes, mtimes and contents; this covers the rest.)
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { walk } from './verify.mjs';

/**
 * The user.* xattrs of one entry as name=hex value, sorted: comparable as one string. Only user.*: the
 * bench sets only those, and security.* (e.g. SELinux labels) may legitimately differ between trees.
 * @param {string} path
 */
function userXattrs(path) {
  return listAttributesSync(path)
    .filter((n) => n.startsWith('user.'))
    .sort()
    .map((n) => `${n}=${getAttributeSync(path, n)?.toString('hex') ?? ''}`)
    .join(',');
}

/**
 * Every entry of A has the same uid, gid and user.* xattrs in B (entries missing from B are compareTrees'
 * business and skipped here). Returns the verdict shape run.mjs's timed() expects.
 * @param {string} a @param {string} b
 * @returns {{ ok: boolean, mismatches: number, problems: string[] }}
 */
export function compareMeta(a, b) {
  const A = walk(a);
  const B = walk(b);
  /** @type {string[]} */
  const problems = [];
  let mismatches = 0;
  const note = (/** @type {string} */ msg) => {
    mismatches++;
    if (problems.length < 5) problems.push(msg);
  };
  for (const [rel, sa] of A) {
    const sb = B.get(rel);
    if (!sb) continue;
    if (sa.uid !== sb.uid || sa.gid !== sb.gid) note(`${rel}: owner ${sb.uid}:${sb.gid}, source ${sa.uid}:${sa.gid}`);
    if (sa.isSymbolicLink()) continue;
    const xa = userXattrs(join(a, rel));
    const xb = userXattrs(join(b, rel));
    if (xa !== xb) note(`${rel}: xattrs [${xb.slice(0, 80)}], source [${xa.slice(0, 80)}]`);
  }
  return { ok: mismatches === 0, mismatches, problems };
}
