// Memory bound (issue 11): the peak RSS of a one-way initial copy of 200,000 empty files, of the no-op
// re-sync after it, and of a one-way watch's start-up on that pair, must each stay under a ceiling. A regression guard instead of a timing assertion: memory does not depend on how busy the machine
// is, so the check is stable on a shared CI box where a time limit would not be.
//
// The ceilings are generous on purpose. When this test was written the no-op re-sync peaked at ~577 MB here
// (~2.9 KB per path). With the base as a column table and the second root scanned in a worker thread it
// peaked at ~355 MB (~1.8 KB per path); with the worker's scan kept in its columns (scan/scan-table.ts), the
// worker gone before decoding and its young generation small, and V8's heap growth held to 1.3
// (cli/heap-growth.ts), at 293 MB (~1.5 KB per path, one run on a loaded 2-core machine; 350 MB before
// these changes in the same conditions). With the main thread's walk in columns too (scan/growing-scan-table.ts)
// and one path string shared by the index and both scans, at 260-276 MB; with V8's young generation capped at
// 8 MB as well (runtime/young-generation.ts), at 218 MB (~1.1 KB per path; the build before this work peaked at
// 328 and 338 MB in two such runs). The ceilings then stayed where they were while the work went on: by 85b3c9f
// the no-op peaked at 136 MB, the initial copy at 184 and the watch at 161 (one run each, this test in a checkout
// of that commit); with the owner and group ids, the observed times and the link and block counts kept compactly
// and a scan's paths as the index's numbers (core/id-column.ts, observed-runs.ts, count-column.ts,
// scan/slot-paths.ts), at 118, 186 and 149 MB (125 MB for the no-op in CI before the last of these). 130 MB for the
// no-op fails on a return to 85b3c9f's tables and leaves 12 MB for noise and allocator differences. LOWER THEM as
// more memory work lands (the target is <= 150 MB at 100k) so that the test keeps guarding what was reached.
//
// Real processes, real tree: the built CLI runs under GNU time (`%M`, the child's peak RSS in KiB).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { binPath, projectRoot } from '../helpers/cli.js';

const FILES = 200_000;
const PER_DIR = 500;
/** Peak RSS ceiling for the no-op re-sync, in MB (10^6 bytes). Lower it as memory work lands (see above). */
const RSS_CEILING_MB = 130;
/**
 * Peak RSS ceiling for the initial copy of the same tree, in MB. It peaked at 708 MB here before issue 11's
 * memory work (one run, loaded machine): the live heap was ~1 KB per path, the rest V8's heap headroom
 * while the copy loop promotes objects. With each copy's records folded into the next base as it finishes
 * (core/commit.ts NextBase), no map of every installed file and the heap growth held to 1.3
 * (cli/heap-growth.ts) it peaked at 424 MB (~2.1 KB per path); with the walk in columns and the next records
 * in a BaseTable's columns (sync/cycle.ts), at 332 MB (370 MB before, same run); with the young generation capped
 * too, at 293-295 MB (~1.5 KB per path; the build before this work: 370 MB); with the plan's sources kept as
 * rows of the scan's table (scan/scan-table.ts ScannedRow), at 223 MB (the build before: 280 MB in its last CI
 * run); at 184-186 MB at 85b3c9f and after this session's column work (this test, one run each; it peaks while
 * copying, where the scans' compact columns matter less). 210 MB leaves 24 MB for noise.
 */
const INITIAL_RSS_CEILING_MB = 210;
/**
 * Peak RSS ceiling for `tsync watch --one-way` on the same synced pair, up to its `ready` event, in MB. With
 * each side's full scan copied into a Map of entry objects it peaked at 340-342 MB here; with the scan's own
 * column table kept as the side's live entries (sync/live-entries.ts) at 228-229 MB (two runs each); at 161 MB at
 * 85b3c9f and 149 MB after this session's column work (one run each). 175 MB leaves 26 MB for noise.
 */
const WATCH_RSS_CEILING_MB = 175;
const GNU_TIME = '/usr/bin/time';

interface Measured {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly peakRssBytes: number;
}

/** Runs the CLI under GNU time; `-f %M` puts the peak RSS in KiB on the last stderr line. */
function underGnuTime(args: readonly string[]): Measured {
  const r = spawnSync(GNU_TIME, ['-f', '%M', process.execPath, binPath, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 240_000,
  });
  const lines = r.stderr.trimEnd().split('\n');
  const kib = Number(lines.pop());
  return { code: r.status, stdout: r.stdout, stderr: lines.join('\n'), peakRssBytes: kib * 1024 };
}

