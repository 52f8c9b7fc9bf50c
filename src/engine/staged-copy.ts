import { closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fsPromises } from '../fs/lazy-promises.js';
import { tempName } from '../fs/temp-name.js';
import { errCode } from '../fs/stat.js';
import { PROC_FD } from './dir-anchors.js';
import { UnsafePathError } from './guards.js';

const SLASH = Buffer.of(0x2f);
/** The one name a stage holds (leftover-temp.ts removes exactly this name and nothing else). */
export const STAGED_FILE_NAME = 'f';

/** A private directory in the target's directory that a kernel copy writes its new file into. */
export interface Stage {
  /** The staged file, through the stage's descriptor (exists once `copyInto` has returned). */
  readonly fileAbs: Buffer;
  /** Removes the staged file if it is still there, then the stage itself. */
  readonly remove: () => void;
}

/**
 * Why a stage. libuv's copyFile truncates its destination to zero length before copying unless it is asked to
 * create the file itself (COPYFILE_EXCL), and on ext4 a truncation to zero marks the file for block allocation
 * when it is closed (the `auto_da_alloc` heuristic): its data then joins the journal's next commit, and the
 * next fsync of anything on that file system (the base snapshot's, SQLite's checkpoint) waits until every
 * byte copied has reached the disk. Measured on this machine's ext4: a 100 KB fsync after copyFile of a 256 MiB
 * file took 131-134 ms, after the same copy with COPYFILE_EXCL 2-3 ms. A run owes its flush instead (the
 * deferred flush, sync/deferred-flush.ts); the truncation made it pay at once anyway.
 *
 * With COPYFILE_EXCL libuv creates the file, and gives it the source's mode (setuid and setgid bits included)
 * before the first byte is copied, while the owner is still the one running tsync: in the target's own
 * directory that file would be open to whoever that mode lets in, for the length of the copy. So the file is
 * created inside a fresh directory of mode 0700 owned by the user running tsync, which nobody else can enter,
 * and leaves it only by the rename (or link) that installs it, after its owner and mode are the recorded ones.
 * The stage's name is a temp name: a run killed meanwhile leaves one that the next scan removes.
 */
export function makeStage(targetDirAbs: Buffer, label: string): Stage {
  const stageAbs = freshStage(targetDirAbs);
  let fd: number;
  try {
    fd = openSync(stageAbs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = errCode(e);
    // swapped for a symlink or a file since the mkdir: not ours any more, left for the next run's leftover sweep
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new UnsafePathError(`${label}: its copy stage was replaced by something else before it was opened; not writing through it`);
    rmdirQuietly(stageAbs);
    throw e;
  }
  const fileAbs = Buffer.from(`${PROC_FD}${fd}/${STAGED_FILE_NAME}`);
  let removed = false;
  const remove = (): void => {
    // once only: a second close could close a descriptor that has since been given to someone else
    if (removed) return;
    removed = true;
    try {
      unlinkSync(fileAbs);
    } catch {
      // not made, or installed by a rename already
    }
    closeSync(fd);
    rmdirQuietly(stageAbs);
  };
  try {
    // Someone able to write the target's directory could have put a directory of their own at the name
    // between the mkdir and the open; theirs is not owned by us (only root could make it so), and one of ours
    // gets exactly 0700 whatever the umask did to it.
    const st = fstatSync(fd);
    const euid = process.geteuid?.();
    if (euid !== undefined && st.uid !== euid) throw new UnsafePathError(`${label}: a directory of someone else took the place of its copy stage; not writing into it`);
    fchmodSync(fd, 0o700);
  } catch (e) {
    closeSync(fd);
    // ours (an error reading or setting it): removed now, as every other failure here does; someone else's is left
    if (!(e instanceof UnsafePathError)) rmdirQuietly(stageAbs);
    throw e;
  }
  return { fileAbs, remove };
}

/**
 * The kernel copies `sourceFd` into the stage's file, which it creates (COPYFILE_EXCL: no truncation); returns
 * that file opened for reading and writing. On a failure the stage is removed.
 */
export async function copyInto(stage: Stage, sourceFd: number): Promise<FileHandle> {
  try {
    await fsPromises().copyFile(`${PROC_FD}${sourceFd}`, stage.fileAbs, constants.COPYFILE_EXCL);
    return await fsPromises().open(stage.fileAbs, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (e) {
    stage.remove();
    throw e;
  }
}

function freshStage(dirAbs: Buffer): Buffer {
  for (let attempt = 0; ; attempt++) {
    const stageAbs = Buffer.concat([dirAbs, SLASH, Buffer.from(tempName('s'), 'latin1')]);
    try {
      mkdirSync(stageAbs, 0o700);
      return stageAbs;
    } catch (e) {
      if (errCode(e) !== 'EEXIST' || attempt >= 16) throw e;
    }
  }
}

function rmdirQuietly(abs: Buffer): void {
  try {
    rmdirSync(abs);
  } catch {
    // not empty (someone else's) or gone: a leftover for the next scan at worst
  }
}
