// A run killed at any instant leaves no torn file: the DST path holds nothing, the old bytes or the full
// new bytes, never a mix; the next run converges and cleans up the dead run's temp files. Each kill is
// triggered by what the run is seen doing and then checked to have landed there: before the first write,
// as a copy starts, half-way through a copy.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, runCliAndKill } from '../helpers/cli.js';
import { compareTrees, findOwnNames, pinTimes, put, snapshotTree, type TreeSnapshot } from '../helpers/tree.js';

const MIB = 1024 * 1024;
const BIG_SIZE = 200 * MIB;
const OLD_CONTENT = 'the old, small version of big.bin\n';

let work = '';
let src = '';
let bigSha = '';
/** SRC never changes here: snapshot (and hash) it once. */
let srcSnapshot: TreeSnapshot = new Map();

/** 200 MiB where every MiB differs (a random MiB stamped with its index), so any prefix is detectable. */
function writeBigFile(path: string): string {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i += 4) block.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, i);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < BIG_SIZE / MIB; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block);
      hash.update(block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** A copy's temp files (the ctime probe, `.tsync-tmp-<pid>-probe-…`, lives for microseconds and is not a copy). */
function tempFilesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.tsync-tmp-') && !/^\.tsync-tmp-\d+-probe-/.test(n)) : [];
}

beforeAll(() => {
  work = makeTempDir('tsync-e2e-kill-');
  src = join(work, 'src');
  put(src, 'small/a.txt', 'small files around the big one\n');
  bigSha = writeBigFile(join(src, 'big.bin'));
  pinTimes(src);
  srcSnapshot = snapshotTree(src);
});

afterAll(() => {
  if (work !== '') removeTempDir(work);
});

/** Where a kill is meant to land, how the test sees that moment come, and how it checks the kill landed there. */
type Phase = 'before the first write' | 'as the copy starts' | 'half-way through the copy';

interface Scenario {
  readonly phase: Phase;
  /** DST already holds an old version of big.bin (the kill interrupts an overwrite). */
  readonly overwrite: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { phase: 'before the first write', overwrite: false },
  { phase: 'before the first write', overwrite: true },
  { phase: 'as the copy starts', overwrite: false },
  { phase: 'as the copy starts', overwrite: true },
  { phase: 'half-way through the copy', overwrite: false },
  { phase: 'half-way through the copy', overwrite: true },
];

/** A copy's temp files with their sizes (one may be renamed away between the listing and the stat). */
function tempSizes(dir: string): number[] {
  return tempFilesIn(dir).flatMap((n) => {
    try {
      return [statSync(join(dir, n)).size];
    } catch {
      return [];
    }
  });
}

/** The run holds the pair lock (it writes the holder file right after taking it, before it scans). */
function lockTaken(state: string): boolean {
  return existsSync(state) && readdirSync(state).some((n) => n.endsWith('.holder.json'));
}

/** A missing root reads as empty: the run may not have created DST yet. */
function treeOrEmpty(root: string): TreeSnapshot {
  return existsSync(root) ? snapshotTree(root) : new Map();
}

const HALF_WAY = 32 * MIB;

/** When to kill: polled every few ms by runCliAndKill. */
function trigger(phase: Phase, dst: string, state: string): () => boolean {
  switch (phase) {
    case 'before the first write':
      return () => lockTaken(state);
    case 'as the copy starts':
      return () => tempFilesIn(dst).length > 0;
    case 'half-way through the copy':
      return () => tempSizes(dst).some((n) => n >= HALF_WAY);
  }
}

/** What DST must show for the kill to have landed in `phase` (empty: it did). */
function landedIn(phase: Phase, dst: string, before: TreeSnapshot): string[] {
  const temps = tempSizes(dst);
  switch (phase) {
    case 'before the first write':
      // the source was still being hashed: no copy begun, nothing in DST moved
      return [...(temps.length > 0 ? [`a copy had begun (temp files of ${temps.join(', ')} bytes)`] : []), ...compareTrees(before, treeOrEmpty(dst), { identity: true })];
    case 'as the copy starts':
      return temps.length > 0 ? [] : ['no copy was under way (no temp file)'];
    case 'half-way through the copy':
      return temps.some((n) => n >= HALF_WAY && n < BIG_SIZE) ? [] : [`no part-written copy (temp files of ${temps.join(', ') || 'none'} bytes)`];
  }
}

describe('a run killed with SIGKILL', () => {
  SCENARIOS.forEach((sc, i) => {
    it(`${sc.phase}${sc.overwrite ? ' (overwriting)' : ''}: the kill lands there, no torn file, the rerun converges and cleans up`, async () => {
      const dst = join(work, `dst${i}`);
      const state = join(work, `state${i}`);
      const args = ['sync', '--one-way', '--state-dir', state, src, dst];
      if (sc.overwrite) {
        put(dst, 'big.bin', OLD_CONTENT);
        put(dst, 'small/a.txt', 'small files around the big one\n');
      }
      const target = join(dst, 'big.bin');
      const before = treeOrEmpty(dst);

      const run = await runCliAndKill(args, 120_000, trigger(sc.phase, dst, state));

      // The kill must have landed where the scenario says, or the test proves nothing.
      expect(run.killed, `the run ended (exit ${run.code}) before the kill`).toBe(true);
      expect(landedIn(sc.phase, dst, before), `the kill did not land ${sc.phase}`).toEqual([]);
      if (existsSync(target)) {
        const content = readFileSync(target);
        const whole = content.length === BIG_SIZE && createHash('sha256').update(content).digest('hex') === bigSha;
        const old = sc.overwrite && content.toString('utf8') === OLD_CONTENT;
        expect(whole || old, `big.bin after the kill: ${content.length} bytes, neither the old nor the full new content`).toBe(true);
      }

      const rerun = runCli(args);

      expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
      expect(compareTrees(srcSnapshot, snapshotTree(dst))).toEqual([]); // includes big.bin's sha256
      // no temp file survives; the old version, if one was replaced, is kept in the trash
      expect(findOwnNames(dst).filter((n) => n !== '.tsync' && !n.startsWith('.tsync/trash'))).toEqual([]);
      removeTempDir(dst);
    });
  });
});

describe('what a killed run leaves behind', () => {
  it("temp files and ctime probes of a dead process are removed by the next run; a live process's are kept", () => {
    const dir = makeTempDir('tsync-e2e-leftover-');
    try {
      const from = join(dir, 'src');
      const to = join(dir, 'dst');
      put(from, 'a.txt', 'a\n');
      expect(runCli(['sync', '--one-way', '--state-dir', join(dir, 'state'), from, to]).code).toBe(0);
      const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid names no live process
      const live = process.pid;
      const leftovers = [`.tsync-tmp-${dead}-1`, `.tsync-tmp-${dead}-probe-2`, `.tsync-probe-${dead}-0a1b2c3d`];
      for (const n of leftovers) put(to, n, 'partial\n');
      put(to, `.tsync-tmp-${live}-1`, 'being written by a live process\n');

      const r = runCli(['sync', '--one-way', '--state-dir', join(dir, 'state'), from, to]);

      expect(r.code, r.stderr).toBe(0);
      expect(
        readdirSync(to)
          .filter((n) => n.startsWith('.tsync-'))
          .sort(),
      ).toEqual([`.tsync-tmp-${live}-1`]);
    } finally {
      removeTempDir(dir);
    }
  });
});
