// Real faults in the scan's native listing (fs/native-listing.ts), where the fault layer cannot reach
// (test/faults/fault-layer.mjs walks through Node's fs). Run as an unprivileged user: a directory it may not read
// cannot be listed (EACCES from openat), and one it may read but not search has names that cannot be looked up
// (EACCES from fstatat). A run must report both as the walk through Node's fs does (TSYNC_NATIVE=0, run on a copy
// of the same trees), exit 1 (partial), copy the rest, and delete nothing it could not see.
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { handOver, unprivileged } from '../helpers/unprivileged.js';

function trees(dir: string): { src: string; dst: string } {
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  for (const d of ['locked', 'unsearchable']) {
    mkdirSync(join(src, d), { recursive: true });
    mkdirSync(join(dst, d), { recursive: true });
  }
  writeFileSync(join(src, 'ok.txt'), 'ok');
  writeFileSync(join(src, 'locked', 'inner.txt'), 'inner');
  writeFileSync(join(src, 'unsearchable', 'a.txt'), 'a');
  writeFileSync(join(src, 'unsearchable', 'b.txt'), 'b');
  // what the replica holds below them must survive: the run cannot see that the source still has them
  writeFileSync(join(dst, 'locked', 'inner.txt'), 'inner');
  writeFileSync(join(dst, 'unsearchable', 'a.txt'), 'a');
  return { src, dst };
}

describe('the native listing meets a directory it may not read or search', () => {
  const { runAs, skipReason, suffix } = unprivileged();

  it.skipIf(skipReason !== null)(`reports what it could not read as the walk through Node's fs does, exit 1, nothing lost${suffix}`, () => {
    const dir = makeTempDir('tsync-e2e-native-');
    try {
      const native = join(dir, 'native');
      const { src, dst } = trees(native);
      const viaNode = join(dir, 'node');
      cpSync(native, viaNode, { recursive: true });
      handOver(dir);
      for (const root of [native, viaNode]) {
        chmodSync(join(root, 'src', 'locked'), 0o000);
        chmodSync(join(root, 'src', 'unsearchable'), 0o644);
      }
      const run = (root: string, env: Record<string, string | undefined>) =>
        runCli(['sync', '--one-way', '--state-dir', join(root, 'state'), join(root, 'src'), join(root, 'dst')], { asUser: runAs, env });
      const r = run(native, { TSYNC_NATIVE: undefined });
      const viaNodeRun = run(viaNode, { TSYNC_NATIVE: '0' });

      expect(r.code).toBe(1);
      const problems = r.stderr.split('\n').filter((l) => l.includes('cannot'));
      expect(problems.sort()).toEqual([
        expect.stringMatching(/locked.*cannot list directory \(EACCES\)/),
        expect.stringMatching(/unsearchable\/a\.txt.*cannot stat \(EACCES\)/),
        expect.stringMatching(/unsearchable\/b\.txt.*cannot stat \(EACCES\)/),
      ]);
      expect({ code: viaNodeRun.code, stderr: viaNodeRun.stderr.replaceAll(viaNode, native) }).toEqual({ code: r.code, stderr: r.stderr });
      expect(readFileSync(join(dst, 'ok.txt'), 'utf8')).toBe('ok');
      expect(existsSync(join(dst, 'locked', 'inner.txt'))).toBe(true);
      expect(existsSync(join(dst, 'unsearchable', 'a.txt'))).toBe(true);
      expect(src).toBe(join(native, 'src'));
    } finally {
      removeTempDir(dir);
    }
  });
});
