// Self-test of the replica checks in verify.mjs, on tiny real trees in a temp dir. run.mjs and
// watch.mjs run it before measuring anything (a verifier that cannot fail would mark every replica ✓);
// it also runs on its own: `node bench/lib/verify-self-test.mjs` (exit 1 on failure).
import { cpSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareTrees } from './verify.mjs';

/**
 * Returns the failed expectations (empty when the verifier behaves).
 * @returns {string[]}
 */
export function verifierSelfTest() {
  const base = mkdtempSync(join(tmpdir(), 'tsync-bench-verify-'));
  /** @type {string[]} */
  const failures = [];
  let n = 0;
  /** A source tree with a `.tsync` below the root and a `.tsyncfoo` at the root: both are user content. */
  const source = join(base, 'src');
  write(source, 'a.txt', 'a');
  write(source, 'd/.tsync/kept', 'user data in a nested .tsync');
  write(source, '.tsyncfoo', 'user data');
  /** Each case: a fresh replica of the source, changed by `edit`, and the mismatch it must (or must not) produce. */
  /** @param {string} label @param {(replica: string) => void} edit @param {string} wanted */
  const expect = (label, edit, wanted) => {
    const replica = join(base, `replica-${++n}`);
    cpSync(source, replica, { recursive: true, preserveTimestamps: true });
    edit(replica);
    const r = compareTrees(source, replica, { content: 'all', dirMeta: false });
    const got = r.ok ? 'ok' : r.problems.join('; ');
    if (got !== wanted) failures.push(`${label}: expected ${wanted === 'ok' ? 'no mismatch' : `"${wanted}"`}, got ${got === 'ok' ? 'no mismatch' : `"${got}"`}`);
  };
  try {
    expect('identical replica', () => {}, 'ok');
    expect('tsync trash at the replica root', (r) => write(r, '.tsync/trash/2024-01-01T00-00-00.000Z/a.txt', 'old a'), 'ok');
    expect('missing file', (r) => unlinkSync(join(r, 'a.txt')), 'missing in replica: a.txt');
    expect('.tsync below the root', (r) => write(r, 'd/.tsync/extra', 'x'), 'extra in replica: d/.tsync/extra');
    expect('.tsync-prefixed name at the root', (r) => write(r, '.tsyncbar', 'x'), 'extra in replica: .tsyncbar');
    expect('leftover temp file', (r) => write(r, 'd/.tsync-tmp-123-1', 'x'), 'extra in replica: d/.tsync-tmp-123-1');
    expect('.tsyncfoo content', (r) => write(r, '.tsyncfoo', 'USER DATA'), 'content differs: .tsyncfoo');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return failures;
}

/** @param {string} root @param {string} rel @param {string} text */
function write(root, rel, text) {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  // A fixed mtime, so the replica's copy (preserveTimestamps) matches to the nanosecond.
  utimesSync(p, 1_700_000_000, 1_700_000_000);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const failures = verifierSelfTest();
  for (const f of failures) console.error(`verify self-test: ${f}`);
  console.error(failures.length === 0 ? 'verify self-test: ok' : `verify self-test: ${failures.length} failed`);
  process.exit(failures.length === 0 ? 0 : 1);
}
