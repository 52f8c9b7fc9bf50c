import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { secondsOf } from './copy-file.js';
import { anchoredPaths, type Place } from './dir-anchors.js';

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
  const dir = await open(place.dirFdPath, flags).catch(() => null);
  try {
    const before = await dir?.stat({ bigint: true }).catch(() => undefined);
    try {
      await unlink(place.fdPath);
    } catch {
      return; // gone already, or not ours to remove: the directory is as it was
    }
    if (dir !== null && before !== undefined) await dir.utimes(secondsOf(before.atimeNs), secondsOf(before.mtimeNs)).catch(() => undefined);
  } finally {
    await dir?.close();
  }
}
