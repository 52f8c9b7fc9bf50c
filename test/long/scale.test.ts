// Scale: a one-way sync of 1,000,000 empty files (1,000 directories of 1,000), then a no-op re-run, each
// under GNU time for its peak RSS. Checks that the replica holds every file, that the re-run does
// nothing, and that peak RSS stays under a ceiling (SCALE_RSS_LIMIT_MB, default 4,096): a regression
// guard, not a target (docs/RELIABILITY.md has the measured numbers and the target that is not met).
//
// Runs only under `npm run test:long` (TSYNC_LONG=1). SCALE_FILES (default 1,000,000) changes the size.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { binPath, projectRoot } from '../helpers/cli.js';

const LONG = process.env.TSYNC_LONG === '1';
const FILES = Number(process.env.SCALE_FILES ?? 1_000_000);
const PER_DIR = 1000;
const RSS_LIMIT_MB = Number(process.env.SCALE_RSS_LIMIT_MB ?? 4096);
const GNU_TIME = '/usr/bin/time';

interface Measured {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly peakRssMb: number;
}

/** Runs the CLI under GNU time (-f "%e %M": wall seconds, peak RSS in KiB on the last stderr line). */
function measured(args: readonly string[]): Measured {
  const r = spawnSync(GNU_TIME, ['-f', '%e %M', process.execPath, binPath, ...args], { cwd: projectRoot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 3_600_000 });
  const lines = r.stderr.trimEnd().split('\n');
  const [seconds, kib] = (lines.pop() ?? '').split(' ').map(Number);
  return { code: r.status, stdout: r.stdout, stderr: lines.join('\n'), seconds: seconds ?? NaN, peakRssMb: (kib ?? NaN) / 1024 };
}

const work = LONG ? mkdtempSync(join(tmpdir(), 'tsync-scale-')) : '';
afterAll(() => {
  if (work !== '') spawnSync('rm', ['-rf', work]);
});

describe.skipIf(!LONG || !existsSync(GNU_TIME))(`one-way sync of ${FILES.toLocaleString('en')} empty files`, () => {
  test('every file arrives, the re-run does nothing, peak RSS is reported and under the ceiling', () => {
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    const state = join(work, 'state');
    for (let d = 0; d * PER_DIR < FILES; d++) {
      const dir = join(src, `d${String(d).padStart(4, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++) closeSync(openSync(join(dir, `f${f}`), 'w'));
    }
    const args = ['sync', '--one-way', '--state-dir', state, src, dst];

    const first = measured(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^${FILES} copied`, 'm'));
    let count = 0;
    for (const d of readdirSync(dst)) if (!d.startsWith('.tsync')) count += readdirSync(join(dst, d)).length;
    expect(count).toBe(FILES);

    const again = measured(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/m);

    console.log(
      `scale: ${FILES} empty files one-way: initial ${first.seconds} s, peak RSS ${first.peakRssMb.toFixed(0)} MiB; ` +
        `no-op ${again.seconds} s, peak RSS ${again.peakRssMb.toFixed(0)} MiB (ceiling ${RSS_LIMIT_MB} MiB)`,
    );
    expect(first.peakRssMb).toBeLessThan(RSS_LIMIT_MB);
    expect(again.peakRssMb).toBeLessThan(RSS_LIMIT_MB);
  }, 3_600_000);
});
