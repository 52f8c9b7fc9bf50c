import { closeSync, constants, fchmodSync, fstatSync, futimesSync, lstatSync, lutimesSync, mkdirSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import type { Entry, Expectation, OwnerMeta, ScannedEntry, SymlinkEntry, XattrMeta } from '../core/types.js';
import { errCode, nowNs, statIdOf } from '../fs/stat.js';
import { secondsOf } from './copy-file.js';
import { assertExpected, StaleTargetError } from './guards.js';
import type { CurrentOwner } from './apply-meta.js';

/** Removes a file, symlink, special file or (empty by then) directory, if it is still what the scan saw. */
export function deleteEntry(abs: Buffer, expect: Expectation, label: string): void {
  if (expect === null) return;
  assertExpected(abs, expect, label);
  if (expect.kind === 'dir') rmdirSync(abs);
  else unlinkSync(abs); // unlink never follows a symlink
}

/**
 * Creates a directory owner-writable (0700): its real mode arrives with the final metadata pass, after
 * its children, so that a read-only directory can still be filled.
 */
export function makeDir(abs: Buffer, source: ScannedEntry, label: string): ScannedEntry {
  assertExpected(abs, null, label);
  mkdirSync(abs, { mode: 0o700 });
  const st = lstatSync(abs, { bigint: true });
  const entry: Entry = { ...source.entry };
  return { entry, stat: statIdOf(st), observedAtNs: nowNs() };
}

/** Sets owner, group and xattrs on an open entry whose fstat gave `current` (engine/apply-meta.ts); returns what it set. */
export type ApplyOwnerMeta = (fd: number, current: CurrentOwner) => OwnerMeta & XattrMeta;

/**
 * Sets owner, group, xattrs, mtime and mode in place, in that order (a chown clears setuid bits that the
 * chmod then sets; a chmod moves no mtime, so it may come after it). Opens with O_NOFOLLOW and checks the inode, so a target swapped
 * for a symlink is never followed; fchown/fchmod/futimes then act on exactly the checked inode.
 */
export function setMeta(abs: Buffer, source: ScannedEntry, expect: Expectation, label: string, apply?: ApplyOwnerMeta): ScannedEntry {
  const e = source.entry;
  if (e.kind === 'symlink') return setLinkMeta(abs, e, expect, label);
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (e.kind === 'dir' ? constants.O_DIRECTORY : 0);
  let fd: number;
  try {
    fd = openSync(abs, flags);
  } catch (err) {
    // O_NOFOLLOW on a symlink: ELOOP, or ENOTDIR when O_DIRECTORY is set too
    if (errCode(err) === 'ELOOP' || (e.kind === 'dir' && errCode(err) === 'ENOTDIR')) throw new StaleTargetError(`${label} became a symlink since the scan`);
    throw err;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (expect !== null && st.ino !== expect.ino) throw new StaleTargetError(`${label} was replaced since the scan`);
    if (e.kind === 'file') {
      assertExpected(abs, expect, label);
      if (!st.isFile()) throw new StaleTargetError(`${label} changed kind since the scan`);
    } else if (!st.isDirectory()) {
      throw new StaleTargetError(`${label} changed kind since the scan`);
    }
    const meta = apply?.(fd, { uid: Number(st.uid), gid: Number(st.gid) }) ?? {};
    futimesSync(fd, secondsOf(st.atimeNs), secondsOf(e.mtimeNs));
    let after = fstatSync(fd, { bigint: true });
    // The mode last, and only where the entry does not have it by now (a pass over a directory whose mtime moved made
    // a chmod per directory that changed nothing). Read after the chown, which may have cleared setuid and setgid
    // bits, and after the attributes, where a POSIX ACL sets the group bits. A chmod sets no mtime, only the ctime.
    if ((Number(after.mode) & 0o7777) !== e.mode) {
      fchmodSync(fd, e.mode);
      after = fstatSync(fd, { bigint: true });
    }
    return { entry: { ...withoutOwnerMeta(e), ...meta }, stat: statIdOf(after), observedAtNs: nowNs() };
  } finally {
    closeSync(fd);
  }
}

/**
 * A symlink's owner and group (lchown, when kept) and its mtime (lutimes): both act on the link itself,
 * never on what it points to. A link cannot be opened, so the inode is checked by lstat before and after:
 * a swap in between can at worst give another entry of the same directory this metadata, and is then
 * reported stale.
 */
export function setLinkMeta(abs: Buffer, e: SymlinkEntry, expect: Expectation, label: string, applyOwner?: (abs: Buffer) => OwnerMeta): ScannedEntry {
  assertExpected(abs, expect, label);
  const before = lstatSync(abs, { bigint: true });
  const meta = applyOwner?.(abs) ?? {};
  lutimesSync(abs, secondsOf(before.atimeNs), secondsOf(e.mtimeNs));
  const after = lstatSync(abs, { bigint: true });
  if (!after.isSymbolicLink() || after.ino !== before.ino) throw new StaleTargetError(`${label} was replaced while its metadata was set`);
  return { entry: { ...withoutOwnerMeta(e), ...meta, mtimeNs: after.mtimeNs }, stat: statIdOf(after), observedAtNs: nowNs() };
}

/** The entry without owner, group and xattrs: what was actually set is added back by the caller. */
function withoutOwnerMeta<E extends Entry>(e: E): E {
  const { uid: _uid, gid: _gid, ...rest } = e;
  if ('xattrs' in rest) {
    const { xattrs: _xattrs, ...plain } = rest;
    return plain as E;
  }
  return rest as E;
}
