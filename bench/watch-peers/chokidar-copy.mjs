#!/usr/bin/env node
// A bare chokidar copier, the baseline for bench/watch.mjs: watch SRC with chokidar 5's default options
// (plus ignoreInitial), and mirror each event into DST with one fs call. No initial sync, no hashing, no
// temp files, no rescans. Two concessions so the baseline is not wrong for trivial reasons: events on the
// same path are applied in the order they came (one promise chain per path), and a copy that fails with
// ENOENT because its directory is not there yet creates the directory and tries once more.
//
//   node bench/watch-peers/chokidar-copy.mjs SRC DST
//
// stdout: one NDJSON line {"type":"ready"} (the shape of tsync's own ready event) when chokidar is ready. Errors go to stderr. Exits 0 on
// SIGTERM/SIGINT after closing the watcher.
import chokidar from 'chokidar';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const [srcArg, dstArg] = process.argv.slice(2);
if (srcArg === undefined || dstArg === undefined) {
  console.error('usage: chokidar-copy.mjs SRC DST');
  process.exit(2);
}
const src = resolve(srcArg);
const dst = resolve(dstArg);
const target = (/** @type {string} */ p) => join(dst, relative(src, p));

/** @type {Map<string, Promise<unknown>>} */
const chains = new Map();
/** @param {string} path @param {() => Promise<unknown>} op */
function enqueue(path, op) {
  const prev = chains.get(path) ?? Promise.resolve();
  const next = prev.then(op).catch((/** @type {Error} */ e) => console.error(`chokidar-copy: ${path}: ${e.message}`));
  chains.set(path, next);
  next.then(() => {
    if (chains.get(path) === next) chains.delete(path);
  });
}

/** @param {string} p */
async function copy(p) {
  const to = target(p);
  try {
    await copyFile(p, to);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ENOENT') throw e;
    await mkdir(dirname(to), { recursive: true });
    await copyFile(p, to).catch((/** @type {NodeJS.ErrnoException} */ e2) => {
      if (e2.code !== 'ENOENT') throw e2; // the source is gone again: its unlink event follows
    });
  }
}

const watcher = chokidar.watch(src, { ignoreInitial: true });
watcher
  .on('add', (p) => enqueue(p, () => copy(p)))
  .on('change', (p) => enqueue(p, () => copy(p)))
  .on('unlink', (p) => enqueue(p, () => rm(target(p), { force: true })))
  .on('addDir', (p) => enqueue(p, () => mkdir(target(p), { recursive: true })))
  .on('unlinkDir', (p) => enqueue(p, () => rm(target(p), { recursive: true, force: true })))
  .on('error', (e) => console.error(`chokidar-copy: watcher error: ${/** @type {Error | undefined} */ (e)?.message ?? e}`))
  .on('ready', () => process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await watcher.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
