// The addon's calls that take paths (lstatErrno, renameNoReplace, copySmall) hand a `/proc/self/fd/N/name` path to
// the kernel as openat(N, "name") and its kin (native/list_dir.c tsync_at), to spare the kernel the walk through
// /proc at each call. What the kernel would have answered for the path must not change: these check the same
// entries are reached, the same refusals met, and the paths tsync_at leaves to the kernel (a descriptor number
// with a leading zero, nothing after it, another prefix) answered as before.
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addonPath, COPY_OUT, type CopySmall, CopySmallStage } from '../../src/fs/native-listing.js';

interface Addon {
  readonly lstatErrno: (path: string) => number;
  readonly renameNoReplace: (from: Uint8Array, to: Uint8Array) => number;
  readonly copySmall: CopySmall;
  readonly closeFd: (fd: number) => number;
}

const addon = createRequire(import.meta.url)(addonPath()) as Addon;
const { ENOENT: NO_ENTRY, EEXIST: EXISTS, ELOOP: A_SYMLINK } = osConstants.errno;
const ENOENT = -NO_ENTRY;
const EEXIST = -EXISTS;

const made: string[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-native-at-'));
  made.push(d);
  return d;
}

/** `dir` held open, as dir-anchors.ts holds a directory, and its /proc path. */
function anchored(dir: string): { fd: number; proc: string } {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  fds.push(fd);
  return { fd, proc: `/proc/self/fd/${fd}` };
}

describe('lstatErrno through a directory descriptor path', () => {
  it('reaches the entry by its name, nested names, and after slashes doubled', () => {
    const root = temp();
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'f'), 'x');
    writeFileSync(join(root, 'sub', 'g'), 'y');
    const { proc } = anchored(root);
    expect(addon.lstatErrno(`${proc}/f`)).toBe(0);
    expect(addon.lstatErrno(`${proc}/sub/g`)).toBe(0);
    // a doubled slash is one separator, as the kernel reads the whole path: never "/f" from the file system's root
    expect(addon.lstatErrno(`${proc}//f`)).toBe(0);
    expect(addon.lstatErrno(`${proc}/missing`)).toBe(ENOENT);
  });

  it('follows the directory the descriptor holds, not the path it was opened by', () => {
    const root = temp();
    mkdirSync(join(root, 'before'));
    writeFileSync(join(root, 'before', 'f'), 'x');
    const { proc } = anchored(join(root, 'before'));
    renameSync(join(root, 'before'), join(root, 'after'));
    mkdirSync(join(root, 'before'));
    expect(addon.lstatErrno(`${proc}/f`)).toBe(0);
    expect(addon.lstatErrno(join(root, 'before', 'f'))).toBe(ENOENT);
  });

  it('leaves to the kernel what procfs itself refuses or reads otherwise', () => {
    const root = temp();
    writeFileSync(join(root, 'f'), 'x');
    const { fd, proc } = anchored(root);
    // procfs has no entry "0N" for descriptor N
    expect(addon.lstatErrno(`/proc/self/fd/0${fd}/f`)).toBe(ENOENT);
    // the descriptor's own entry, with nothing after it: the directory itself
    expect(addon.lstatErrno(`${proc}/`)).toBe(0);
    // a number no descriptor can have
    expect(addon.lstatErrno('/proc/self/fd/99999999999/f')).toBe(ENOENT);
    // an ordinary absolute path, and one of /proc's other entries
    expect(addon.lstatErrno(join(root, 'f'))).toBe(0);
    expect(addon.lstatErrno('/proc/self/fdinfo')).toBe(0);
  });
});

describe('renameNoReplace through directory descriptor paths', () => {
  it('moves between two held directories, and refuses to replace', () => {
    const root = temp();
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'a', 'f'), 'from a');
    writeFileSync(join(root, 'b', 'taken'), 'kept');
    const a = anchored(join(root, 'a'));
    const b = anchored(join(root, 'b'));
    expect(addon.renameNoReplace(Buffer.from(`${a.proc}/f`), Buffer.from(`${b.proc}//moved`))).toBe(0);
    expect(readFileSync(join(root, 'b', 'moved'), 'utf8')).toBe('from a');
    expect(existsSync(join(root, 'a', 'f'))).toBe(false);
    expect(addon.renameNoReplace(Buffer.from(`${b.proc}/moved`), Buffer.from(`${b.proc}/taken`))).toBe(EEXIST);
    expect(readFileSync(join(root, 'b', 'taken'), 'utf8')).toBe('kept');
    expect(addon.renameNoReplace(Buffer.from(`${a.proc}/gone`), Buffer.from(`${b.proc}/other`))).toBe(ENOENT);
  });
});

describe('copySmall through directory descriptor paths', () => {
  const scratch = Buffer.allocUnsafe((1 << 16) + 1);

  it('reads the source and makes the temp file in the directories the descriptors hold', () => {
    const root = temp();
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dst'));
    writeFileSync(join(root, 'src', 'f'), 'the bytes');
    const src = anchored(join(root, 'src'));
    const dst = anchored(join(root, 'dst'));
    const out = new BigInt64Array(COPY_OUT.length);
    const fd = addon.copySmall(Buffer.from(`${src.proc}/f`), Buffer.from(`${dst.proc}/.tsync-tmp-x`), scratch, out, 0);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(addon.closeFd(fd)).toBe(0);
    expect(readFileSync(join(root, 'dst', '.tsync-tmp-x'), 'utf8')).toBe('the bytes');
    expect(Number(out[COPY_OUT.bytes])).toBe(9);
  });

  it('refuses a symlink source and a temp name already taken, and leaves nothing behind', () => {
    const root = temp();
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dst'));
    writeFileSync(join(root, 'src', 'f'), 'the bytes');
    symlinkSync('f', join(root, 'src', 'link'));
    writeFileSync(join(root, 'dst', 'taken'), 'kept');
    const src = anchored(join(root, 'src'));
    const dst = anchored(join(root, 'dst'));
    const out = new BigInt64Array(COPY_OUT.length);
    expect(addon.copySmall(Buffer.from(`${src.proc}/link`), Buffer.from(`${dst.proc}/t1`), scratch, out, 0)).toBe(-A_SYMLINK);
    expect(Number(out[COPY_OUT.stage])).toBe(CopySmallStage.openSource);
    expect(addon.copySmall(Buffer.from(`${src.proc}/f`), Buffer.from(`${dst.proc}/taken`), scratch, out, 0)).toBe(EEXIST);
    expect(Number(out[COPY_OUT.stage])).toBe(CopySmallStage.createTemp);
    expect(readFileSync(join(root, 'dst', 'taken'), 'utf8')).toBe('kept');
    expect(existsSync(join(root, 'dst', 't1'))).toBe(false);
  });
});
