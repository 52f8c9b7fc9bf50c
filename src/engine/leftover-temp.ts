import { constants } from 'node:fs';
import { fsPromises } from '../fs/lazy-promises.js';
import { errCode } from '../fs/stat.js';
import { secondsOf } from './copy-file.js';
import { anchoredPaths, PROC_FD, type Place } from './dir-anchors.js';
import { STAGED_FILE_NAME } from './staged-copy.js';

/**
 * Removes the temp file of an earlier run (a killed one, or one whose removal of a temp name failed after the
 * copy got its name: copy-file.ts placeNew) and gives its directory back the times it had. The scan that found
 * the temp read that directory's mtime, and the plan made from it must still hold after this housekeeping: a
 * directory whose mtime already matched the other side's would otherwise keep the removal's time, and the run
 * would end out of step (found by the crash trials). The times are set on a descriptor of the directory itself
 * (the anchored path names the very directory its descriptor holds; a plain path is opened without following a
 * symlink). Someone changing the directory in between keeps the change; only its mtime may then be the older one.
 */
export async function removeLeftoverTemp(place: Place): Promise<void> {
  const flags = constants.O_RDONLY | constants.O_DIRECTORY | (anchoredPaths ? 0 : constants.O_NOFOLLOW);
  const dir = await fsPromises()
    .open(place.dirFdPath, flags)
    .catch(() => null);
  try {
    const before = await dir?.stat({ bigint: true }).catch(() => undefined);
    try {
      await fsPromises().unlink(place.fdPath);
    } catch (e) {
      // a copy stage (staged-copy.ts) is a directory
      if (!(errCode(e) === 'EISDIR' && (await removeStage(place.fdPath)))) return; // gone already, or not ours to remove: the directory is as it was
    }
    if (dir !== null && before !== undefined) await dir.utimes(secondsOf(before.atimeNs), secondsOf(before.mtimeNs)).catch(() => undefined);
  } finally {
    await dir?.close();
  }
}

/**
 * Removes a copy stage left by a killed run: its one staged file (the name `f`, which only a stage's copy makes),
 * then the directory. It is opened without following a symlink and its file removed through its descriptor, so
 * nothing outside it is touched; any other name in it is not ours, stays, and keeps the stage. True when it is gone.
 */
async function removeStage(stageAbs: Buffer): Promise<boolean> {
  const stage = await fsPromises()
    .open(stageAbs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
    .catch(() => null);
  if (stage === null) return false;
  try {
    await fsPromises()
      .unlink(anchoredPaths ? `${PROC_FD}${stage.fd}/${STAGED_FILE_NAME}` : Buffer.concat([stageAbs, Buffer.from(`/${STAGED_FILE_NAME}`)]))
      .catch(() => undefined);
    await fsPromises().rmdir(stageAbs);
    return true;
  } catch {
    return false;
  } finally {
    await stage.close();
  }
}
