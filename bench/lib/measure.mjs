// Process timing for bench/run.mjs: wall time from a monotonic clock around the child, max RSS from
// GNU time (`/usr/bin/time -f '%e %M' -o FILE`, whose %e has only 10 ms resolution, so we keep it only
// as a cross-check).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** @typedef {{ env?: NodeJS.ProcessEnv, cwd?: string, timeFile: string, flush?: boolean }} MeasureOptions */

/**
 * Runs argv under GNU time. Returns { wall (s), rssKiB, timeWall (s, from GNU time), status, stdout, stderr }.
 * `flush` (default true) runs sync(1) first, untimed, so dirty pages from the preparation are not
 * written back during the measured run.
 * @param {string[]} argv
 * @param {MeasureOptions} options
 */
export function measure(argv, { env = process.env, cwd, timeFile, flush = true } = /** @type {MeasureOptions} */ ({})) {
  if (flush) spawnSync('sync');
  rmSync(timeFile, { force: true });
  const t0 = process.hrtime.bigint();
  const res = spawnSync(GNU_TIME, ['-f', '%e %M', '-o', timeFile, ...argv], { env, cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.error) throw res.error;
  let timeWall = NaN;
  let rssKiB = NaN;
  try {
    // GNU time prepends "Command exited with non-zero status N" when the child fails.
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) (\d+)$/.exec(last.trim());
    if (m) {
      timeWall = Number(m[1]);
      rssKiB = Number(m[2]);
    }
  } catch {
    /* no time output: leave NaN */
  }
  return { wall, rssKiB, timeWall, status: res.status, signal: res.signal, stdout: res.stdout, stderr: res.stderr };
}

/**
 * Runs a command untimed; throws with its stderr when it fails (unless allowFail).
 * @param {string[]} argv
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, allowFail?: boolean }} [options]
 */
export function run(argv, { env = process.env, cwd, allowFail = false } = {}) {
  const res = spawnSync(/** @type {string} */ (argv[0]), argv.slice(1), { env, cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (res.error) throw res.error;
  if (res.status !== 0 && !allowFail) {
    throw new Error(`${argv.join(' ')} exited ${res.status ?? res.signal}: ${(res.stderr || res.stdout).trim().slice(0, 2000)}`);
  }
  return res;
}

/** @param {number[]} xs */
export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? /** @type {number} */ (v[m]) : /** @type {number} */ (v[m - 1] + /** @type {number} */ (v[m])) / 2;
}

/** @param {string} p */
export function rmrf(p) {
  // rm(1) is noticeably faster than fs.rmSync on 100k-file trees.
  spawnSync('rm', ['-rf', '--', p]);
}

/** @param {string} from @param {string} to */
export function cpa(from, to) {
  run(['cp', '-a', '--', from, to]);
}

/** @param {number} ms @returns {Promise<void>} */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} cmd */
export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** @param {string[]} argv */
export function joinArgs(argv) {
  return argv.map((a) => (/^[\w@%+=:,./$-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export { join };
