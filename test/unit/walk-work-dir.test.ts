// A walk on the main thread looks entries up by bare name from inside their directory, entered through its
// descriptor (fs/work-dir.ts), instead of through `/proc/self/fd/N/name`. Real trees: the scan must find
// exactly what the descriptor paths find (every kind, names that are not UTF-8, symlinks that are never followed),
// and the working directory must be the one it was afterwards, even when the walk failed or the directory was
// renamed. TSYNC_NO_CHDIR=1 turns the bare-name lookups off; process.chdir is observed (not replaced) to show
// which way a walk went. These are the ways of the walk through Node's fs, so TSYNC_NATIVE=0 turns the native
// listing (fs/native-listing.ts, which needs neither) off where a test looks at them; the first test also checks
// that the native listing finds the same.
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { CHECKED_PATH_MIN_NAMES } from '../../src/scan/checked-dir-path.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { scanTree, walkTree, type ScanOptions } from '../../src/scan/scan.js';

const made: string[] = [];
const startCwd = process.cwd();
afterEach(() => {
  process.chdir(startCwd);
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-walk-work-dir-'));
  made.push(d);
  return d;
}

function optionsFor(root: string): ScanOptions {
  return { root: absFromText(root) as AbsPath, side: 'left', base: new Map(), sideRecord: () => undefined, checksum: false, keep: { owner: true, group: true, xattrs: false } };
}

/** Every entry with its stat, without the time it was observed. */
function scanned(root: string): Map<RelPath, unknown> {
  const out = new Map<RelPath, unknown>();
  for (const [path, s] of scanTree(optionsFor(root)).entries) out.set(path, { entry: s.entry, stat: s.stat });
  return out;
}

function richTree(root: string): void {
  for (const d of ['a/b/c', 'empty', 'dir-linked']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'top.txt'), 'top');
  writeFileSync(join(root, 'a/b/c/deep.txt'), 'deep', { mode: 0o640 });
  writeFileSync(join(root, 'a/été.txt'), 'utf-8 name');
  // a name that is not UTF-8: its bytes go as they are, not as a string
  writeFileSync(Buffer.concat([Buffer.from(`${root}/a/`), Buffer.from([0x6c, 0xe9, 0xff, 0x2e, 0x74])]), 'latin1 bytes');
  symlinkSync('dir-linked', join(root, 'link-to-dir'));
  symlinkSync('../top.txt', join(root, 'a/link-to-file'));
  symlinkSync('nowhere', join(root, 'dangling'));
}

describe('walking from inside each directory', () => {
  it('finds exactly what the descriptor paths find, and is the way a main-thread walk goes', () => {
    const root = temp();
    richTree(root);
    const native = scanned(root);
    vi.stubEnv('TSYNC_NATIVE', '0');
    const chdir = vi.spyOn(process, 'chdir');
    const inside = scanned(root);
    const entered = chdir.mock.calls.length;
    chdir.mockClear();
    vi.stubEnv('TSYNC_NO_CHDIR', '1');
    const through = scanned(root);
    expect(chdir).not.toHaveBeenCalled();
    // one per directory listed (the root, a, a/b, a/b/c, empty, dir-linked), and back at the end
    expect(entered).toBe(7);
    expect(inside.size).toBe(12);
    expect(inside).toEqual(through);
    expect(native).toEqual(through);
    // symlinks are read, never followed
    expect((inside.get('link-to-dir' as RelPath) as { entry: { kind: string } }).entry.kind).toBe('symlink');
  });

  it('leaves the working directory where it was, even when the walk fails, and keeps no descriptor', () => {
    const here = temp();
    process.chdir(here);
    const fds = readdirSync('/proc/self/fd').length;
    expect(() => scanTree(optionsFor(join(here, 'no-such-root')))).toThrow();
    expect(realpathSync('.')).toBe(realpathSync(here));
    const root = join(here, 'root');
    richTree(root);
    scanTree(optionsFor(root));
    expect(realpathSync('.')).toBe(realpathSync(here));
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
  });

  it('comes back to the very directory it left, renamed or not', () => {
    const parent = temp();
    const before = join(parent, 'before');
    mkdirSync(before);
    process.chdir(before);
    const ino = statSync('.').ino;
    renameSync(before, join(parent, 'after'));
    const root = join(parent, 'root');
    richTree(root);
    expect(scanTree(optionsFor(root)).entries.size).toBe(12);
    expect(statSync('.').ino).toBe(ino);
    expect(realpathSync('.')).toBe(realpathSync(join(parent, 'after')));
  });

  it('looks names up by the directory’s path only while it leads to the directory the descriptor holds', () => {
    // Where the walk cannot enter a directory (a worker thread; TSYNC_NO_CHDIR=1 here), names are looked up by the
    // directory's absolute path (scan/checked-dir-path.ts). The directory is swapped for a symlink to another one
    // right after its first name was looked up (from the vouch step, which the walk calls for each file): the
    // names must still be those of the directory listed, looked up again through its descriptor.
    vi.stubEnv('TSYNC_NO_CHDIR', '1');
    vi.stubEnv('TSYNC_NATIVE', '0');
    const parent = temp();
    const root = join(parent, 'root');
    const elsewhere = join(parent, 'elsewhere');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(elsewhere);
    const names = Array.from({ length: CHECKED_PATH_MIN_NAMES + 2 }, (_, i) => `f${i}`);
    for (const name of names) {
      writeFileSync(join(root, 'a', name), 'x');
      writeFileSync(join(elsewhere, name), 'not the listed directory');
    }
    let swapped = false;
    const scan = walkTree({
      root: absFromText(root) as AbsPath,
      side: 'left',
      vouch: () => {
        if (!swapped) {
          swapped = true;
          renameSync(join(root, 'a'), join(root, 'a-moved'));
          symlinkSync(elsewhere, join(root, 'a'));
        }
        return null;
      },
    });
    expect(swapped).toBe(true);
    const sizes = names.map((name) => {
      const s = scan.entries.get(`a/${name}` as RelPath);
      return s?.entry.kind === 'file' ? s.entry.size : null;
    });
    expect(sizes).toEqual(names.map(() => 1));
  });
});
