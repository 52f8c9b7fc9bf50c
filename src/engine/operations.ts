import { closeSync, constants, fchmodSync, fstatSync, futimesSync, lstatSync, lutimesSync, mkdirSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import type { Entry, Expectation, ScannedEntry, SymlinkEntry } from '../core/types.js';
import { errCode, nowNs, statIdOf } from '../fs/stat.js';
import { secondsOf } from './copy-file.js';
import { assertExpected, StaleTargetError } from './guards.js';

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

/**
 * Sets mode and mtime in place. Opens with O_NOFOLLOW and checks the inode, so a target swapped for a
 * symlink is never followed; fchmod/futimes then act on exactly the checked inode.
 */
export function setMeta(abs: Buffer, source: ScannedEntry, expect: Expectation, label: string): ScannedEntry {
  const e = source.entry;
  if (e.kind === 'symlink') return setLinkMtime(abs, e, expect, label);
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
    fchmodSync(fd, e.mode);
    futimesSync(fd, secondsOf(st.atimeNs), secondsOf(e.mtimeNs));
    const after = fstatSync(fd, { bigint: true });
    return { entry: { ...e }, stat: statIdOf(after), observedAtNs: nowNs() };
  } finally {
    closeSync(fd);
  }
}

/**
 * A symlink's mtime, set with lutimes (never follows the link). A link cannot be opened, so the inode is
 * checked by lstat before and after: a swap in between can at worst give another entry of the same
 * directory this mtime, and is then reported stale.
 */
function setLinkMtime(abs: Buffer, e: SymlinkEntry, expect: Expectation, label: string): ScannedEntry {
  assertExpected(abs, expect, label);
  const before = lstatSync(abs, { bigint: true });
  lutimesSync(abs, secondsOf(before.atimeNs), secondsOf(e.mtimeNs));
  const after = lstatSync(abs, { bigint: true });
  if (!after.isSymbolicLink() || after.ino !== before.ino) throw new StaleTargetError(`${label} was replaced while its mtime was set`);
  return { entry: { ...e, mtimeNs: after.mtimeNs }, stat: statIdOf(after), observedAtNs: nowNs() };
}