/**
 * `tsync watch --one-way --json` until its `ready` event: its peak RSS so far (VmHWM, the kernel's count), then
 * a stop by SIGINT, as a user's Ctrl-C. The exit code must be 0.
 */
async function watchStartupPeak(args: readonly string[]): Promise<{ peakRssBytes: number; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [binPath, 'watch', '--json', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // a watch that never gets ready, or does not stop on SIGINT, is killed (and fails the checks) instead of
  // hanging the test until its timeout and outliving it
  const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  try {
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('"type":"ready"')) resolve(true);
      });
      void exited.then(() => resolve(false));
    });
    let peakRssBytes = Number.NaN;
    if (ready) {
      const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      peakRssBytes = Number(kib) * 1024;
      child.kill('SIGINT');
    }
    return { peakRssBytes, code: await exited, stderr };
  } finally {
    clearTimeout(killer);
  }
}

/** 200,000 empty files, PER_DIR per directory: openSync/closeSync is the cheapest way to make them from Node. */
function buildTree(root: string): void {
  for (let d = 0; d * PER_DIR < FILES; d++) {
    const dir = join(root, `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++) closeSync(openSync(join(dir, `f${f}`), 'w'));
  }
}

/**
 * The trees go to tmpfs when there is one: creating and deleting 400,000 files on this disk (ext4 with
 * `discard`) takes minutes, and the figure measured here, the process's peak RSS, does not depend on the
 * file system (tmpfs pages are not part of the process's RSS).
 */
function scratchParent(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const work = mkdtempSync(join(scratchParent(), 'tsync-memory-bound-'));
afterAll(() => {
  spawnSync('rm', ['-rf', '--', work]);
});

describe.skipIf(!existsSync(GNU_TIME))(`memory bound: one-way no-op re-sync of ${FILES.toLocaleString('en')} files`, () => {
  test(`peak RSS stays under ${INITIAL_RSS_CEILING_MB} MB for the initial copy, ${RSS_CEILING_MB} MB for the no-op and ${WATCH_RSS_CEILING_MB} MB for a watch's start-up`, {
    timeout: 600_000,
  }, async () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    const state = join(work, 'state');
    buildTree(src);
    const args = ['sync', '--one-way', '--state-dir', state, src, dst];

    const first = underGnuTime(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^${FILES} copied`, 'm'));
    expect(Number.isFinite(first.peakRssBytes) && first.peakRssBytes > 0, `GNU time gave no peak RSS: ${first.stderr}`).toBe(true);

    const noop = underGnuTime(args);
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stdout).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates/m);
    expect(Number.isFinite(noop.peakRssBytes) && noop.peakRssBytes > 0, `GNU time gave no peak RSS: ${noop.stderr}`).toBe(true);

    // Both trees are scanned, but the index and the plan hold one entry per path: per path is the figure
    // issue 11's note quotes.
    const bytesPerPath = noop.peakRssBytes / FILES;
    console.log(
      `memory bound: ${FILES} files, no-op re-sync peak RSS ${(noop.peakRssBytes / 1e6).toFixed(0)} MB (${bytesPerPath.toFixed(0)} bytes per path); initial copy ${(first.peakRssBytes / 1e6).toFixed(0)} MB; ceiling ${RSS_CEILING_MB} MB`,
    );
    const watch = await watchStartupPeak(['--one-way', '--state-dir', state, src, dst]);
    expect(watch.code, watch.stderr).toBe(0);
    expect(Number.isFinite(watch.peakRssBytes) && watch.peakRssBytes > 0, `no peak RSS read for the watch: ${watch.stderr}`).toBe(true);
    console.log(`memory bound: watch --one-way start-up peak RSS ${(watch.peakRssBytes / 1e6).toFixed(0)} MB; ceiling ${WATCH_RSS_CEILING_MB} MB`);
    // soft: a regression over several ceilings reports each
    expect.soft(noop.peakRssBytes / 1e6, 'no-op re-sync peak RSS (MB)').toBeLessThan(RSS_CEILING_MB);
    expect.soft(first.peakRssBytes / 1e6, 'initial copy peak RSS (MB)').toBeLessThan(INITIAL_RSS_CEILING_MB);
    expect.soft(watch.peakRssBytes / 1e6, 'watch start-up peak RSS (MB)').toBeLessThan(WATCH_RSS_CEILING_MB);
  });
});
