// rescanPaths against a real tree: re-reading a directory forgets what was known below it, and only that.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildIndex, IndexedMap } from '../../src/core/path-index.js';
import type { AbsPath, Problem, RelPath, ScannedEntry } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { rescanPaths, scanTree, type LiveScan, type ScanOptions } from '../../src/scan/scan.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function liveOf(root: string): { live: LiveScan; opts: ScanOptions } {
  const opts: ScanOptions = { root: absFromText(root) as AbsPath, side: 'left', base: new Map(), sideRecord: () => undefined, checksum: false };
  const index: ChildIndex = new ChildIndex((p) => indexed.has(p));
  const indexed = new IndexedMap<ScannedEntry>(index);
  for (const [k, v] of scanTree(opts).entries) indexed.set(k, v);
  const live: LiveScan = { entries: indexed, problems: new Map<RelPath, Problem>(), below: (d) => index.below(d) };
  return { live, opts };
}

describe('rescanPaths', () => {
  it('forgets a removed subtree and leaves the other subtrees, even those sharing a name prefix, intact', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsync-rescan-'));
    dirs.push(root);
    for (const d of ['a/x/deep', 'a/y', 'ab', 'b']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['a/x/f1', 'a/x/deep/f2', 'a/y/g', 'ab/z', 'b/h']) writeFileSync(join(root, f), f);
    const { live, opts } = liveOf(root);
    expect(live.entries.size).toBe(11);
    rmSync(join(root, 'a/x'), { recursive: true });
    writeFileSync(join(root, 'a/x'), 'now a file');
    rescanPaths(opts, live, ['a/x' as RelPath]);
    expect([...live.entries.keys()].sort()).toEqual(['a', 'a/x', 'a/y', 'a/y/g', 'ab', 'ab/z', 'b', 'b/h']);
    expect(live.entries.get('a/x' as RelPath)?.entry.kind).toBe('file');
  });

  it('re-reads a directory made after the scan with everything in it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsync-rescan-'));
    dirs.push(root);
    mkdirSync(join(root, 'keep'));
    writeFileSync(join(root, 'keep/k'), 'k');
    const { live, opts } = liveOf(root);
    mkdirSync(join(root, 'n/m'), { recursive: true });
    writeFileSync(join(root, 'n/m/f'), 'f');
    rescanPaths(opts, live, ['n/m/f' as RelPath]); // child first: the unknown directory on the way is read
    expect([...live.entries.keys()].sort()).toEqual(['keep', 'keep/k', 'n', 'n/m', 'n/m/f']);
    rmSync(join(root, 'n'), { recursive: true });
    rescanPaths(opts, live, ['n' as RelPath]);
    expect([...live.entries.keys()].sort()).toEqual(['keep', 'keep/k']);
  });
});
