// Cheap correctness checks for bench/run.mjs: is B an exact replica of A?
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** tsync sets mtimes through utimes() with a double, which keeps ~0.24 µs; allow 2 µs. */
const MTIME_TOLERANCE_NS = 2000n;

/**
 * tsync keeps its trash (src/engine/trash.ts: `<root>/.tsync/trash/<stamp>/…`) in `<root>/.tsync/`, which
 * is not part of the replica. Only that one name, only at the root: a `.tsync` further down, a
 * `.tsyncfoo`, a conflict copy or a leftover `.tsync-tmp-*` temp file is compared like any other entry.
 */
export const TSYNC_OWN_DIR = '.tsync';

/** True for the entry `name` in the directory `dirRel` ('' = the root) that belongs to tsync, not to the tree. */
/** @param {string} dirRel @param {string} name */
export function isTsyncOwnEntry(dirRel, name) {
  return dirRel === '' && name === TSYNC_OWN_DIR;
}

/**
 * Lists every entry below root except tsync's own: Map rel -> BigIntStats (lstat, symlinks not followed).
 * @param {string} root
 */
export function walk(root) {
  /** @type {Map<string, import('node:fs').BigIntStats>} */
  const out = new Map();
  const stack = [''];
  while (stack.length > 0) {
    const dir = /** @type {string} */ (stack.pop());
    for (const d of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (isTsyncOwnEntry(dir, d.name)) continue;
      const rel = dir === '' ? d.name : `${dir}/${d.name}`;
      const st = lstatSync(join(root, rel), { bigint: true });
      out.set(rel, st);
      if (st.isDirectory()) stack.push(rel);
    }
  }
  return out;
}

/** @param {import('node:fs').BigIntStats} st */
function kindOf(st) {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * Compares two trees. Options:
 *   content: 'all' | 'sample' | 'none' — compare file bytes for every file, ~1 in `sampleEvery`, or none
 *   dirMeta: compare directory mode and mtime (not the roots')
 *   fileMtime: compare file mtimes
 *   allowExtra: a Set of paths that may exist in the replica only (e.g. files cp cannot delete)
 * Returns { ok, files, dirs, problems: [first few mismatch descriptions], mismatches }.
 * @param {string} a @param {string} b
 * @param {{ content?: 'all' | 'sample' | 'none', sampleEvery?: number, dirMeta?: boolean, fileMtime?: boolean, allowExtra?: Set<string> }} [options]
 */
export function compareTrees(a, b, { content = 'all', sampleEvery = 50, dirMeta = true, fileMtime = true, allowExtra } = {}) {
  const ta = walk(a);
  const tb = walk(b);
  /** @type {string[]} */
  const problems = [];
  let mismatches = 0;
  const bad = (/** @type {string} */ msg) => {
    mismatches++;
    if (problems.length < 5) problems.push(msg);
  };
  let files = 0;
  let dirs = 0;
  let i = 0;
  for (const [rel, sa] of ta) {
    const sb = tb.get(rel);
    if (sb === undefined) {
      bad(`missing in replica: ${rel}`);
      continue;
    }
    const ka = kindOf(sa);
    if (ka !== kindOf(sb)) {
      bad(`kind differs: ${rel}`);
      continue;
    }
    if (ka === 'dir') {
      dirs++;
      if (dirMeta) {
        if ((sa.mode & 0o7777n) !== (sb.mode & 0o7777n)) bad(`dir mode differs: ${rel}`);
        if (absDiff(sa.mtimeNs, sb.mtimeNs) > MTIME_TOLERANCE_NS) bad(`dir mtime differs: ${rel}`);
      }
      continue;
    }
    if (ka !== 'file') continue;
    files++;
    if (sa.size !== sb.size) {
      bad(`size differs: ${rel} (${sa.size} vs ${sb.size})`);
      continue;
    }
    if ((sa.mode & 0o7777n) !== (sb.mode & 0o7777n)) bad(`mode differs: ${rel}`);
    if (fileMtime && absDiff(sa.mtimeNs, sb.mtimeNs) > MTIME_TOLERANCE_NS) bad(`mtime differs: ${rel}`);
    const check = content === 'all' || (content === 'sample' && i++ % sampleEvery === 0);
    if (check && !sameBytes(join(a, rel), join(b, rel), Number(sa.size))) bad(`content differs: ${rel}`);
  }
  for (const rel of tb.keys()) if (!ta.has(rel) && !allowExtra?.has(rel)) bad(`extra in replica: ${rel}`);
  return { ok: mismatches === 0, files, dirs, mismatches, problems };
}

/** @param {bigint} x @param {bigint} y */
function absDiff(x, y) {
  return x > y ? x - y : y - x;
}

/** @param {string} pa @param {string} pb @param {number} size */
function sameBytes(pa, pb, size) {
  if (size <= 8 << 20) return readFileSync(pa).equals(readFileSync(pb));
  const fa = openSync(pa, 'r');
  const fb = openSync(pb, 'r');
  try {
    const ba = Buffer.allocUnsafe(4 << 20);
    const bb = Buffer.allocUnsafe(4 << 20);
    for (let pos = 0; ; ) {
      const na = readSync(fa, ba, 0, ba.length, pos);
      const nb = readSync(fb, bb, 0, bb.length, pos);
      if (na !== nb) return false;
      if (na === 0) return true;
      if (!ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      pos += na;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/**
 * Checks that each listed file under root has the expected sha1 (the two-way check: did the edit arrive?).
 * @param {string} root @param {Map<string, string>} expect
 */
export function checkContents(root, expect) {
  /** @type {string[]} */
  const problems = [];
  let mismatches = 0;
  for (const [rel, sha] of expect) {
    let got;
    try {
      got = createHash('sha1')
        .update(readFileSync(join(root, rel)))
        .digest('hex');
    } catch (e) {
      got = `(${/** @type {NodeJS.ErrnoException} */ (e).code})`;
    }
    if (got !== sha) {
      mismatches++;
      if (problems.length < 5) problems.push(`${rel}: expected the edited content, found ${got === sha ? 'it' : 'other content'}`);
    }
  }
  return { ok: mismatches === 0, mismatches, problems };
}
