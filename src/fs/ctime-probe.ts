import { closeSync, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { constants } from 'node:fs';
import { tempName } from './temp-name.js';

/**
 * Does this directory's file system give every change a ctime of its own? Kernels since 6.13 do for
 * ext4, xfs, btrfs and tmpfs ("multigrain" timestamps: once a ctime has been read, the next change
 * gets a fine-grained one). There, a stat can vouch for a file the instant it is taken; on coarse
 * clocks a write in the same tick as the stat would go unseen, so fresh stats count as racy
 * (core/stat-cache.ts). Three quick write-stat pairs tell the two apart: a coarse clock repeats itself.
 * Any failure answers "no", which is the safe answer.
 */
export function hasFineGrainedCtime(dirAbs: Buffer): boolean {
  // a temp name: if the run is killed before the probe is removed, the next run removes it as a leftover
  const probe = Buffer.concat([dirAbs, Buffer.from(`/${tempName('probe-')}`)]);
  let fd: number;
  try {
    fd = openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch {
    return false;
  }
  try {
    let last = fstatSync(fd, { bigint: true }).ctimeNs;
    for (let i = 0; i < 3; i++) {
      writeSync(fd, 'x');
      const now = fstatSync(fd, { bigint: true }).ctimeNs;
      if (now === last) return false;
      last = now;
    }
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
    try {
      unlinkSync(probe);
    } catch {
      // left behind: the next run's leftover-temp cleanup removes it
    }
  }
}
