#!/usr/bin/env node
// A probe for a design decision, not a measurement of tsync (issue 11, initial copy): how much would a second thread
// buy a small-file copy that makes tsync's system calls? tsync copies small files on the main thread, one after
// another (engine/copy-file.ts); its initial copy of 100k small files took 2.27 times cp -a's time at 38c56d9
// (bench/results-100k-38c56d9.md), and the CPU profile puts most of it in the calls themselves.
//
// Each "thread" below runs, per file, the calls tsync's small copy makes (open the source through its directory's
// descriptor, fstat, read, XXH64, create a temp file beside the target, write, fstat the source again, fchmod,
// futimes, check the target is absent, rename, fstat, close both), leaf directories dealt round-robin to the main
// thread and N-1 worker threads. It leaves out tsync's own bookkeeping (the plan, the index, the guards' JS), so its
// one-thread figure is a floor for tsync's, and the ratios between its rows are what it is for. cp -a copies the
// same tree in the same run, for scale.
//
//   node bench/probe-copy-threads.mjs                   # 100k files (the 100k scenario's shape), 2 rounds
//   PROBE_FILES=20000 PROBE_ROUNDS=3 node bench/probe-copy-threads.mjs
//   PROBE_RESULTS=bench/results-copy-threads-<commit>.md node bench/probe-copy-threads.mjs
//
// The trees are written under bench/.work (the file system the benchmark measures) and moved aside, not deleted,
// between rows (run.mjs `discard` says why: mass deletes slow file creation down on this machine's ext4).
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, futimesSync, fchmodSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import xxhash from 'xxhash-wasm';
import { generateSmallTree } from './lib/data.mjs';
import { gitStamp } from './lib/git-stamp.mjs';
import { measure, median } from './lib/measure.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SMALL_MAX = 1 << 20;

/**
 * Copies the regular files `names` of `srcDir` into `dstDir` the way tsync's small copy does (see the header).
 * @param {string} srcDir @param {string} dstDir @param {readonly string[]} names @param {(b: Uint8Array) => bigint} hash @param {Buffer} buf
 */
