// Injected faults in the sparse copy (its writes and its final ftruncate) and in the hard-link action.
//
// MOCKED, and why: an ENOSPC at the very ftruncate that sets a sparse copy's length, or an EIO from
// link(), cannot be produced on demand from outside the process. test/faults/fault-layer.mjs (loaded
// with `node --import` into the spawned CLI only) throws the errno at the matching call, or makes a real
// change to the tree just before it. The trees, the index and the process are real.
//
// After every fault: exit 1 with the path named, nothing torn or half-linked at a final name, no temp
// file left, and the next clean run converges (holes and links included).
import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, lstatSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox, type CliResult, type Sandbox } from '../helpers/cli.js';
import { findOwnNames } from '../helpers/tree.js';
import { readFaultLog } from './crash-tree.js';

const ENABLED = process.env.TSYNC_FAULTS === '1';
const LAYER = pathToFileURL(fileURLToPath(new URL('./fault-layer.mjs', import.meta.url))).href;
const MiB = 1 << 20;

interface Rule {
  readonly op: string;
  readonly path: string;
  /** Not the ctime probe's temp file (it has the same prefix). */
  readonly unless?: string;
  readonly nth?: number;
  readonly error?: string;
  readonly then?: { readonly do: 'rewrite'; readonly target: string };
}

function runWithFaults(sb: Sandbox, rules: readonly Rule[]): CliResult {
  const log = join(sb.dir, `faults-${Date.now()}.log`);
  const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], {
    env: { NODE_OPTIONS: `--import=${LAYER}`, TSYNC_FAULT_PLAN: JSON.stringify(rules), TSYNC_FAULT_LOG: log },
  });
  const report = readFaultLog(log);
  expect(report.loaded, r.stderr).toBe(true);
  expect(report.fired, `faults that fired; stderr:\n${r.stderr}`).toEqual(rules.map((_, i) => i));
  return r;
}

function sparseSource(sb: Sandbox, name: string, size: number): void {
  execFileSync('truncate', ['-s', String(size), join(sb.src, name)]);
  const fd = openSync(join(sb.src, name), 'r+');
  writeSync(fd, Buffer.alloc(8192, 7), 0, 8192, size / 2);
  closeSync(fd);
}

const tempsIn = (root: string): string[] => findOwnNames(root).filter((n) => n.includes('.tsync-tmp-'));

describe.skipIf(!ENABLED)('sparse copies and hard links under injected faults', () => {
  for (const [what, rule] of [
    ["ENOSPC at the ftruncate that sets a large sparse copy's length", { op: 'truncate', path: '.tsync-tmp-', unless: '-probe-', error: 'ENOSPC' }],
    ['EIO at a write of a large sparse copy', { op: 'write', path: '.tsync-tmp-', unless: '-probe-', error: 'EIO' }],
  ] as const) {
    it(`${what}: nothing installed, no temp left, the next run copies it with its holes`, () => {
      const sb = sandbox();
      sparseSource(sb, 'big.img', 20 * MiB);
      const r = runWithFaults(sb, [rule]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('big.img');
      expect(lstatSync(join(sb.dst, 'big.img'), { throwIfNoEntry: false })).toBeUndefined();
      expect(tempsIn(sb.dst)).toEqual([]);
      const again = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]);
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(join(sb.dst, 'big.img')).equals(readFileSync(join(sb.src, 'big.img')))).toBe(true);
      expect(Number(lstatSync(join(sb.dst, 'big.img'), { bigint: true }).blocks) * 512).toBeLessThan(MiB);
    });
  }

  it('EIO from link(): the name is left as it was, no temp left, the next run links it', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a'), 'shared');
    writeFileSync(join(sb.src, 'b'), 'old b');
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
    writeFileSync(join(sb.src, 'b.tmp'), '');
    execFileSync('rm', [join(sb.src, 'b'), join(sb.src, 'b.tmp')]);
    linkSync(join(sb.src, 'a'), join(sb.src, 'b'));
    const r = runWithFaults(sb, [{ op: 'link', path: '.tsync-tmp-', error: 'EIO' }]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/b: cannot hard-link \(EIO\)/);
    expect(readFileSync(join(sb.dst, 'b'), 'utf8')).toBe('old b');
    expect(tempsIn(sb.dst)).toEqual([]);
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
    expect(lstatSync(join(sb.dst, 'b')).ino).toBe(lstatSync(join(sb.dst, 'a')).ino);
  });

  it('the first name rewritten in the replica right before the link: stale, never linked to those bytes', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a'), 'shared');
    writeFileSync(join(sb.src, 'b'), 'shared');
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
    execFileSync('rm', [join(sb.src, 'b')]);
    linkSync(join(sb.src, 'a'), join(sb.src, 'b'));
    const r = runWithFaults(sb, [{ op: 'link', path: '.tsync-tmp-', then: { do: 'rewrite', target: join(sb.dst, 'a') } }]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/b: .*changed since the scan; left alone for the next run/);
    expect(readFileSync(join(sb.dst, 'b'), 'utf8')).toBe('shared');
    expect(lstatSync(join(sb.dst, 'b')).ino).not.toBe(lstatSync(join(sb.dst, 'a')).ino);
    expect(tempsIn(sb.dst)).toEqual([]);
    const again = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'a'), 'utf8')).toBe('shared');
    expect(lstatSync(join(sb.dst, 'b')).ino).toBe(lstatSync(join(sb.dst, 'a')).ino);
  });
});
