// --dry-run / -n prints the plan and changes nothing.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, dir, link, pinTimes, put, snapshotTree } from '../helpers/tree.js';

/** Mirrors a tree, then changes SRC and DST so that the plan holds every kind of line. */
function prepareChanges(sb: Sandbox): void {
  for (let i = 0; i < 10; i++) put(sb.src, `keep/k${i}`, `${i}\n`);
  put(sb.src, 'changed.txt', 'old\n');
  put(sb.src, 'gone.txt', 'will be deleted\n');
  put(sb.src, 'mode.txt', 'only the mode changes\n', 0o644);
  pinTimes(sb.src);
  expect(sb.sync().code).toBe(0);

  put(sb.src, 'new.txt', 'new\n');
  put(sb.src, 'new-dir/inner.txt', 'new\n');
  link(sb.src, 'new-link', 'new.txt');
  put(sb.src, 'changed.txt', 'new content\n');
  unlinkSync(join(sb.src, 'gone.txt'));
  chmodSync(join(sb.src, 'mode.txt'), 0o600);
  put(sb.dst, 'extra/x.txt', 'only in DST\n');
  dir(sb.dst, 'extra-empty');
  pinTimes(sb.src);
}

const EXPECTED_PLAN = ['+ new.txt', '+ new-dir/', '+ new-dir/inner.txt', '+ new-link', '~ changed.txt', '~ mode.txt (metadata)', '- gone.txt', '- extra/x.txt', '- extra/', '- extra-empty/'];

describe('dry run', () => {
  for (const flag of ['--dry-run', '-n']) {
    it(`${flag} prints + ~ - lines, exits 0 and changes nothing`, () => {
      const sb = sandbox();
      prepareChanges(sb);
      const dstBefore = snapshotTree(sb.dst);
      const srcBefore = snapshotTree(sb.src);

      const r = sb.sync(flag);

      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const out = lines(r.stdout);
      expect(out.slice(0, -1).sort()).toEqual([...EXPECTED_PLAN].sort());
      // (the metadata count also includes restoring new directories' modes and times, which is not listed)
      expect(out.at(-1)).toMatch(/^dry run, would do: 4 copied, 1 dirs created, 4 deleted, \d+ metadata updates$/);
      expect(compareTrees(dstBefore, snapshotTree(sb.dst), { identity: true })).toEqual([]);
      expect(compareTrees(srcBefore, snapshotTree(sb.src), { identity: true })).toEqual([]);
      // The plan it printed is the one a real run then carries out.
      expect(sb.sync().code).toBe(0);
      expect(compareTrees(srcBefore, snapshotTree(sb.dst))).toEqual([]);
    });
  }

  it('does not create a missing DST', () => {
    const sb = sandbox();
    put(sb.src, 'a/b.txt', 'x');

    const r = sb.sync('-n');

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines(r.stdout).slice(0, -1)).toEqual(['+ a/', '+ a/b.txt']);
    expect(existsSync(sb.dst)).toBe(false);
  });

  it('still halts on the safety guards (exit 4) rather than printing a plan it would refuse', () => {
    const sb = sandbox();
    for (let i = 0; i < 4; i++) put(sb.src, `f${i}`, `${i}`);
    expect(sb.sync().code).toBe(0);
    for (let i = 0; i < 3; i++) unlinkSync(join(sb.src, `f${i}`));
    const before = snapshotTree(sb.dst);

    const r = sb.sync('--dry-run');

    expect(r.code).toBe(4);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^tsync: halted: the plan deletes 3 of 4 files/)]);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });
});
