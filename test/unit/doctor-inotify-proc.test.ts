// Reading the inotify limits and what our processes hold from /proc: once from a /proc-shaped tree made in a
// temp dir (the fd links are plain symlinks with the kernel's target text), once from the real /proc while this
// process holds a watch.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readInotifyLimits, readInotifyUse } from '../../src/doctor/inotify.js';

function fakeProc(): string {
  const root = mkdtempSync(join(tmpdir(), 'tsync-fake-proc-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'sys', 'fs', 'inotify'), { recursive: true });
  writeFileSync(join(root, 'sys', 'fs', 'inotify', 'max_user_watches'), '8192\n');
  writeFileSync(join(root, 'sys', 'fs', 'inotify', 'max_user_instances'), '128\n');
  mkdirSync(join(root, '42', 'fd'), { recursive: true });
  mkdirSync(join(root, '42', 'fdinfo'));
  symlinkSync('anon_inode:inotify', join(root, '42', 'fd', '3'));
  writeFileSync(join(root, '42', 'fdinfo', '3'), 'pos:\t0\nflags:\t00\ninotify wd:1 ino:2 sdev:3 mask:fc6\ninotify wd:2 ino:5 sdev:3 mask:fc6\n');
  symlinkSync('/dev/null', join(root, '42', 'fd', '4'));
  symlinkSync('anon_inode:[eventpoll]', join(root, '42', 'fd', '5'));
  mkdirSync(join(root, 'self'));
  return root;
}

describe('readInotifyLimits', () => {
  it('reads both limits', () => {
    expect(readInotifyLimits(fakeProc())).toEqual({ maxUserWatches: 8192, maxUserInstances: 128 });
  });
  it('is null where there is no inotify', () => {
    expect(readInotifyLimits(join(tmpdir(), 'no-such-proc'))).toBeNull();
  });
});

describe('readInotifyUse', () => {
  it("counts our processes' instances and their watches, nothing else", () => {
    expect(readInotifyUse(fakeProc(), process.getuid?.())).toEqual({ watches: 2, instances: 1 });
  });
  it("skips other users' processes", () => {
    expect(readInotifyUse(fakeProc(), (process.getuid?.() ?? 0) + 1)).toEqual({ watches: 0, instances: 0 });
  });
  it.skipIf(process.platform !== 'linux')('sees a watch this process holds in the real /proc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsync-watched-'));
    const w = watch(dir);
    onTestFinished(() => {
      w.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const use = readInotifyUse();
    expect(use.instances).toBeGreaterThanOrEqual(1);
    expect(use.watches).toBeGreaterThanOrEqual(1);
  });
});
