import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errCode } from '../fs/stat.js';
import { type CheckResult, GIB, humanBytes, result } from './check.js';
import { PROBE_PREFIX } from './root-probes.js';

/** Below either, the state dir's free space warns: the index grows with the trees, and SQLite needs room to commit. */
export const MIN_FREE_BYTES = GIB;
export const MIN_FREE_SHARE = 0.05;

/** The verdict on free space, from numbers only (unit-tested). */
export function freeSpaceVerdict(stateDir: string, free: number, total: number): CheckResult {
  const share = total > 0 ? free / total : 0;
  const text = `${humanBytes(free)} free of ${humanBytes(total)} (${(share * 100).toFixed(1)}%)`;
  if (free < MIN_FREE_BYTES || share < MIN_FREE_SHARE) {
    return result(
      'state-space',
      stateDir,
      'warn',
      `${text}: a full disk stops runs from recording what they did (they then exit 2)`,
      'free some space, or move the state with --state-dir / $TSYNC_STATE_DIR',
    );
  }
  return result('state-space', stateDir, 'ok', text);
}

/** The directory itself or, when it does not exist yet, the nearest one above it (tsync creates the rest). */
function nearestExisting(dir: string): string {
  let d = dir;
  for (;;) {
    try {
      statSync(d);
      return d;
    } catch (e) {
      const up = dirname(d);
      if (errCode(e) !== 'ENOENT' || up === d) return d;
      d = up;
    }
  }
}

/**
 * Is the state directory usable: a directory we can create a file in (or, when it does not exist yet,
 * can be created), and how much room is there. The probe file is removed at once; nothing else is made.
 */
export function stateDirChecks(stateDir: string): CheckResult[] {
  const fix = 'choose another with --state-dir or $TSYNC_STATE_DIR, or fix its permissions';
  const existing = nearestExisting(stateDir);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(existing);
  } catch (e) {
    return [result('state-dir', stateDir, 'fail', `cannot look at ${existing} (${errCode(e)})`, fix)];
  }
  if (!st.isDirectory()) return [result('state-dir', stateDir, 'fail', `${existing} is not a directory`, fix)];
  // random, so that a probe a killed doctor left behind cannot make O_EXCL fail
  const probe = join(existing, `${PROBE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    unlinkSync(probe);
  } catch (e) {
    return [result('state-dir', stateDir, 'fail', `not writable: cannot create a file in ${existing} (${errCode(e)})`, fix)];
  }
  const where = existing === stateDir ? 'writable' : `does not exist yet; ${existing} is writable, so the first sync creates it`;
  const checks = [result('state-dir', stateDir, 'ok', where)];
  try {
    const fs = statfsSync(existing);
    checks.push(freeSpaceVerdict(stateDir, fs.bavail * fs.bsize, fs.blocks * fs.bsize));
  } catch (e) {
    checks.push(result('state-space', stateDir, 'warn', `cannot read the free space (${errCode(e)})`));
  }
  return checks;
}
