// Owner, group, extended attributes and POSIX ACLs are kept by default (issue 12): as root they are
// copied, a change of any of them alone is synced, each flag turns its part off, check and --dry-run see
// them; without the right to chown (uid 65534) owners are left with one warning and the copy goes on.
import { execFileSync } from 'node:child_process';
import { chownSync, lchownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { ownerOf, xattrDump } from '../helpers/metadata.js';
import { unprivileged } from '../helpers/unprivileged.js';

const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? '' : ' [skipped: needs root]';

function setfattr(path: string, name: string, value: string): void {
  execFileSync('setfattr', ['-n', name, '-v', value, path]);
}

function acl(path: string): string {
  return execFileSync('getfacl', ['--omit-header', '--absolute-names', path], { encoding: 'utf8' });
}

/** A source with an owned file carrying a user.note and an ACL, a directory with a default ACL, an owned symlink. */
function richSource(sb: Sandbox): void {
  writeFileSync(join(sb.src, 'owned.txt'), 'owned\n');
  chownSync(join(sb.src, 'owned.txt'), 1234, 5678);
  setfattr(join(sb.src, 'owned.txt'), 'user.note', 'kept');
  execFileSync('setfacl', ['-m', 'u:4321:r', join(sb.src, 'owned.txt')]);
  mkdirSync(join(sb.src, 'shared'));
  execFileSync('setfacl', ['-m', 'u:4321:rx', '-d', '-m', 'g:8765:rwx', join(sb.src, 'shared')]);
  writeFileSync(join(sb.src, 'shared', 'inner'), 'inner\n');
  chownSync(join(sb.src, 'shared'), 2222, 3333);
  symlinkSync('owned.txt', join(sb.src, 'link'));
  lchownSync(join(sb.src, 'link'), 1111, 2222);
}

describe('owners, xattrs and ACLs (as root)', () => {
  it.skipIf(!isRoot)(`keeps owner, group, user.* xattrs and ACLs by default; a second run is a no-op${rootOnly}`, () => {
    const sb = sandbox();
    richSource(sb);
    expect(sb.sync().code).toBe(0);
    for (const p of ['owned.txt', 'shared', 'shared/inner', 'link']) expect(ownerOf(join(sb.dst, p)), p).toBe(ownerOf(join(sb.src, p)));
    expect(ownerOf(join(sb.dst, 'owned.txt'))).toBe('1234:5678');
    expect(xattrDump(join(sb.dst, 'owned.txt'))).toContain('user.note=0x6b657074'); // "kept"
    for (const p of ['owned.txt', 'shared', 'shared/inner']) expect(acl(join(sb.dst, p)), p).toBe(acl(join(sb.src, p)));
    expect(acl(join(sb.dst, 'shared'))).toContain('default:group:8765:rwx');
    const again = sb.sync('-v');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 copied, 0 dirs created, 0 deleted, 0 metadata updates');
  });

  it.skipIf(!isRoot)(`syncs a change of owner alone and of an xattr alone; check and --dry-run see them${rootOnly}`, () => {
    const sb = sandbox();
    richSource(sb);
    expect(sb.sync().code).toBe(0);
    const check = (): ReturnType<typeof runCli> => runCli(['check', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(check().code).toBe(0);
    chownSync(join(sb.src, 'owned.txt'), 42, 5678);
    setfattr(join(sb.src, 'shared', 'inner'), 'user.added', 'later');
    const differs = check();
    expect(differs.code).toBe(1);
    expect(lines(differs.stdout)).toEqual(['owned.txt: metadata differs: owner 42 and 1234', 'shared/inner: metadata differs: extended attributes or ACLs', '2 differences']);
    const dry = sb.sync('--dry-run');
    expect(dry.code).toBe(0);
    expect(lines(dry.stdout)).toEqual(expect.arrayContaining(['~ owned.txt (metadata)', '~ shared/inner (metadata)']));
    expect(ownerOf(join(sb.dst, 'owned.txt'))).toBe('1234:5678'); // a dry run changes nothing
    const run = sb.sync();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('0 copied, 0 dirs created, 0 deleted, 2 metadata updates');
    expect(ownerOf(join(sb.dst, 'owned.txt'))).toBe('42:5678');
    expect(xattrDump(join(sb.dst, 'shared', 'inner'))).toContain('user.added=0x6c61746572'); // "later"
    expect(check().code).toBe(0);
    // an xattr removed at the source is removed from the replica
    execFileSync('setfattr', ['-x', 'user.note', join(sb.src, 'owned.txt')]);
    expect(sb.sync().code).toBe(0);
    expect(xattrDump(join(sb.dst, 'owned.txt'))).not.toContain('user.note');
    expect(check().code).toBe(0);
  });

  it('the last xattr removed at the source, from a file and from a directory, is removed from the replica (one-way and two-way)', () => {
    for (const twoWay of [false, true]) {
      const sb = sandbox();
      if (twoWay) mkdirSync(sb.dst);
      writeFileSync(join(sb.src, 'solo.txt'), 'solo\n');
      mkdirSync(join(sb.src, 'dir'));
      setfattr(join(sb.src, 'solo.txt'), 'user.solo', 'file');
      setfattr(join(sb.src, 'dir'), 'user.solo', 'dir');
      const sync = (): ReturnType<typeof runCli> => (twoWay ? runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]) : sb.sync());
      expect(sync().code).toBe(0);
      for (const p of ['solo.txt', 'dir']) expect(xattrDump(join(sb.dst, p)), p).toContain('user.solo');
      for (const p of ['solo.txt', 'dir']) execFileSync('setfattr', ['-x', 'user.solo', join(sb.src, p)]);
      const r = sync();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('2 metadata updates');
      for (const p of ['solo.txt', 'dir']) expect(xattrDump(join(sb.dst, p)), p).not.toContain('user.solo');
      expect(sync().stdout).toContain('0 copied, 0 dirs created, 0 deleted, 0 metadata updates');
    }
  });

  it.skipIf(!isRoot)(`a metadata pass sets the mode wherever it ends up other than wanted: after a chown that clears setuid, after an ACL, and after a mode change alone${rootOnly}`, () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    chownSync(join(sb.src, 'tool'), 1234, 5678);
    execFileSync('chmod', ['4755', join(sb.src, 'tool')]); // after the chown, which clears it
    writeFileSync(join(sb.src, 'acl.txt'), 'acl\n', { mode: 0o640 });
    mkdirSync(join(sb.src, 'd'), { mode: 0o755 });
    expect(sb.sync().code).toBe(0);
    const modeOf = (p: string): string => execFileSync('stat', ['-c', '%a %u:%g', p], { encoding: 'utf8' }).trim();
    expect(modeOf(join(sb.dst, 'tool'))).toBe('4755 1234:5678');
    // the owner alone changes at the source: the replica's chown clears its setuid bit, which must be set again
    chownSync(join(sb.src, 'tool'), 42, 5678);
    execFileSync('chmod', ['4755', join(sb.src, 'tool')]);
    // an ACL alone: its mask is the mode's group bits on both sides
    execFileSync('setfacl', ['-m', 'u:4321:rwx', join(sb.src, 'acl.txt')]);
    // a mode alone, on a directory
    execFileSync('chmod', ['711', join(sb.src, 'd')]);
    expect(sb.sync().code).toBe(0);
    for (const p of ['tool', 'acl.txt', 'd']) expect(modeOf(join(sb.dst, p)), p).toBe(modeOf(join(sb.src, p)));
    expect(modeOf(join(sb.dst, 'tool'))).toBe('4755 42:5678');
    expect(acl(join(sb.dst, 'acl.txt'))).toBe(acl(join(sb.src, 'acl.txt')));
    expect(sb.sync('-v').stdout).toContain('0 copied, 0 dirs created, 0 deleted, 0 metadata updates');
  });

  it.skipIf(!isRoot)(`two-way: an owner change or an xattr change on either side alone goes to the other side${rootOnly}`, () => {
    const sb = sandbox();
    richSource(sb);
    mkdirSync(sb.dst);
    const twoWay = (): ReturnType<typeof runCli> => runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(twoWay().code).toBe(0);
    expect(ownerOf(join(sb.dst, 'owned.txt'))).toBe('1234:5678');
    chownSync(join(sb.dst, 'owned.txt'), 99, 98);
    setfattr(join(sb.dst, 'shared'), 'user.from-right', 'r');
    const r = twoWay();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 metadata updates');
    expect(ownerOf(join(sb.src, 'owned.txt'))).toBe('99:98');
    expect(xattrDump(join(sb.src, 'shared'))).toContain('user.from-right');
    expect(xattrDump(join(sb.src, 'owned.txt'))).toContain('user.note'); // untouched attributes stay
    expect(twoWay().stdout).toContain('0 metadata updates');
  });

  // Both orientations: the meta actions run left first, so only one of them has the engine read a side's
  // xattrs after the other side's action rewrote them.
  for (const chmodOn of ['left', 'right'] as const) {
    it.skipIf(!isRoot)(`two-way, field by field: a chmod and a chown on the ${chmodOn}, an xattr on the other side: each reaches the other side${rootOnly}`, () => {
      const sb = sandbox();
      richSource(sb);
      // no ACL here: a chmod rewrites an ACL's mask, which would make it an xattr change on both sides
      writeFileSync(join(sb.src, 'solo'), 'solo\n');
      mkdirSync(sb.dst);
      const twoWay = (): ReturnType<typeof runCli> => runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]);
      expect(twoWay().code).toBe(0);
      const [meta, attr] = chmodOn === 'left' ? [join(sb.src, 'solo'), join(sb.dst, 'solo')] : [join(sb.dst, 'solo'), join(sb.src, 'solo')];
      execFileSync('chmod', ['640', meta]);
      chownSync(meta, 4321, 8765);
      setfattr(attr, 'user.from-other', 'o');
      const r = twoWay();
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('2 metadata updates'); // one per side: neither side had both changes
      for (const p of [meta, attr]) {
        expect(execFileSync('stat', ['-c', '%a %u:%g', p], { encoding: 'utf8' }).trim(), p).toBe('640 4321:8765');
        expect(xattrDump(p), p).toContain('user.from-other');
      }
      expect(twoWay().stdout).toContain('0 metadata updates');
    });
  }

  it.skipIf(!isRoot)(`--no-owner, --no-group and --no-xattrs each turn their part off${rootOnly}`, () => {
    const sb = sandbox();
    richSource(sb);
    expect(sb.sync('--no-owner').code).toBe(0);
    expect(ownerOf(join(sb.dst, 'owned.txt'))).toBe('0:5678');
    expect(xattrDump(join(sb.dst, 'owned.txt'))).toContain('user.note');
    // with --no-owner an owner change is no change at all
    chownSync(join(sb.src, 'owned.txt'), 77, 5678);
    expect(sb.sync('--no-owner').stdout).toContain('0 metadata updates');
    expect(runCli(['check', '--no-owner', '--one-way', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);

    const g = sandbox();
    richSource(g);
    expect(g.sync('--no-group').code).toBe(0);
    expect(ownerOf(join(g.dst, 'owned.txt'))).toBe('1234:0');

    const x = sandbox();
    richSource(x);
    expect(x.sync('--no-xattrs').code).toBe(0);
    expect(ownerOf(join(x.dst, 'owned.txt'))).toBe('1234:5678');
    expect(xattrDump(join(x.dst, 'owned.txt'))).toBe('');
    setfattr(join(x.src, 'owned.txt'), 'user.more', '1');
    expect(x.sync('--no-xattrs').stdout).toContain('0 metadata updates');
    // turned back on, the xattrs are a difference to sync
    expect(x.sync().stdout).toContain('metadata updates');
    expect(xattrDump(join(x.dst, 'owned.txt'))).toContain('user.more');
  });
});

