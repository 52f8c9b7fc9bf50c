// Deterministic dataset generation and mutation for bench/run.mjs.
//
// Everything is derived from a seed: the tree shape, file sizes, file contents (AES-128-CTR keystream,
// so it is incompressible and never dedupes) and file/dir mtimes (fixed past timestamps). Only inode
// numbers and ctimes differ between two generations of the same dataset.
import { createCipheriv, createHash } from 'node:crypto';
import { chownSync, closeSync, ftruncateSync, mkdirSync, openSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';

/** @typedef {{ rel: string, size: number }} FileSpec */
/** @typedef {{ root: string, files: FileSpec[], dirs: string[], bytes: number, seed: number }} Manifest */
/** @typedef {Manifest & { leaves: string[], pool: Buffer, maxSize: number }} SmallTreeManifest */
/** @typedef {{ changed?: FileSpec[], deleted?: string[], added?: FileSpec[] }} ChangeSet */
/** @typedef {ReturnType<typeof rng>} Rng */

/** mulberry32: small, fast, good enough for picking sizes and names. Returns floats in [0, 1). */
/** @param {number} seed */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (/** @type {number} */ n) => Math.floor(next() * n); // 0 .. n-1
  return next;
}

/** A deterministic, incompressible byte stream: AES-128-CTR over zeros, keyed by (seed, label). */
/** @param {number} seed @param {string} label @returns {(n: number) => Buffer} */
export function keystream(seed, label) {
  const key = createHash('sha256').update(`tsync-bench:${seed}:${label}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (n) => cipher.update(Buffer.alloc(n));
}

/** Base mtime of generated files: 2023-11-14, far from "now", so any later write changes the mtime by seconds. */
const BASE_MTIME_S = 1_700_000_000;

const pad = (/** @type {number} */ n, /** @type {number} */ w) => String(n).padStart(w, '0');

/**
 * Generates a tree of small files: `top` x `sub` leaf directories (nested 2 levels), `files` files with
 * sizes uniform in [0, maxSize], placed at random leaf directories. Returns a manifest
 * { files: [{ rel, size }], dirs: [rel], bytes } in generation order.
 * @param {string} root
 * @param {{ files: number, top: number, sub: number, maxSize: number, seed: number }} shape
 * @returns {SmallTreeManifest}
 */
export function generateSmallTree(root, { files, top, sub, maxSize, seed }) {
  const r = rng(seed);
  const pool = keystream(seed, 'pool')(Math.max(4 << 20, maxSize * 4));
  /** @type {string[]} */
  const dirs = [];
  for (let i = 0; i < top; i++) {
    dirs.push(`d${pad(i, 3)}`);
    for (let j = 0; j < sub; j++) dirs.push(`d${pad(i, 3)}/s${pad(j, 3)}`);
  }
  const leaves = dirs.filter((d) => d.includes('/'));
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  /** @type {FileSpec[]} */
  const out = [];
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const rel = `${leaves[r.int(leaves.length)]}/f${pad(i, 6)}.bin`;
    const size = r.int(maxSize + 1);
    const abs = join(root, rel);
    writeFileSync(abs, contentOf(pool, r, size, `base:${rel}`));
    const t = BASE_MTIME_S + r.int(86_400 * 30);
    utimesSync(abs, t, t);
    out.push({ rel, size });
    bytes += size;
  }
  // Directories last, deepest first, so creating their children does not bump them again.
  for (const d of [...dirs].reverse()) utimesSync(join(root, d), BASE_MTIME_S, BASE_MTIME_S);
  utimesSync(root, BASE_MTIME_S, BASE_MTIME_S);
  return { root, files: out, dirs, leaves, bytes, seed, pool, maxSize };
}

/**
 * A slice of the pool at a random offset, with a unique header so no two files are alike.
 * @param {Buffer} pool @param {Rng} r @param {number} size @param {string} tag
 */
function contentOf(pool, r, size, tag) {
  const off = r.int(pool.length - size + 1);
  const buf = Buffer.from(pool.subarray(off, off + size));
  buf.write(`${tag}\n`, 0, Math.min(size, tag.length + 1), 'latin1');
  return buf;
}

/**
 * Fisher-Yates shuffle of 0..n-1 with a seeded rng.
 * @param {number} n @param {Rng} r
 */
function shuffled(n, r) {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [/** @type {number} */ (a[j]), /** @type {number} */ (a[i])];
  }
  return a;
}

/**
 * The one-way incremental change set: `pct`% of the manifest's files changed (half keep their size, so
 * a stat-cache tool must notice via mtime/ctime and compare content), `pct`% deleted, `pct`% added.
 * Deterministic: the same manifest and seed always give the same plan.
 * @param {SmallTreeManifest} manifest @param {number} pct @param {number} seed
 */
export function planIncremental(manifest, pct, seed) {
  const r = rng(seed);
  const k = Math.max(1, Math.round((manifest.files.length * pct) / 100));
  const order = shuffled(manifest.files.length, r);
  const changed = order.slice(0, k).map((i) => {
    const f = /** @type {FileSpec} */ (manifest.files[i]);
    return { rel: f.rel, size: r() < 0.5 ? f.size : r.int(Math.max(1, maxSizeOf(manifest)) + 1) };
  });
  const deleted = order.slice(k, 2 * k).map((i) => /** @type {FileSpec} */ (manifest.files[i]).rel);
  const added = Array.from({ length: k }, (_, i) => ({
    rel: `${manifest.leaves[r.int(manifest.leaves.length)]}/new${pad(i, 6)}.bin`,
    size: r.int(maxSizeOf(manifest) + 1),
  }));
  return { changed, deleted, added, seed };
}

/**
 * Two disjoint sets of `pct`% of the files, to be changed on side A and side B respectively.
 * @param {SmallTreeManifest} manifest @param {number} pct @param {number} seed
 */
export function planTwoWay(manifest, pct, seed) {
  const r = rng(seed);
  const k = Math.max(1, Math.round((manifest.files.length * pct) / 100));
  const order = shuffled(manifest.files.length, r);
  const pick = (/** @type {number[]} */ slice) =>
    slice.map((i) => ({ rel: /** @type {FileSpec} */ (manifest.files[i]).rel, size: r() < 0.5 ? /** @type {FileSpec} */ (manifest.files[i]).size : r.int(maxSizeOf(manifest) + 1) }));
  return { a: pick(order.slice(0, k)), b: pick(order.slice(k, 2 * k)), seed };
}

/** @param {Manifest & { maxSize?: number }} manifest */
function maxSizeOf(manifest) {
  return manifest.maxSize ?? manifest.files.reduce((m, f) => Math.max(m, f.size), 0);
}

/** Mtimes given to edited files and their directories: ~90 days after the base, and fixed. */
const EDIT_MTIME_S = BASE_MTIME_S + 90 * 86_400;

/**
 * Applies changes to a tree. Rewritten files and the directories whose listing changed get fixed mtimes
 * (days away from the base ones, never "now"): rsync compares mtimes at one-second granularity, so a
 * directory touched less than a second before the sync would otherwise keep rsync's own write time,
 * and unison would miss a same-size edit made within the second of its previous scan.
 * Returns Map rel -> sha1 of the new content.
 * @param {string} root @param {ChangeSet} changes @param {Buffer} pool @param {number} seed @param {string} tag
 */
export function applyChanges(root, { changed = [], deleted = [], added = [] }, pool, seed, tag) {
  const r = rng(seed ^ 0x5eed);
  /** @type {Map<string, string>} */
  const expect = new Map();
  /** @type {Set<string>} */
  const dirs = new Set();
  const parent = (/** @type {string} */ rel) => rel.slice(0, rel.lastIndexOf('/'));
  for (const rel of deleted) {
    rmSync(join(root, rel));
    dirs.add(parent(rel));
  }
  for (const { rel, size } of [...changed, ...added]) {
    const buf = contentOf(pool, r, size, `${tag}:${rel}`);
    const abs = join(root, rel);
    writeFileSync(abs, buf);
    const t = EDIT_MTIME_S + r.int(86_400);
    utimesSync(abs, t, t);
    expect.set(rel, createHash('sha1').update(buf).digest('hex'));
    dirs.add(parent(rel));
  }
  for (const d of dirs) utimesSync(join(root, d), EDIT_MTIME_S, EDIT_MTIME_S);
  return expect;
}

/**
 * One file of `size` bytes that is a hole except for `blocks` random 4 KiB blocks in its middle half
 * (as `truncate -s` and a few writes make it): the `sparse` scenario's source.
 * @param {string} root @param {{ size: number, blocks: number, seed: number }} shape
 * @returns {Manifest}
 */
export function generateSparseFile(root, { size, blocks, seed }) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const rel = 'sparse.img';
  const path = join(root, rel);
  const fd = openSync(path, 'w');
  const next = keystream(seed, 'sparse');
  try {
    ftruncateSync(fd, size);
    // a few 4 KiB blocks of data spread over the middle: the rest stays a hole
    for (let i = 0; i < blocks; i++) {
      const at = Math.floor(size / 4 + (i * size) / (2 * blocks)) & ~4095;
      writeSync(fd, next(4096), 0, 4096, at);
    }
  } finally {
    closeSync(fd);
  }
  utimesSync(path, BASE_MTIME_S, BASE_MTIME_S);
  utimesSync(root, BASE_MTIME_S, BASE_MTIME_S);
  return { root, files: [{ rel, size }], dirs: [], bytes: size, seed };
}

/**
 * Large files: `count` files of `size` bytes, each one continuous AES-CTR stream (per file key), written
 * in 1 MiB chunks. Nothing repeats, so neither compression nor dedupe can shortcut a copy.
 * @param {string} root @param {{ count: number, size: number, seed: number }} shape
 * @returns {Manifest}
 */
export function generateLargeFiles(root, { count, size, seed }) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  /** @type {FileSpec[]} */
  const files = [];
  const CHUNK = 1 << 20;
  for (let i = 0; i < count; i++) {
    const rel = `big${i}.bin`;
    const next = keystream(seed, `large:${i}`);
    const fd = openSync(join(root, rel), 'w');
    try {
      for (let done = 0; done < size; ) {
        const n = Math.min(CHUNK, size - done);
        const buf = next(n);
        let w = 0;
        while (w < n) w += writeSync(fd, buf, w, n - w);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    const t = BASE_MTIME_S + i;
    utimesSync(join(root, rel), t, t);
    files.push({ rel, size });
  }
  utimesSync(root, BASE_MTIME_S, BASE_MTIME_S);
  return { root, files, dirs: [], bytes: count * size, seed };
}

/** The uid/gid the `xattrs` scenario gives some files: not root, and needing no passwd entry (chown takes numbers). */
export const XATTR_TREE_OWNER = { uid: 1234, gid: 2345 };

/**
 * Turns a generated tree into the `xattrs` scenario's source: every file gets a `user.bench.tag` xattr
 * (its path and a seeded number, so no two values are alike) and every `ownerEvery`-th file, plus every
 * other leaf directory, gets a non-root owner and group. Setting xattrs and owners changes only ctimes,
 * so the tree's mtimes stay the generator's. Needs root (chown) and a file system with user xattrs.
 * Returns how many entries got the non-root owner.
 * @param {SmallTreeManifest} manifest @param {{ ownerEvery: number, seed: number }} options
 */
export function decorateXattrTree(manifest, { ownerEvery, seed }) {
  const r = rng(seed);
  const { uid, gid } = XATTR_TREE_OWNER;
  let owned = 0;
  manifest.files.forEach(({ rel }, i) => {
    const abs = join(manifest.root, rel);
    setAttributeSync(abs, 'user.bench.tag', `${rel}:${r.int(1e9)}`);
    if (i % ownerEvery === 0) {
      chownSync(abs, uid, gid);
      owned++;
    }
  });
  manifest.leaves.forEach((d, i) => {
    if (i % 2 === 0) {
      chownSync(join(manifest.root, d), uid, gid);
      owned++;
    }
  });
  return owned;
}
