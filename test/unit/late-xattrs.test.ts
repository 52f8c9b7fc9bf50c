// LateXattrs (the main thread's xattr digests for a worker's scan) on real trees with real xattrs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AbsPath, RelPath, StatId } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { LateXattrs } from '../../src/scan/late-xattrs.js';
import type { VouchXattrs } from '../../src/scan/read-meta.js';
import { walkTree, type ScanResult } from '../../src/scan/scan.js';
import { sandbox } from '../helpers/cli.js';
import { pathBytes } from '../helpers/tree.js';

const KEEP_ALL = { owner: true, group: true, xattrs: true };
const none: VouchXattrs = () => undefined;

function scanOf(root: string): ScanResult {
  return walkTree({ root: absFromText(root) as AbsPath, side: 'right', vouch: null, keep: KEEP_ALL });
}

function statAt(scan: ScanResult, path: string): StatId {
  const s = scan.entries.get(path as RelPath);
  if (s === undefined) throw new Error(`${path} not scanned`);
  return s.stat;
}

function lateOf(root: string, vouch: VouchXattrs): LateXattrs {
  const late = new LateXattrs(absFromText(root) as AbsPath, vouch);
  onTestFinished(() => late.close());
  return late;
}

describe('LateXattrs', () => {
  it('reads the digest the scan itself would read, for files and directories the index cannot vouch for', () => {
    const { src } = sandbox();
    mkdirSync(`${src}/dir`);
    writeFileSync(`${src}/dir/tagged`, 't');
    writeFileSync(`${src}/plain`, 'p');
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', `${src}/dir/tagged`]);
    execFileSync('setfattr', ['-n', 'user.dirnote', '-v', 'd', `${src}/dir`]);
    const scan = scanOf(src);
    const late = lateOf(src, none);
    for (const path of ['dir', 'dir/tagged', 'plain']) {
      const e = scan.entries.get(path as RelPath)?.entry;
      expect(e?.kind === 'symlink' ? 'a link' : e?.xattrs, path).toBe(late.digestOf(path as RelPath, statAt(scan, path)));
    }
    expect(late.digestOf('dir/tagged' as RelPath, statAt(scan, 'dir/tagged'))).toMatch(/^[0-9a-f]{16}$/);
  });

  it('takes the digest the index vouches for without reading the entry', () => {
    const { src } = sandbox();
    writeFileSync(`${src}/tagged`, 't');
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', `${src}/tagged`]);
    const scan = scanOf(src);
    const late = lateOf(src, (path) => (path === 'tagged' ? 'from the index' : undefined));
    expect(late.digestOf('tagged' as RelPath, statAt(scan, 'tagged'))).toBe('from the index');
  });

  it('an entry changed since the stat it is asked with has no digest (the read is not of that stat)', () => {
    const { src } = sandbox();
    writeFileSync(`${src}/tagged`, 't');
    writeFileSync(`${src}/replaced`, 'r');
    const scan = scanOf(src);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'later', `${src}/tagged`]); // moves ctime
    writeFileSync(`${src}/other`, 'o');
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'other', `${src}/other`]);
    renameSync(`${src}/other`, `${src}/replaced`); // another inode at the name
    const late = lateOf(src, none);
    expect(late.digestOf('tagged' as RelPath, statAt(scan, 'tagged'))).toBeUndefined();
    expect(late.digestOf('replaced' as RelPath, statAt(scan, 'replaced'))).toBeUndefined();
  });

  it('never follows a directory swapped for a symlink, and leaves names that are not UTF-8 unknown', () => {
    const { dir, src } = sandbox();
    mkdirSync(`${src}/d`);
    writeFileSync(`${src}/d/f`, 'inside');
    writeFileSync(pathBytes(src, Buffer.from([0x62, 0xff])), 'bad name');
    const scan = scanOf(src);
    // the same file (inode and ctime) reached through a symlink put where its directory was
    renameSync(`${src}/d`, `${dir}/outside`);
    symlinkSync(`${dir}/outside`, `${src}/d`);
    const late = lateOf(src, none);
    expect(late.digestOf('d/f' as RelPath, statAt(scan, 'd/f'))).toBeUndefined();
    const bad = Buffer.from([0x62, 0xff]).toString('latin1');
    expect(late.digestOf(bad as RelPath, statAt(scan, bad))).toBeUndefined();
  });
});
