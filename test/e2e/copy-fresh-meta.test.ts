// The small-file copy learns from the first temp file of each target directory what a fresh file there
// gets (owner, group, inherited xattrs) and skips the calls that would change nothing on the later ones
// (engine/apply-meta.ts applyToTempFile). What a fresh file inherits must still be undone on every file,
// not only on the first one of a directory: here a target directory with a default ACL (which gives every
// new file an access ACL) and one made setgid to another group (which gives every new file that group).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox } from '../helpers/cli.js';
import { ownerOf, xattrDump } from '../helpers/metadata.js';

const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? '' : ' [skipped: needs root]';
const FILES = ['a', 'b', 'c', 'd', 'e'];

function acl(path: string): string {
  return execFileSync('getfacl', ['--omit-header', '--absolute-names', path], { encoding: 'utf8' });
}

describe('small copies into target directories that give new files something', () => {
  it.skipIf(!isRoot)(`a default ACL on the target directory: no copied file keeps the ACL it inherited${rootOnly}`, () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'd'));
    for (const f of FILES) writeFileSync(join(sb.src, 'd', f), `${f}\n`);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'kept', join(sb.src, 'd', 'c')]);
    mkdirSync(join(sb.dst, 'd'), { recursive: true });
    execFileSync('setfacl', ['-d', '-m', 'u:4321:rwx', join(sb.dst, 'd')]);
    expect(sb.sync().code).toBe(0);
    for (const f of FILES) {
      const p = join('d', f);
      expect(acl(join(sb.dst, p)), p).toBe(acl(join(sb.src, p)));
      expect(xattrDump(join(sb.dst, p)), p).toBe(xattrDump(join(sb.src, p)));
    }
    expect(xattrDump(join(sb.dst, 'd', 'c'))).toContain('user.note=0x6b657074'); // "kept"
    expect(acl(join(sb.dst, 'd'))).toBe(acl(join(sb.src, 'd')));
  });

  it.skipIf(!isRoot)(`a setgid target directory of another group: every copied file gets its source's owner and group${rootOnly}`, () => {
    const sb = sandbox();
    mkdirSync(join(sb.src, 'd'));
    for (const f of FILES) writeFileSync(join(sb.src, 'd', f), `${f}\n`);
    chownSync(join(sb.src, 'd', 'b'), 1234, 5678);
    chownSync(join(sb.src, 'd', 'd'), 0, 4444);
    mkdirSync(join(sb.dst, 'd'), { recursive: true });
    chownSync(join(sb.dst, 'd'), 0, 4444);
    chmodSync(join(sb.dst, 'd'), 0o2755);
    expect(sb.sync().code).toBe(0);
    for (const f of FILES) expect(ownerOf(join(sb.dst, 'd', f)), f).toBe(ownerOf(join(sb.src, 'd', f)));
    expect(ownerOf(join(sb.dst, 'd', 'a'))).toBe('0:0');
  });
});
