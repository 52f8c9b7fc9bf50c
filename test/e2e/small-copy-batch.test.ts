// The one failure of a batched small copy (native/copy_small.c copySmallBatch, src/engine/small-copy-batch.ts) that
// leaves the file installed: the check after its rename (an fstat of the installed file's descriptor) failing. No
// file system can be made to fail that on purpose, so the addon's test hook TSYNC_TEST_BATCH_UNCHECKED=NAME makes it
// fail for the file of that name as the fstat would (EIO); everything else is real: the built CLI in a child process,
// real trees, a real index. The run must say the copy failed (exit 1, partial), leave no temp file, and the next run
// must find the installed file as the source has it and record it, with nothing lost and nothing copied twice.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type CliResult, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { compareTrees, put, snapshotTree } from '../helpers/tree.js';

const NOTHING_DONE = /^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/m;
/** Without /proc (TSYNC_NO_PROC=1, the second pass of `npm test`) nothing is batched: every copy goes the usual way, which has no such check. */
const BATCHES = process.env.TSYNC_NO_PROC !== '1';

type Mode = 'never' | 'always';

/** A run whose batches run on the main thread alone (`never`) or also in the copy worker (`always`; its errors cross to the main thread as fields). */
function run(mode: Mode, args: readonly string[], unchecked?: string): CliResult {
  return runCli(args, { env: { TSYNC_COPY_WORKER: mode, ...(unchecked === undefined ? {} : { TSYNC_TEST_BATCH_UNCHECKED: unchecked }) } });
}

/**
 * A source of six small files in one directory, and where its replica goes: the directory's first copy goes the usual
 * way where owners are kept (it learns what a fresh file gets there), the other five in one batch.
 */
function sixFiles(): { readonly dir: string; readonly src: string; readonly dst: string } {
  const dir = makeTempDir();
  onTestFinished(() => removeTempDir(dir));
  const src = join(dir, 'src');
  mkdirSync(src);
  for (let i = 0; i < 6; i++) put(src, `dir/f${i}.txt`, `file ${i}\n`.repeat(i + 1));
  return { dir, src, dst: join(dir, 'dst') };
}

describe('a batched small copy whose check after the rename fails', () => {
  it.each(['never', 'always'] as const)('is reported as failed with the file in place, and the next run records it without copying it again (copy worker: %s)', (mode) => {
    const { dir, src, dst } = sixFiles();
    const args = ['sync', '--one-way', '--state-dir', join(dir, 'state'), src, dst];

    const failed = run(mode, args, 'f3.txt');
    if (!BATCHES) {
      expect(failed.code, failed.stderr).toBe(0);
      expect(compareTrees(snapshotTree(src), snapshotTree(dst))).toEqual([]);
      return;
    }
    expect(failed.code, failed.stderr).toBe(1);
    const said = failed.stderr.split('\n').filter((l) => l.includes('dir/f3.txt'));
    expect(said, failed.stderr).toEqual(['tsync: destination: dir/f3.txt: cannot copy (EIO)']);
    expect(failed.stdout).toMatch(/^5 copied, 1 dirs created, 0 deleted, 1 metadata updates, \d+ B, 1 problem$/m);
    // installed, whole, beside the others; no temp file left behind
    expect(readFileSync(join(dst, 'dir/f3.txt'), 'utf8')).toBe('file 3\n'.repeat(4));
    expect(readdirSync(join(dst, 'dir')).sort()).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt']);
    expect(compareTrees(snapshotTree(src), snapshotTree(dst))).toEqual([]);

    const next = run(mode, args);
    expect(next.code, next.stderr).toBe(0);
    // found as the source has it: recorded, not copied again
    expect(next.stdout).toMatch(/^0 copied, /m);
    const again = run(mode, args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(NOTHING_DONE);
  });

  it('changes nothing where the hook names no file of the tree: the same tree copies whole', () => {
    const { dir, src, dst } = sixFiles();
    const r = run('never', ['sync', '--one-way', '--state-dir', join(dir, 'state'), src, dst], 'no-such-name');
    expect(r.code, r.stderr).toBe(0);
    expect(compareTrees(snapshotTree(src), snapshotTree(dst))).toEqual([]);
  });
});
