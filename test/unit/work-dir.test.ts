// A small file's install names its temp file and its target by bare names from inside the target's directory,
// entered through that directory's descriptor (fs/work-dir.ts), instead of through `/proc/self/fd/N/name`.
// Real trees and the real copy: the files must land exactly where the descriptor paths put them (directories
// interleaved, so the working directory moves back and forth), never through a directory path swapped for a
// symlink, and the working directory must be the one it was once the event loop turns. process.chdir is
// observed (not replaced) to show which way the installs went; TSYNC_NO_CHDIR=1 turns the bare names off.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AbsPath, RelPath, ScannedEntry } from '../../src/core/types.js';
import { copyFileAtomic } from '../../src/engine/copy-file.js';
import { installBytes } from '../../src/engine/stream-copy.js';
import { DirAnchors } from '../../src/engine/dir-anchors.js';
import { absFromText } from '../../src/fs/paths.js';
import { loadHasher } from '../../src/hash/xxhash.js';
import { restoreWorkDir } from '../../src/fs/work-dir.js';
import { scanTree } from '../../src/scan/scan.js';

const made: string[] = [];
const startCwd = process.cwd();
afterEach(() => {
  restoreWorkDir();
  process.chdir(startCwd);
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-work-dir-'));
  made.push(d);
  return d;
}

/** Files in three directories, listed so that consecutive ones mostly sit in different directories. */
const FILES = ['a/one', 'b/one', 'a/two', 'c/d/one', 'b/two', 'top', 'a/three', 'c/d/two', 'b/three'] as RelPath[];

function sourceTree(root: string): Map<RelPath, ScannedEntry> {
  for (const f of FILES) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), `content of ${f}\n`);
  }
  return scanTree({ root: absFromText(root) as AbsPath, side: 'left', base: new Map(), sideRecord: () => undefined, checksum: false }).entries;
}

/** Copies `paths` from `src` to `dst` (whose directories exist) the way the engine does, through both sides' anchors. */
async function copyAll(
  src: string,
  dst: string,
  scanned: Map<RelPath, ScannedEntry>,
  paths: readonly RelPath[],
  anchors = new DirAnchors(absFromText(dst) as AbsPath),
  beforeRename = (): void => undefined,
): Promise<void> {
  const from = new DirAnchors(absFromText(src) as AbsPath);
  for (const path of paths) {
    const source = scanned.get(path);
    if (source === undefined) throw new Error(`not scanned: ${path}`);
    const s = from.place(path);
    const t = anchors.place(path);
    try {
      await copyFileAtomic({
        sourceAbs: s.fdPath,
        targetDirAbs: t.dirFdPath,
        targetAbs: t.fdPath,
        source,
        expect: null,
        label: path,
        beforeRename,
        keepReplaced: () => undefined,
        sourceRacyWindowNs: 0n,
      });
    } finally {
      s.release();
      t.release();
    }
  }
  from.closeAll();
}

function makeDirs(dst: string): void {
  for (const d of ['a', 'b', 'c/d']) mkdirSync(join(dst, d), { recursive: true });
}

