// DirAnchors.makeDirs (engine/dir-anchors.ts) on real trees: it makes what is missing of a chain, one name at a time
// below a descriptor it holds, and goes through no symlink and no file on the way. With the addon it asks whether each
// directory is there without an error object (isThere); without it (TSYNC_NATIVE=0) it goes Node's way. Both ways must
// leave the same tree and refuse the same things.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { DirAnchors } from '../../src/engine/dir-anchors.js';
import { UnsafePathError } from '../../src/engine/guards.js';
import { nativeDirOpener } from '../../src/fs/native-listing.js';
import { absFromText } from '../../src/fs/paths.js';

const made: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-make-dirs-'));
  made.push(d);
  return d;
}

/** Every path below `root` with its kind, sorted. */
function treeOf(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    out.push(`${r} ${st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file'}`);
    if (st.isDirectory()) out.push(...treeOf(root, r));
  }
  return out;
}

/** A root with a directory, a file and a symlink to a directory outside it; makeDirs asked for six chains. */
function run(): { tree: string[]; outside: string[]; refused: string[] } {
  const root = temp();
  const outside = temp();
  mkdirSync(join(root, 'kept/inner'), { recursive: true });
  writeFileSync(join(root, 'a-file'), 'x');
  symlinkSync(outside, join(root, 'link'));
  const anchors = new DirAnchors(absFromText(root) as AbsPath);
  const refused: string[] = [];
  try {
    for (const chain of ['new/deeper/deepest', 'kept/inner/more', 'kept', 'new/deeper/other', 'link/through', 'a-file/below']) {
      try {
        anchors.makeDirs(chain as RelPath);
      } catch (e) {
        if (!(e instanceof UnsafePathError)) throw e;
        refused.push(chain);
      }
    }
  } finally {
    anchors.closeAll();
  }
  return { tree: treeOf(root), outside: treeOf(outside), refused };
}

describe('making the directories of a chain', () => {
  it('makes what is missing, keeps what is there, and goes through no symlink or file, with the addon as without', () => {
    expect(nativeDirOpener()).not.toBeNull();
    const withAddon = run();
    vi.stubEnv('TSYNC_NATIVE', '0');
    const without = run();
    expect(withAddon).toEqual(without);
    expect(withAddon).toEqual({
      tree: ['a-file file', 'kept dir', 'kept/inner dir', 'kept/inner/more dir', 'link link', 'new dir', 'new/deeper dir', 'new/deeper/deepest dir', 'new/deeper/other dir'],
      outside: [],
      refused: ['link/through', 'a-file/below'],
    });
  });
});
