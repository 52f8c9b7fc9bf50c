import { constants } from 'node:fs';
import { lstat, mkdir, open, rmdir, unlink } from 'node:fs/promises';
import type { Entry, Expectation, ScannedEntry } from '../core/types.js';
import { nowNs, statIdOf } from '../fs/stat.js';
import { secondsOf } from './copy-file.js';
import { assertExpected, StaleTargetError } from './guards.js';

/** Removes a file, symlink, special file or empty directory, if it is still what the scan saw. */
export async function deleteEntry(abs: Buffer, expect: Expectation, label: string): Promise<void> {
  if (expect === null) return;
  await assertExpected(abs, expect, label);
  if (expect.kind === 'dir') await rmdir(abs);
  else await unlink(abs); // unlink never follows a symlink
}

/**
 * Creates a directory owner-writable (0700): its real mode arrives with the final metadata pass, after
 * its children, so that a read-only directory can still be filled.
 */
export async function makeDir(abs: Buffer, source: ScannedEntry, label: string): Promise<ScannedEntry> {
  await assertExpected(abs, null, label);
  await mkdir(abs, { mode: 0o700 });
  const st = await lstat(abs, { bigint: true });
  const entry: Entry = { ...source.entry };
  return { entry, stat: statIdOf(st), observedAtNs: nowNs() };
}

/**
 * Sets mode and mtime in place. Opens with O_NOFOLLOW and checks the inode, so a target swapped for a
 * symlink is never followed; fchmod/futimes then act on exactly the checked inode.
 */
export async function setMeta(abs: Buffer, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry> {
  const e = source.entry;
  if (e.kind === 'symlink') throw new Error('symlink metadata is not synced');
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (e.kind === 'dir' ? constants.O_DIRECTORY : 0);
  const fh = await open(abs, flags).catch((err: unknown) => {
    if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ELOOP') {
      throw new StaleTargetError(`${label} became a symlink since the scan`);
    }
    throw err;
  });
  try {
    const st = await fh.stat({ bigint: true });
    if (expect !== null && st.ino !== expect.ino) throw new StaleTargetError(`${label} was replaced since the scan`);
    if (e.kind === 'file') {
      await assertExpected(abs, expect, label);
      if (!st.isFile()) throw new StaleTargetError(`${label} changed kind since the scan`);
    } else if (!st.isDirectory()) {
      throw new StaleTargetError(`${label} changed kind since the scan`);
    }
    await fh.chmod(e.mode);
    await fh.utimes(secondsOf(st.atimeNs), secondsOf(e.mtimeNs));
    const after = await fh.stat({ bigint: true });
    const entry: Entry = { ...e };
    return { entry, stat: statIdOf(after), observedAtNs: nowNs() };
  } finally {
    await fh.close();
  }
}