const { runAs, skipReason, suffix } = unprivileged();

describe('owners without the right to chown', () => {
  it.skipIf(skipReason !== null || runAs === undefined)(`as uid 65534: contents copied, owners left, one warning line, exit 0${suffix}`, () => {
    const sb = sandbox();
    for (const name of ['a', 'b', 'c']) {
      writeFileSync(join(sb.src, name), `${name}\n`, { mode: 0o644 });
      chownSync(join(sb.src, name), 1234, 5678);
    }
    // the run writes where nobody may: the roots' parent and the state belong to uid 65534
    chownSync(sb.dir, 65534, 65534);
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs });
    expect(r.code).toBe(0);
    const warnings = lines(r.stderr).filter((l) => l.startsWith('tsync: warning:'));
    expect(warnings).toEqual(['tsync: warning: owner and group are not kept: only root (or a process with CAP_CHOWN) may set them; --no-owner --no-group turn this off']);
    for (const name of ['a', 'b', 'c']) {
      expect(readFileSync(join(sb.dst, name), 'utf8')).toBe(`${name}\n`);
      expect(ownerOf(join(sb.dst, name))).toBe('65534:65534');
    }
    // nothing planned: no warning, and the owners do not make every run re-plan
    const again = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 copied, 0 dirs created, 0 deleted, 0 metadata updates');
    expect(again.stderr).toBe('');
  });
});