/** Every file below `root` with its content (tsync's temp files included, so that a leftover shows). */
function contents(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory()) Object.assign(out, contents(root, rel));
    else out[rel] = readFileSync(join(root, rel), 'utf8');
  }
  return out;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('installing from inside the target directory', () => {
  it('puts every file where the descriptor paths put it, entering a directory only when the target moves to another', async () => {
    const src = temp();
    const scanned = sourceTree(src);
    const viaNames = temp();
    const viaDescriptors = temp();
    makeDirs(viaNames);
    makeDirs(viaDescriptors);
    const here = temp();
    process.chdir(here);

    const chdir = vi.spyOn(process, 'chdir');
    await copyAll(src, viaNames, scanned, FILES);
    // each file sits in another directory than the one before it, so each install enters its directory
    const entered = chdir.mock.calls.length;
    expect(entered).toBe(FILES.length);
    await turn();
    expect(chdir.mock.calls.length).toBe(entered + 1); // back home, once
    expect(realpathSync('.')).toBe(realpathSync(here));

    chdir.mockClear();
    vi.stubEnv('TSYNC_NO_CHDIR', '1');
    await copyAll(src, viaDescriptors, scanned, FILES);
    await turn();
    expect(chdir).not.toHaveBeenCalled();

    const expected = Object.fromEntries(FILES.map((f) => [f, `content of ${f}\n`]));
    expect(contents(viaNames)).toEqual(expected);
    expect(contents(viaDescriptors)).toEqual(expected);
    expect(readdirSync(here)).toEqual([]);
  });

  it('stays in the directory it entered when that directory is moved and its path becomes a symlink', async () => {
    const src = temp();
    const scanned = sourceTree(src);
    const dst = temp();
    makeDirs(dst);
    const outside = temp();
    const anchors = new DirAnchors(absFromText(dst) as AbsPath);
    // the first copy into a/ opens a/ (held by the anchors) and enters it
    await copyAll(src, dst, scanned, ['a/one' as RelPath], anchors);
    renameSync(join(dst, 'a'), join(dst, 'a-moved'));
    symlinkSync(outside, join(dst, 'a'));
    await copyAll(src, dst, scanned, ['a/two' as RelPath, 'a/three' as RelPath], anchors);
    anchors.closeAll();

    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(join(dst, 'a-moved')).sort()).toEqual(['one', 'three', 'two']);
  });

  it('enters a directory again once a walk has moved the working directory in between', async () => {
    const src = temp();
    const scanned = sourceTree(src);
    const dst = temp();
    makeDirs(dst);
    const anchors = new DirAnchors(absFromText(dst) as AbsPath);
    await copyAll(src, dst, scanned, ['a/one' as RelPath], anchors);
    // a walk in between enters its own directories and puts the working directory back where it began
    sourceTree(temp());
    const chdir = vi.spyOn(process, 'chdir');
    await copyAll(src, dst, scanned, ['a/two' as RelPath], anchors);
    expect(chdir).toHaveBeenCalledTimes(1);
    anchors.closeAll();
    expect(contents(join(dst, 'a'))).toEqual({ one: 'content of a/one\n', two: 'content of a/two\n' });
  });

  it('enters the directory again before the rename when a check on the way moved the working directory', async () => {
    const src = temp();
    const scanned = sourceTree(src);
    const dst = temp();
    makeDirs(dst);
    const here = temp();
    process.chdir(here);
    // a check that walks a tree (nothing on this path does today): the walk puts the working directory back here
    const walkSomewhere = (): void => {
      sourceTree(temp());
    };
    await copyAll(src, dst, scanned, ['a/one' as RelPath, 'a/two' as RelPath, 'b/one' as RelPath], undefined, walkSomewhere);
    expect(readdirSync(here)).toEqual([]);
    expect(contents(dst)).toEqual({ 'a/one': 'content of a/one\n', 'a/two': 'content of a/two\n', 'b/one': 'content of b/one\n' });
  });
});

describe("installing a batch's file whole from inside the target directory", () => {
  it('puts every file where it belongs, holes kept, entering a directory only when the target moves to another', async () => {
    await loadHasher();
    const src = temp();
    sourceTree(src);
    // a file with holes: 1 MiB with 4 KiB of data at its end
    truncateSync(join(src, 'top'), 0);
    writeFileSync(join(src, 'top'), Buffer.alloc(4096, 7), { flag: 'r+' });
    truncateSync(join(src, 'top'), 1 << 20);
    const rescanned = scanTree({ root: absFromText(src) as AbsPath, side: 'left', base: new Map(), sideRecord: () => undefined, checksum: false }).entries;
    const dst = temp();
    makeDirs(dst);
    const anchors = new DirAnchors(absFromText(dst) as AbsPath);
    const chdir = vi.spyOn(process, 'chdir');
    for (const path of FILES) {
      const source = rescanned.get(path);
      if (source === undefined) throw new Error(`not scanned: ${path}`);
      const t = anchors.place(path);
      try {
        installBytes(
          { targetDirAbs: t.dirFdPath, targetAbs: t.fdPath, source, expect: null, label: path, beforeRename: () => undefined, keepReplaced: () => undefined },
          readFileSync(join(src, path)),
        );
      } finally {
        t.release();
      }
    }
    anchors.closeAll();
    expect(chdir.mock.calls.length).toBe(FILES.length);
    const expected: Record<string, string> = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(src, f), 'utf8')]));
    expect(contents(dst)).toEqual(expected);
    // the all-zero blocks stayed holes
    expect(lstatSync(join(dst, 'top')).blocks * 512).toBeLessThan(64 * 1024);
  });
});
