// What a backup must give back besides the bytes, read with the system's own tools (stat, getfattr,
// getfacl): owner, group, mode, mtime, extended attributes and ACLs of every entry below a root.
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { put } from './tree.js';

export interface EntryMetadata {
  readonly owner: string;
  readonly mode: string;
  /** Whole microseconds: what every tool here can set. */
  readonly mtimeUs: string;
  /** `getfattr -d -m -` (every attribute the process can read, ACLs included), hex-encoded values. */
  readonly xattrs: string;
  /** `getfacl` text (none for symlinks). */
  readonly acl: string;
}

export function metadataOf(root: string): Map<string, EntryMetadata> {
  const out = new Map<string, EntryMetadata>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = join(root, r);
      const st = lstatSync(abs, { bigint: true });
      out.set(r, {
        owner: `${st.uid}:${st.gid}`,
        mode: (Number(st.mode) & 0o7777).toString(8),
        mtimeUs: (st.mtimeNs / 1000n).toString(),
        xattrs: xattrDump(abs),
        acl: st.isSymbolicLink() ? '' : execFileSync('getfacl', ['--omit-header', '--absolute-names', abs], { encoding: 'utf8' }),
      });
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

export function xattrDump(abs: string): string {
  const text = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', abs], { encoding: 'utf8' });
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('# file:'))
    .join('\n');
}

/** `uid:gid` of one entry (not following a symlink). */
export function ownerOf(abs: string): string {
  const st = lstatSync(abs);
  return `${st.uid}:${st.gid}`;
}

/** Twelve files in three dirs, with a user xattr on one file (d0/f3) and on one directory (d1). */
export function xattrTaggedTree(root: string): void {
  for (let i = 0; i < 12; i++) put(root, `d${i % 3}/f${i}`, `content ${i}\n`);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'on a file', `${root}/d0/f3`]);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'on a dir', `${root}/d1`]);
}

/** A run's settings that keep owner, group and xattrs; and no filter rules. */
export const KEEP_ALL = { owner: true, group: true, xattrs: true } as const;
export const NO_RULES = { exclude: [], include: [] };