function copyDir(srcDir, dstDir, names, hash, buf) {
  const C = constants;
  const sfd = openSync(srcDir, C.O_RDONLY | C.O_DIRECTORY);
  const dfd = openSync(dstDir, C.O_RDONLY | C.O_DIRECTORY);
  const from = `/proc/self/fd/${sfd}/`;
  const to = `/proc/self/fd/${dfd}/`;
  let k = 0;
  try {
    for (const name of names) {
      const src = openSync(from + name, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      const st = fstatSync(src, { bigint: true });
      const size = Number(st.size);
      let n = 0;
      while (n < size) {
        const got = readSync(src, buf, n, buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
      hash(buf.subarray(0, n));
      const tmpName = `${to}.tsync-tmp-probe-${process.pid}-${k++}`;
      const tmp = openSync(tmpName, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
      writeSync(tmp, buf, 0, n, 0);
      fstatSync(src, { bigint: true });
      fchmodSync(tmp, Number(st.mode) & 0o7777);
      futimesSync(tmp, Number(st.atimeNs / 1000n) / 1e6, Number(st.mtimeNs / 1000n) / 1e6);
      if (lstatSync(to + name, { throwIfNoEntry: false }) !== undefined) throw new Error(`${name} exists`);
      renameSync(tmpName, to + name);
      fstatSync(tmp, { bigint: true });
      closeSync(tmp);
      closeSync(src);
    }
  } finally {
    closeSync(sfd);
    closeSync(dfd);
  }
}

/** @typedef {[string, string, string[]]} Job  source dir, target dir, file names */

/** @param {readonly Job[]} jobs */
async function work(jobs) {
  const { h64Raw } = await xxhash();
  const buf = Buffer.allocUnsafe(SMALL_MAX + 1);
  for (const [s, d, names] of jobs) copyDir(s, d, names, h64Raw, buf);
}

if (!isMainThread) {
  await work(/** @type {Job[]} */ (workerData));
  parentPort?.postMessage('done');
} else {
  await main();
}

/**
 * The leaf directories of `src` with their files, and the target directories made in `dst`.
 * @param {string} src @param {string} dst
 * @returns {Job[]}
 */
function jobsOf(src, dst) {
  /** @type {Job[]} */
  const jobs = [];
  const visit = (/** @type {string} */ rel) => {
    const entries = readdirSync(join(src, rel), { withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => e.name);
    mkdirSync(join(dst, rel), { recursive: true });
    if (files.length > 0) jobs.push([join(src, rel), join(dst, rel), files]);
    for (const e of entries) if (e.isDirectory()) visit(join(rel, e.name));
  };
  visit('');
  return jobs;
}

/**
 * One copy of `src` into a fresh `dst` with `threads` threads (the main one included); the wall time in ms.
 * @param {string} src @param {string} dst @param {number} threads
 */
async function copyWith(src, dst, threads) {
  const jobs = jobsOf(src, dst);
  const t0 = performance.now();
  /** @type {Job[][]} */
  const parts = Array.from({ length: threads }, () => []);
  for (let i = 0; i < jobs.length; i++) parts[i % threads]?.push(/** @type {Job} */ (jobs[i]));
  const others = parts.slice(1).map(
    (p) =>
      new Promise((done, fail) => {
        const w = new Worker(new URL(import.meta.url), { workerData: p });
        w.once('message', done);
        w.once('error', fail);
      }),
  );
  await work(parts[0] ?? []);
  await Promise.all(others);
  return performance.now() - t0;
}

async function main() {
  const files = Number(process.env.PROBE_FILES ?? 100_000);
  const rounds = Number(process.env.PROBE_ROUNDS ?? 2);
  const work = join(ROOT, 'bench', '.work', `probe-copy-threads-${process.pid}`);
  const aside = join(work, 'aside');
  mkdirSync(aside, { recursive: true });
  const src = join(work, 'src');
  // the 100k scenario's shape (run.mjs SPEC['100k']), scaled by the file count
  const top = Math.max(1, Math.round((45 * Math.sqrt(files / 100_000)) | 0));
  generateSmallTree(src, { files, top, sub: top - 1 || 1, maxSize: 4 * 1024, seed: 20240601 });
  let seq = 0;
  const fresh = () => join(work, `dst-${seq++}`);
  const moveAside = (/** @type {string} */ p) => renameSync(p, join(aside, String(seq++)));
  /** @type {Map<string, number[]>} */
  const times = new Map();
  const add = (/** @type {string} */ k, /** @type {number} */ ms) => times.set(k, [...(times.get(k) ?? []), ms]);
  const rows = ['1 thread', '2 threads', '3 threads', 'cp -a'];
  for (let r = 0; r < rounds; r++) {
    // rotated, so that no row always runs right after another one's writes
    for (let i = 0; i < rows.length; i++) {
      const row = rows[(i + r) % rows.length] ?? '';
      const dst = fresh();
      if (row === 'cp -a') {
        const m = measure(['cp', '-a', src, dst], { timeFile: join(work, 'time.txt') });
        if (m.status !== 0) throw new Error(`cp -a exited ${m.status}: ${m.stderr}`);
        add(row, m.wall * 1000);
      } else {
        spawnSync('sync'); // as measure() does before cp: no write-back of the last row's pages in this one
        add(row, await copyWith(src, dst, Number(row[0])));
      }
      moveAside(dst);
    }
  }
  const one = median(times.get('1 thread') ?? []);
  const stamp = gitStamp(ROOT);
  const lines = [
    `# Probe: small-file copies with tsync's system calls on 1, 2 and 3 threads`,
    '',
    `Not tsync: a probe for issue 11's initial-copy rows (bench/probe-copy-threads.mjs says what it runs). git ${stamp.label};`,
    `${files.toLocaleString('en-US')} files of 0-4 KiB in ${top} x ${top - 1 || 1} directories, on the file system of bench/.work; median of ${rounds} rotated rounds.`,
    '',
    '| copier | median | vs 1 thread | vs cp -a |',
    '|---|---|---|---|',
    ...rows.map((row) => {
      const m = median(times.get(row) ?? []);
      return `| ${row} | ${(m / 1000).toFixed(2)} s | ${(m / one).toFixed(2)}× | ${(m / median(times.get('cp -a') ?? [])).toFixed(2)}× |`;
    }),
    '',
    `All runs (ms): ${rows.map((row) => `${row}: ${(times.get(row) ?? []).map((t) => t.toFixed(0)).join(', ')}`).join('; ')}.`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (process.env.PROBE_RESULTS !== undefined) writeFileSync(process.env.PROBE_RESULTS, lines.join('\n'));
  rmSync(work, { recursive: true, force: true });
}
