// A scan keys its entries with the index's own string for each path (scan/scan.ts SharedPath): the walk and the
// decoding of a worker's scan must take the key from sharedPath, and a BaseTable gives back its key for a path it
// holds and the path it was asked with otherwise. String identity cannot be seen from JavaScript, so the wiring
// is checked with a sharedPath that marks what it returns for files (a contract break no real caller makes: the
// marked keys show that the walk used its answer).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, Entry, RelPath } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { walkTree } from '../../src/scan/scan.js';
import { decodeScan, encodeScan } from '../../src/scan/scan-codec.js';
import { BaseTable } from '../../src/store/base-table.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function smallTree(): AbsPath {
  const root = mkdtempSync(join(tmpdir(), 'tsync-shared-'));
  made.push(root);
  mkdirSync(join(root, 'd', 'e'), { recursive: true });
  for (const f of ['a', 'd/b', 'd/e/c']) writeFileSync(join(root, f), f);
  return absFromText(root) as AbsPath;
}

const marked = (path: RelPath): RelPath => `shared:${path}` as RelPath;

describe('shared path strings', () => {
  it('a walk keys every entry with what sharedPath gives, and walks on below a directory from it', () => {
    const asked: RelPath[] = [];
    const scan = walkTree({
      root: smallTree(),
      side: 'left',
      vouch: null,
      sharedPath: (path) => {
        asked.push(path);
        return path;
      },
    });
    expect([...scan.entries.keys()].sort()).toEqual(['a', 'd', 'd/b', 'd/e', 'd/e/c']);
    expect([...asked].sort()).toEqual(['a', 'd', 'd/b', 'd/e', 'd/e/c']);
    // the files only: a directory's key is also where the walk goes on below it, so it must name the directory
    const files = new Set(['a', 'd/b', 'd/e/c']);
    const renamed = walkTree({ root: smallTree(), side: 'left', vouch: null, sharedPath: (path) => (files.has(path) ? marked(path) : path) });
    expect([...renamed.entries.keys()].sort()).toEqual(['d', 'd/e', 'shared:a', 'shared:d/b', 'shared:d/e/c']);
  });

  it('a worker scan decoded with sharedPath is keyed with its answers', () => {
    const scan = walkTree({ root: smallTree(), side: 'right', vouch: null });
    const { encoded } = encodeScan(scan);
    const decoded = decodeScan(encoded, null, null, marked);
    expect([...decoded.entries.keys()].sort()).toEqual(['shared:a', 'shared:d', 'shared:d/b', 'shared:d/e', 'shared:d/e/c']);
    expect(decoded.entries.get(marked('d/b' as RelPath))?.entry.kind).toBe('file');
  });

  it('a BaseTable answers with its key for a path it holds, loaded or set, and with the path asked otherwise', () => {
    const t = new BaseTable(1);
    const entry: Entry = { kind: 'dir', mode: 0o755, mtimeNs: 1n };
    t.append('x/y' as RelPath, entry, null, null);
    t.set('z' as RelPath, { entry, left: null, right: null });
    for (const p of ['x/y', 'z', 'nowhere'] as RelPath[]) expect(t.sharedPath(`${p}` as RelPath)).toBe(p);
  });
});
