// A remote side's rescan (watch mode) is split in two: the agent walks the dirty roots into a fresh result
// (scan.ts walkPaths) and the client replaces what it knew there (apply-rescan.ts). Against real trees, the split
// must leave the live scan exactly as the in-place rescanPaths of a local side does.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildIndex, IndexedMap } from '../../src/core/path-index.js';
import type { AbsPath, Problem, RelPath, ScannedEntry } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { applyRescan } from '../../src/scan/apply-rescan.js';
import { rescanPaths, rescanRoots, scanTree, walkPaths, type LiveScan, type ScanOptions } from '../../src/scan/scan.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function liveOf(opts: ScanOptions): LiveScan {
  const index: ChildIndex = new ChildIndex((p) => indexed.has(p));
  const indexed = new IndexedMap<ScannedEntry>(index);
  for (const [k, v] of scanTree(opts).entries) indexed.set(k, v);
  return { entries: indexed, problems: new Map<RelPath, Problem>(), below: (d) => index.below(d) };
}

/** Path → kind and size: what the two ways must agree on (inode numbers and times are the tree's own, the same for both). */
function shape(live: LiveScan): [string, string][] {
  return [...live.entries].map(([p, s]): [string, string] => [p, `${s.entry.kind}:${s.stat.size}:${s.stat.ino}`]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('walkPaths + applyRescan', () => {
  it('leave a live scan as rescanPaths does: removed subtrees forgotten, new ones read whole, a dir turned file', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsync-apply-rescan-'));
    dirs.push(root);
    for (const d of ['a/x/deep', 'a/y', 'ab', 'b', 'gone/inner']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['a/x/f1', 'a/x/deep/f2', 'a/y/g', 'ab/z', 'b/h', 'gone/inner/i']) writeFileSync(join(root, f), f);
    const opts: ScanOptions = { root: absFromText(root) as AbsPath, side: 'left', base: new Map(), sideRecord: () => undefined, checksum: false };
    const inPlace = liveOf(opts);
    const split = liveOf(opts);

    rmSync(join(root, 'a/x'), { recursive: true });
    writeFileSync(join(root, 'a/x'), 'now a file');
    rmSync(join(root, 'gone'), { recursive: true });
    mkdirSync(join(root, 'n/m'), { recursive: true });
    writeFileSync(join(root, 'n/m/f'), 'f');
    symlinkSync('b/h', join(root, 'link'));
    writeFileSync(join(root, 'b/h'), 'longer content now');
    const dirty = ['a/x', 'gone/inner/i', 'gone', 'n/m/f', 'link', 'b/h'] as RelPath[];

    rescanPaths(opts, inPlace, dirty);
    const roots = rescanRoots(split, dirty);
    applyRescan(split, roots, walkPaths({ root: opts.root, side: 'left', vouch: null }, roots));

    expect(shape(split)).toEqual(shape(inPlace));
    expect(split.entries.has('gone/inner/i' as RelPath)).toBe(false);
    expect(split.entries.get('n/m/f' as RelPath)?.entry.kind).toBe('file');
  });
});
