// The scan's native listing (native/list_dir.c through src/fs/native-listing.ts) against Node's own lstat, on a real
// tree with every kind of entry: the names it lists and, for each, every field the scan keeps must be what
// lstatSync(…, { bigint: true }) says. And a directory it cannot list is an error with the errno's code, as Node's.
import {
  closeSync,
  constants,
  existsSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addonPath,
  ListingError,
  listingKind,
  nativeDirOpener,
  nativeNoEntry,
  nativeRenameExchange,
  nativeRenameNoReplace,
  nativeFsyncFds,
  nativeSyncfs,
  NUMBERS_PER_NAME,
  nativeLister,
  TIMES_PER_NAME,
} from '../../src/fs/native-listing.js';
import { discardTemp, placeNew, renameIntoPlace } from '../../src/engine/copy-file.js';
import { statIdOf } from '../../src/fs/stat.js';
import { StaleTargetError } from '../../src/engine/guards.js';
import { withAndWithoutAddon } from '../helpers/addon.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-native-listing-'));
  made.push(d);
  return d;
}

/** Every kind the scan meets: files (one sparse, two names of one), directories, symlinks, a fifo, names that are not UTF-8. */
function richTree(root: string): string[] {
  for (const d of ['a/b', 'empty']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'top.txt'), 'top', { mode: 0o640 });
  writeFileSync(join(root, 'a/b/deep.txt'), 'deep');
  linkSync(join(root, 'a/b/deep.txt'), join(root, 'a/deep-again.txt'));
  writeFileSync(join(root, 'a/été.txt'), 'utf-8 name');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/a/`), Buffer.from([0x6c, 0xe9, 0xff, 0x2e, 0x74])]), 'latin1 bytes');
  writeFileSync(join(root, 'sparse.bin'), 'end');
  truncateSync(join(root, 'sparse.bin'), 64 * 1024 * 1024);
  symlinkSync('a', join(root, 'link-to-dir'));
  symlinkSync('nowhere', join(root, 'dangling'));
  execFileSync('mkfifo', [join(root, 'a/fifo')]);
  for (let i = 0; i < 300; i++) writeFileSync(join(root, 'a', `many-${i}`), String(i)); // more than one getdents buffer
  // mtimes with a fraction of a second, and unlike the ctimes (a swapped field would otherwise compare equal);
  // Node's calls, not GNU touch and truncate, so that the test runs on macOS too
  setOldTimes(Buffer.from(root));
  return ['', 'a', 'a/b', 'empty'];
}

/** lutimes of everything below `dir` (bytes: one name is not UTF-8), symlinks included and not followed. */
function setOldTimes(dir: Buffer): void {
  for (const name of readdirSync(dir, { encoding: 'buffer' })) {
    const child = Buffer.concat([dir, Buffer.from('/'), name]);
    if (lstatSync(child).isDirectory()) setOldTimes(child);
    lutimesSync(child, 981173106.123457, 981173106.123457);
  }
}

describe('the native listing', () => {
  it('is built and in use here (npm install compiles it; the suite is meant to test it)', () => {
    expect(listingKind()).toMatchObject({ native: true });
  });

  it('lists every name of a directory with the lstat Node gives for it, field by field', () => {
    const root = temp();
    const lister = nativeLister();
    if (lister === null) throw new Error('no native listing');
    let compared = 0;
    for (const dir of richTree(root)) {
      const abs = join(root, dir);
      const fd = openSync(abs, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        const listing = lister(fd);
        expect(listing.names).toEqual(readdirSync(abs, { encoding: 'latin1' }));
        expect(listing.times.length).toBe(listing.names.length * TIMES_PER_NAME);
        expect(listing.numbers.length).toBe(listing.names.length * NUMBERS_PER_NAME);
        listing.names.forEach((name, i) => {
          const st = lstatSync(Buffer.concat([Buffer.from(`${abs}/`), Buffer.from(name, 'latin1')]), { bigint: true });
          const t = listing.times.subarray(i * TIMES_PER_NAME, (i + 1) * TIMES_PER_NAME);
          const n = listing.numbers.subarray(i * NUMBERS_PER_NAME, (i + 1) * NUMBERS_PER_NAME);
          expect({ name, ino: t[0], dev: t[1], mtimeNs: t[2], ctimeNs: t[3] }).toEqual({ name, ino: st.ino, dev: st.dev, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
          // the last: the xattr list's size, not asked for here (scan-no-xattrs.test.ts asks)
          expect([...n]).toEqual([Number(st.mode), Number(st.nlink), Number(st.uid), Number(st.gid), Number(st.size), Number(st.blocks), 0, -1]);
          compared++;
        });
        // the caller's descriptor is left as it was: listing it again gives the same names
        expect(lister(fd).names).toEqual(listing.names);
      } finally {
        closeSync(fd);
      }
    }
    expect(compared).toBe(6 + 305 + 1 + 0);
  });

  it('is an error with the errno as its code for a descriptor that is not a directory, or not open', () => {
    const root = temp();
    const lister = nativeLister();
    if (lister === null) throw new Error('no native listing');
    writeFileSync(join(root, 'file'), 'x');
    const fd = openSync(join(root, 'file'), 'r');
    try {
      expect(() => lister(fd)).toThrow(ListingError);
      expect(() => lister(fd)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    } finally {
      closeSync(fd);
    }
    expect(() => lister(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('opens a directory by its name in the descriptor of its parent, one name and never through a symlink (how a walk descends)', () => {
    const root = temp();
    richTree(root);
    const odd = Buffer.from([0x64, 0xe9, 0xff]); // a directory name that is not UTF-8
    mkdirSync(Buffer.concat([Buffer.from(`${root}/a/`), odd]));
    const opener = nativeDirOpener();
    const lister = nativeLister();
    if (opener === null || lister === null) throw new Error('no native listing');
    const top = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    const opened: number[] = [];
    try {
      const a = opener.open(top, 'a');
      opened.push(a);
      expect(lister(a).names).toEqual(readdirSync(join(root, 'a'), { encoding: 'latin1' }));
      const b = opener.open(a, 'b');
      opened.push(b);
      expect(lister(b).names).toEqual(['deep.txt']);
      const oddFd = opener.open(a, odd.toString('latin1'));
      opened.push(oddFd);
      expect(lister(oddFd).names).toEqual([]);
      // what engine/dir-anchors.ts turns into "not a real directory" and "vanished"
      expect(() => opener.open(top, 'link-to-dir')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ELOOP|ENOTDIR)$/) }));
      expect(() => opener.open(top, 'top.txt')).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
      expect(() => opener.open(top, 'missing')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      // a path of two names is refused, not resolved (the walk opens one level at a time)
      expect(() => opener.open(top, 'a/b')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    } finally {
      for (const fd of opened) opener.close(fd);
      closeSync(top);
    }
    // closed by the addon: the descriptor is gone
    expect(() => lister(opened[0] as number)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => opener.close(opened[0] as number)).toThrow(expect.objectContaining({ code: 'EBADF', message: 'cannot close the directory (EBADF)' }));
  });

  it('says "no such entry" exactly where lstatSync with throwIfNoEntry: false gives nothing (the ignore-file probes)', () => {
    const root = temp();
    richTree(root);
    const noEntry = nativeNoEntry();
    if (noEntry === null) throw new Error('no native listing');
    const nodeSaysNone = (p: string): boolean => {
      try {
        return lstatSync(Buffer.from(p, 'latin1'), { throwIfNoEntry: false }) === undefined;
      } catch {
        return false; // ENOTDIR and the like: an error, not "none"
      }
    };
    const probes = ['top.txt', 'a', 'a/b/deep.txt', 'dangling', 'link-to-dir', 'link-to-dir/b', 'missing', 'a/missing', 'top.txt/x', 'missing/x'].map((p) => `${root}/${p}`);
    probes.push(`${root}/a/l\u00e9\u00ff.t`); // the file whose name is not UTF-8, as a binary string
    expect(probes.map((p) => [p, noEntry(p)])).toEqual(probes.map((p) => [p, nodeSaysNone(p)]));
    expect(probes.filter((p) => noEntry(p)).length).toBe(3);
  });

  it('renames a new file into place without ever replacing what stands there (renameat2 with RENAME_NOREPLACE)', () => {
    const root = temp();
    const rename = nativeRenameNoReplace();
    if (rename === null) throw new Error('no native listing');
    const at = (name: string): Buffer => Buffer.from(`${root}/${name}`);
    writeFileSync(join(root, 'tmp'), 'new');
    writeFileSync(join(root, 'taken'), 'someone else');
    symlinkSync('nowhere', join(root, 'dangling'));
    mkdirSync(join(root, 'dir'));
    // a file, a dangling symlink and a directory at the name: each stays as it was, and so does the temp file
    for (const name of ['taken', 'dangling', 'dir']) expect([name, rename(at('tmp'), at(name))]).toEqual([name, 'exists']);
    expect(readFileSync(join(root, 'taken'), 'utf8')).toBe('someone else');
    expect(readlinkSync(join(root, 'dangling'))).toBe('nowhere');
    expect(readdirSync(join(root, 'dir'))).toEqual([]);
    expect(readFileSync(join(root, 'tmp'), 'utf8')).toBe('new');
    // a free name, whose bytes are not UTF-8: renamed, one name left
    const odd = Buffer.concat([at(''), Buffer.from([0x6e, 0xe9, 0xff])]);
    expect(rename(at('tmp'), odd)).toBe('renamed');
    expect(readFileSync(odd, 'utf8')).toBe('new');
    expect(existsSync(join(root, 'tmp'))).toBe(false);
    // a source that is gone is an error with the errno's code, as Node's fs calls throw
    expect(() => rename(at('tmp'), at('other'))).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'rename' }));
  });

  it('is what places a new file, with or without the addon: a name taken meanwhile is never replaced (engine/copy-file.ts placeNew)', async () => {
    await withAndWithoutAddon((native) => {
      const root = temp();
      const at = (name: string): Buffer => Buffer.from(`${root}/${name}`);
      writeFileSync(join(root, 'tmp'), 'copy');
      writeFileSync(join(root, 'taken'), 'made after the scan');
      expect(() => placeNew(at('tmp'), at('taken'), 'taken')).toThrow(StaleTargetError);
      expect(readFileSync(join(root, 'taken'), 'utf8')).toBe('made after the scan');
      placeNew(at('tmp'), at('free'), 'free');
      expect([native, readdirSync(root).sort()]).toEqual([native, ['free', 'taken']]);
      expect(readFileSync(join(root, 'free'), 'utf8')).toBe('copy');
    });
  });

  it('swaps two names in one call, whatever stands at each (renameat2 with RENAME_EXCHANGE)', () => {
    const root = temp();
    const exchange = nativeRenameExchange();
    if (exchange === null) throw new Error('no native listing');
    const at = (name: string): Buffer => Buffer.from(`${root}/${name}`);
    writeFileSync(join(root, 'a'), 'a');
    writeFileSync(join(root, 'b'), 'b');
    mkdirSync(join(root, 'dir'));
    expect(exchange(at('a'), at('b'))).toBe('exchanged');
    expect([readFileSync(join(root, 'a'), 'utf8'), readFileSync(join(root, 'b'), 'utf8')]).toEqual(['b', 'a']);
    // a file and a directory swap too (which is why a copy never swaps with a directory expected: copy-file.ts)
    expect(exchange(at('a'), at('dir'))).toBe('exchanged');
    expect([lstatSync(join(root, 'a')).isDirectory(), readFileSync(join(root, 'dir'), 'utf8')]).toEqual([true, 'b']);
    // either name missing: nothing changes
    expect(exchange(at('b'), at('gone'))).toBe('missing');
    expect(exchange(at('gone'), at('b'))).toBe('missing');
    expect(readdirSync(root).sort()).toEqual(['a', 'b', 'dir']);
  });

  it('replaces a file by swapping: what is swapped out is removed only when it is the file the check passed (engine/copy-file.ts renameIntoPlace)', async () => {
    await withAndWithoutAddon((native) => {
      const root = temp();
      const at = (name: string): Buffer => Buffer.from(`${root}/${name}`);
      const guard = (keepReplaced: () => void) => {
        writeFileSync(join(root, 'target'), 'as scanned');
        const st = lstatSync(join(root, 'target'), { bigint: true });
        writeFileSync(join(root, 'tmp'), 'copy');
        return { targetAbs: at('target'), expect: { ...statIdOf(st), kind: 'file' as const }, label: 'target', beforeRename: () => undefined, keepReplaced };
      };
      // the file the check passed: replaced, as a rename over it does, and no name of it is left
      renameIntoPlace(
        guard(() => undefined),
        at('tmp'),
      );
      expect([native, readFileSync(join(root, 'target'), 'utf8'), readdirSync(root)]).toEqual([native, 'copy', ['target']]);
      if (!native) return; // rename(2) over the target: the instant stays open without the addon (docs/RELIABILITY.md)
      // someone's file renamed onto the target after the check, at the last instant (keepReplaced runs right
      // before the swap: the one moment a test cannot reach from outside): it stays, and the install is stale
      writeFileSync(join(root, 'saved'), 'saved by an editor meanwhile');
      const raced = guard(() => renameSync(join(root, 'saved'), join(root, 'target')));
      expect(() => renameIntoPlace(raced, at('tmp'))).toThrow(StaleTargetError);
      expect(readFileSync(join(root, 'target'), 'utf8')).toBe('saved by an editor meanwhile');
      // our copy is back at the temp name, where the caller drops it (discardTemp: it is ours)
      expect(readFileSync(join(root, 'tmp'), 'utf8')).toBe('copy');
      discardTemp(at('tmp'));
      expect(readdirSync(root)).toEqual(['target']);
    });
  });

  it('flushes the file system holding a path on a pool thread (syncfs), or answers the errno of the open that failed', async () => {
    const syncfs = nativeSyncfs();
    if (syncfs === null) throw new Error('the addon has no syncfs: npm install builds it');
    const root = temp();
    writeFileSync(join(root, 'f'), 'unflushed\n');
    // what it does to the disk cannot be seen from here (test/e2e/flush.test.ts checks that runs use it)
    await expect(syncfs(root)).resolves.toBe(0);
    await expect(syncfs(join(root, 'f'))).resolves.toBe(0);
    await expect(syncfs(join(root, 'missing'))).resolves.toBe(-osConstants.errno.ENOENT);
    await expect(syncfs(Buffer.from(root))).resolves.toBe(0);
    expect(() => syncfs(`${root}\0x`)).toThrow(TypeError);
  });

  it('fsyncs each descriptor of a list in one job on a pool thread, and answers 0 or the negative errno of each, in order', async () => {
    const fsyncFds = nativeFsyncFds();
    if (fsyncFds === null) throw new Error('the addon has no fsyncFds: npm install builds it');
    const root = temp();
    writeFileSync(join(root, 'f'), 'unflushed\n');
    const file = openSync(join(root, 'f'), constants.O_RDONLY);
    const dir = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    const closed = openSync(join(root, 'f'), constants.O_RDONLY);
    closeSync(closed);
    try {
      // what it does to the disk cannot be seen from here; a descriptor that is not open shows that each is asked
      await expect(fsyncFds(Int32Array.of(file, closed, dir))).resolves.toEqual([0, -osConstants.errno.EBADF, 0]);
      await expect(fsyncFds(new Int32Array(0))).resolves.toEqual([]);
    } finally {
      closeSync(file);
      closeSync(dir);
    }
    expect(() => fsyncFds([file] as unknown as Int32Array)).toThrow(new TypeError('fsyncFds(fds): an Int32Array of descriptors'));
  });

  it("refuses a call with too few arguments, or a descriptor that is not a number, with a TypeError that says the call's shape", () => {
    // the raw addon, as its calls are made: the wrappers above always pass every argument
    const raw = createRequire(import.meta.url)(addonPath()) as Record<string, (...args: unknown[]) => unknown>;
    const call =
      (name: string, ...args: unknown[]) =>
      () =>
        (raw[name] as (...args: unknown[]) => unknown)(...args);
    expect(call('syncfs')).toThrow(new TypeError('syncfs(path): a path'));
    expect(call('fsyncFds')).toThrow(new TypeError('fsyncFds(fds): an Int32Array of descriptors'));
    expect(call('copySmall', 'a', 'b', Buffer.alloc(8), new BigInt64Array(4))).toThrow(new TypeError('copySmall(source, temp, scratch, out, racyWindowNs): five arguments'));
    expect(call('renameNoReplace', 'a')).toThrow(new TypeError('renameNoReplace(from, to): two paths'));
    expect(call('renameExchange', 'a')).toThrow(new TypeError('renameExchange(a, b): two paths'));
    // the descriptor calls: too few arguments, or a descriptor that is not a number
    expect(call('listDir')).toThrow(new TypeError('listDir(fd[, probeXattrs]): fd must be a number'));
    expect(call('openDirAt', 3)).toThrow(new TypeError('openDirAt(fd, name): fd must be a number'));
    expect(call('closeFd', 'three')).toThrow(new TypeError('closeFd(fd): fd must be a number'));
  });

  it('is off with TSYNC_NATIVE=0, read at each walk', () => {
    const before = process.env.TSYNC_NATIVE;
    process.env.TSYNC_NATIVE = '0';
    try {
      expect(nativeLister()).toBeNull();
      expect(nativeDirOpener()).toBeNull();
      expect(nativeNoEntry()).toBeNull();
      expect(nativeRenameNoReplace()).toBeNull();
      expect(nativeRenameExchange()).toBeNull();
      expect(nativeSyncfs()).toBeNull();
      expect(nativeFsyncFds()).toBeNull();
      expect(listingKind()).toEqual({ native: false, why: 'off (TSYNC_NATIVE=0)' });
    } finally {
      if (before === undefined) delete process.env.TSYNC_NATIVE;
      else process.env.TSYNC_NATIVE = before;
    }
    expect(nativeLister()).not.toBeNull();
  });
});
