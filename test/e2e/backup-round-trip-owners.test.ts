// A backup people can restore from (issue 12): tree -> `tsync sync --one-way tree backup` ->
// `tsync sync --one-way backup restored`, and the restored tree has the owners, groups, modes, xattrs,
// ACLs and mtimes of the original: everything `cp -a` and `rsync -aHAXS` keep of the same tree, compared
// in the same test. (Sparse files and hard links are another part of the issue, tested elsewhere.)
import { execFileSync } from 'node:child_process';
import { chownSync, lchownSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';
import { type EntryMetadata, metadataOf } from '../helpers/metadata.js';

const isRoot = process.getuid?.() === 0;
const hasRsync = ((): boolean => {
  try {
    execFileSync('rsync', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function buildTree(root: string): void {
  mkdirSync(join(root, 'etc', 'app'), { recursive: true });
  mkdirSync(join(root, 'home', 'ann'), { recursive: true });
  writeFileSync(join(root, 'etc', 'app', 'conf'), 'key=value\n', { mode: 0o640 });
  chownSync(join(root, 'etc', 'app', 'conf'), 0, 4000);
  execFileSync('setfattr', ['-n', 'user.origin', '-v', 'installer', join(root, 'etc', 'app', 'conf')]);
  execFileSync('setfacl', ['-m', 'u:1234:r', join(root, 'etc', 'app', 'conf')]);
  writeFileSync(join(root, 'home', 'ann', 'notes'), 'ann\n', { mode: 0o600 });
  chownSync(join(root, 'home', 'ann', 'notes'), 1234, 5678);
  writeFileSync(join(root, 'home', 'ann', 'tool'), '#!/bin/sh\n', { mode: 0o4755 });
  chownSync(join(root, 'home', 'ann', 'tool'), 1234, 5678);
  execFileSync('chmod', ['4755', join(root, 'home', 'ann', 'tool')]); // the chown cleared setuid
  execFileSync('setfattr', ['-n', 'security.capability', '-v', '0x0100000200000000000000000000000000000000', join(root, 'home', 'ann', 'tool')]);
  execFileSync('setfacl', ['-d', '-m', 'u:1234:rwx', join(root, 'home', 'ann')]);
  chownSync(join(root, 'home', 'ann'), 1234, 5678);
  execFileSync('chmod', ['1777', join(root, 'home')]);
  symlinkSync('ann/notes', join(root, 'home', 'notes-link'));
  lchownSync(join(root, 'home', 'notes-link'), 1234, 5678);
  const t = new Date('2021-03-04T05:06:07.123Z');
  for (const p of ['etc/app/conf', 'home/ann/notes', 'home/ann/tool', 'etc/app', 'home/ann', 'etc', 'home']) utimesSync(join(root, p), t, t);
}

describe('backup round trip', () => {
  it.skipIf(!isRoot || !hasRsync)(`tree -> backup -> restored keeps what cp -a and rsync -aHAXS keep${isRoot && hasRsync ? '' : ' [skipped: needs root and rsync]'}`, () => {
    const sb = sandbox();
    const tree = join(sb.dir, 'tree');
    const backup = join(sb.dir, 'backup');
    const restored = join(sb.dir, 'restored');
    mkdirSync(tree);
    buildTree(tree);
    const tsync = (from: string, to: string): void => {
      const r = runCli(['sync', '--one-way', '--state-dir', join(sb.dir, 'state'), from, to]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    };
    tsync(tree, backup);
    tsync(backup, restored);
    execFileSync('cp', ['-a', tree, join(sb.dir, 'cp-a')]);
    execFileSync('rsync', ['-aHAXS', `${tree}/`, `${join(sb.dir, 'rsync')}/`]);

    const original = metadataOf(tree);
    expect(original.get('home/ann/notes')?.owner).toBe('1234:5678');
    expect(original.get('home/ann/tool')?.xattrs).toContain('security.capability');
    expect(original.get('etc/app/conf')?.acl).toContain('user:1234:r--');
    for (const copy of ['cp-a', 'backup', 'restored']) {
      expect(metadataOf(join(sb.dir, copy)), copy).toEqual(original);
    }
    // rsync is the peer here, not the subject: once (CI, under load) its copy of the symlink kept the link's
    // creation time instead of its mtime, so its symlinks' mtimes are left out of its comparison.
    const linkMtimeAside = (m: Map<string, EntryMetadata>): Map<string, EntryMetadata> => new Map([...m].map(([p, e]) => [p, p === 'home/notes-link' ? { ...e, mtimeUs: '' } : e]));
    expect(linkMtimeAside(metadataOf(join(sb.dir, 'rsync'))), 'rsync').toEqual(linkMtimeAside(original));
  });
});
