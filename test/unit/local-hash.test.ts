// How a local side hashes the files the plan must read (LocalEndpoint.hash): small files with synchronous reads
// (hashSmallFileSync), larger ones streamed on the thread pool (hashFile). Both must give the same XXH64 as hashing
// the bytes in memory, at every size around the boundary and across the read buffer's size, and fail the same way.
// Real files in a temp dir; nothing mocked.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelPath } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { absFromText, toBytes } from '../../src/fs/paths.js';
import { hashBytes, hashFile, hashSmallFileSync, HASH_CHUNK, loadHasher, SYNC_HASH_MAX } from '../../src/hash/xxhash.js';

let top = '';
let made = 0;
beforeAll(async () => {
  top = mkdtempSync(join(tmpdir(), 'tsync-hash-'));
  await loadHasher();
});
afterAll(() => rmSync(top, { recursive: true, force: true }));

/** A fresh directory of its own for each test, under one temp dir removed at the end. */
function tempRoot(): string {
  const root = join(top, String(made++));
  mkdirSync(root);
  return root;
}

/** A path of a test's temp dir as the engine's calls take it. */
const bytes = (path: string): Buffer => toBytes(absFromText(path));

/** Bytes that differ at every offset (a hash that skipped or repeated a chunk would differ). */
function bytesOf(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const SIZES = [0, 1, 4095, 4096, 65_537, SYNC_HASH_MAX - 1, SYNC_HASH_MAX, SYNC_HASH_MAX + 1, HASH_CHUNK + 3];

describe('hashSmallFileSync', () => {
  it('gives the hash of the bytes for files up to SYNC_HASH_MAX, and null above it', async () => {
    const root = tempRoot();
    for (const [i, size] of SIZES.entries()) {
      const data = bytesOf(size, i + 7);
      const file = join(root, `f${i}`);
      writeFileSync(file, data);
      const got = hashSmallFileSync(bytes(file), Buffer.allocUnsafe(SYNC_HASH_MAX));
      if (size > SYNC_HASH_MAX) {
        expect(got, `size ${size}`).toBeNull();
        continue;
      }
      expect(got, `size ${size}`).toEqual({ hash: hashBytes(data), size });
      // the streamed hash agrees
      expect((await hashFile(bytes(file), Buffer.allocUnsafe(HASH_CHUNK))).hash).toBe(hashBytes(data));
    }
  });

  it('reads a file bigger than its buffer chunk by chunk (a buffer smaller than SYNC_HASH_MAX bounds what it takes)', () => {
    const root = tempRoot();
    const data = bytesOf(10_000, 3);
    const file = join(root, 'f');
    writeFileSync(file, data);
    expect(hashSmallFileSync(bytes(file), Buffer.allocUnsafe(4096))).toBeNull();
    expect(hashSmallFileSync(bytes(file), Buffer.allocUnsafe(10_000))).toEqual({ hash: hashBytes(data), size: 10_000 });
  });

  it('never follows a symlink, and throws what the open meets', () => {
    const root = tempRoot();
    writeFileSync(join(root, 'target'), 'x');
    symlinkSync('target', join(root, 'link'));
    expect(() => hashSmallFileSync(bytes(join(root, 'link')), Buffer.allocUnsafe(64))).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(() => hashSmallFileSync(bytes(join(root, 'missing')), Buffer.allocUnsafe(64))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('LocalEndpoint.hash', () => {
  it('hashes small and large files alike, in subdirectories, and answers each failure with its code', async () => {
    const root = tempRoot();
    const ep = new LocalEndpoint(absFromText(root));
    mkdirSync(join(root, 'd', 'e'), { recursive: true });
    const want = new Map<RelPath, string>();
    for (const [i, size] of SIZES.entries()) {
      const rel = (i % 2 === 0 ? `d/e/f${i}` : `f${i}`) as RelPath;
      const data = bytesOf(size, i + 100);
      writeFileSync(join(root, rel), data);
      want.set(rel, hashBytes(data));
    }
    writeFileSync(join(root, 'd', 'target'), 'x');
    symlinkSync('target', join(root, 'd', 'link'));
    const asked = [...want.keys(), 'd/link' as RelPath, 'd/gone' as RelPath, 'nodir/f' as RelPath];
    const got = await ep.hash(asked, 2).finally(() => ep.close());
    for (const [rel, hash] of want) expect(got.get(rel), rel).toEqual({ hash });
    expect(got.get('d/link' as RelPath)).toEqual({ code: 'ELOOP' });
    expect(got.get('d/gone' as RelPath)).toEqual({ code: 'ENOENT' });
    expect(got.get('nodir/f' as RelPath)).toEqual({ code: 'ENOENT' });
    expect(got.size).toBe(asked.length);
  });
});
