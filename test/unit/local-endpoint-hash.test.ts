// LocalEndpoint.hash against real files in a temp dir: a small batch (a watch cycle's) hashes its small files
// with blocking reads on the calling thread, a big batch through the thread pool. Both must give the same answer
// for every kind of path, and that answer must be the XXH64 of the bytes on disk.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { absFromText } from '../../src/fs/paths.js';
import { hashBytes, hashSmallFileSync, loadHasher } from '../../src/hash/xxhash.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
beforeAll(() => loadHasher());

const KIB = 1024;

/** Files around the small-file limit (256 KiB) and the pool's chunk (1 MiB), a symlink, a path that is not there. */
function tree(): { root: string; files: Map<string, Buffer> } {
  const root = mkdtempSync(join(tmpdir(), 'tsync-hash-'));
  dirs.push(root);
  mkdirSync(join(root, 'sub'));
  const files = new Map<string, Buffer>();
  const sizes: Record<string, number> = { empty: 0, one: 1, 'sub/small': 4000, 'at-limit': 256 * KIB, 'over-limit': 256 * KIB + 1, 'sub/big': 1024 * KIB + 3 };
  for (const [name, size] of Object.entries(sizes)) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 131 + name.length * 7) & 0xff;
    writeFileSync(join(root, name), data);
    files.set(name, data);
  }
  symlinkSync('one', join(root, 'link'));
  mkdirSync(join(root, 'real'));
  writeFileSync(join(root, 'real', 'inside'), 'behind a symlinked directory');
  symlinkSync('real', join(root, 'dirlink'));
  return { root, files };
}

const ODD_PATHS = ['link', 'missing', 'sub/missing', 'dirlink/inside'];

describe('LocalEndpoint.hash', () => {
  it('hashes a small batch with blocking reads and a big batch in the pool, to the same results', async () => {
    const { root, files } = tree();
    const ep = new LocalEndpoint(absFromText(root) as AbsPath);
    try {
      const all = [...files.keys(), ...ODD_PATHS] as RelPath[];
      expect(all.length).toBeGreaterThan(8); // above SYNC_HASH_MAX_FILES: the pool's path
      const pooled = await ep.hash(all, 2);
      const oneByOne = new Map();
      for (const p of all) for (const [k, v] of await ep.hash([p], 2)) oneByOne.set(k, v);
      expect(oneByOne).toEqual(pooled);
      for (const [name, data] of files) expect(pooled.get(name as RelPath), name).toEqual({ hash: hashBytes(data) });
      expect(pooled.get('link' as RelPath)).toEqual({ code: 'ELOOP' }); // a symlink is never followed
      expect(pooled.get('missing' as RelPath)).toEqual({ code: 'ENOENT' });
      expect(pooled.get('sub/missing' as RelPath)).toEqual({ code: 'ENOENT' });
      expect(pooled.get('dirlink/inside' as RelPath)).toEqual({ code: 'ELOOP' }); // nor a directory swapped for one
    } finally {
      await ep.close();
    }
  });

  it('hashSmallFileSync reads a file up to the limit, and leaves a bigger one to the pool unread', () => {
    const { root, files } = tree();
    const buffer = Buffer.allocUnsafe(256 * KIB + 1);
    const at = files.get('at-limit') as Buffer;
    expect(hashSmallFileSync(Buffer.from(join(root, 'at-limit')), buffer, 256 * KIB)).toEqual({ hash: hashBytes(at), size: at.length });
    expect(hashSmallFileSync(Buffer.from(join(root, 'over-limit')), buffer, 256 * KIB)).toBeNull();
    // a buffer smaller than the file: read in several calls, to the end
    const small = files.get('sub/small') as Buffer;
    expect(hashSmallFileSync(Buffer.from(join(root, 'sub/small')), Buffer.allocUnsafe(1000), 256 * KIB)).toEqual({ hash: hashBytes(small), size: small.length });
    expect(readFileSync(join(root, 'sub/small')).equals(small)).toBe(true);
  });
});
