import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { type CheckResult, result } from './check.js';

export interface InotifyLimits {
  readonly maxUserWatches: number;
  readonly maxUserInstances: number;
}

/** What this user's processes hold now (the limits are per user), as far as /proc lets us see. */
export interface InotifyUse {
  readonly watches: number;
  readonly instances: number;
}

/** The share of the watch limit above which a tree is too close to it: directories appear, and other programs watch too. */
export const WATCH_WARN_SHARE = 0.8;

/** The limits, or null where there is no inotify (not Linux) or /proc cannot be read. */
export function readInotifyLimits(procRoot = '/proc'): InotifyLimits | null {
  try {
    const read = (name: string): number => Number.parseInt(readFileSync(`${procRoot}/sys/fs/inotify/${name}`, 'utf8').trim(), 10);
    const limits = { maxUserWatches: read('max_user_watches'), maxUserInstances: read('max_user_instances') };
    return Number.isInteger(limits.maxUserWatches) && Number.isInteger(limits.maxUserInstances) ? limits : null;
  } catch {
    return null;
  }
}

/**
 * Counts the inotify instances and watches held by our own user's processes:
 * an instance is an fd that links to `anon_inode:inotify`, each of its watches a `inotify wd:` line in
 * its fdinfo. Processes that vanish or deny access while we look are skipped.
 */
export function readInotifyUse(procRoot = '/proc', uid = process.getuid?.()): InotifyUse {
  let watches = 0;
  let instances = 0;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n));
  } catch {
    return { watches, instances };
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      // the limits count per user: root, who can look into every process, must not count everyone's
      if (statSync(`${procRoot}/${pid}`).uid !== uid) continue;
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`${procRoot}/${pid}/fd/${fd}`) !== 'anon_inode:inotify') continue;
        instances++;
        const info = readFileSync(`${procRoot}/${pid}/fdinfo/${fd}`, 'utf8');
        for (const line of info.split('\n')) if (line.startsWith('inotify wd:')) watches++;
      } catch {
        // gone meanwhile
      }
    }
  }
  return { watches, instances };
}

/** The watch limit to suggest: room for twice the tree, and never below the 524,288 many distributions now ship. */
export function suggestedWatchLimit(dirs: number): number {
  return Math.max(524_288, 2 ** Math.ceil(Math.log2(Math.max(1, dirs * 2))));
}

function watchFix(dirs: number): string {
  const n = suggestedWatchLimit(dirs);
  return `sudo sysctl fs.inotify.max_user_watches=${n}; to keep it after a reboot: echo fs.inotify.max_user_watches=${n} | sudo tee /etc/sysctl.d/90-tsync.conf`;
}

/**
 * The verdict, from numbers only (unit-tested). `dirs`: the directories under both roots, one watch
 * each (tsync watch puts one fs.watch on every directory: src/watch/watcher.ts), or null without roots.
 * A tsync watch already running on these roots holds its watches in `use` too, so `use` alone only warns.
 */
export function inotifyVerdict(limits: InotifyLimits | null, use: InotifyUse, dirs: number | null): CheckResult {
  if (limits === null) return result('inotify', null, 'ok', 'no /proc/sys/fs/inotify (not Linux): no inotify limits to check');
  const inUse = `your processes hold ${use.watches} watches in ${use.instances} instances now`;
  const limitText = `limits: ${limits.maxUserWatches} watches, ${limits.maxUserInstances} instances per user`;
  // tsync watch needs one instance (Node shares one inotify descriptor per process)
  if (use.instances >= limits.maxUserInstances) {
    return result(
      'inotify',
      null,
      'fail',
      `no inotify instance left (${inUse}; ${limitText}): tsync watch would fall back to a full scan every 30 s`,
      'sudo sysctl fs.inotify.max_user_instances=1024; to keep it after a reboot: echo fs.inotify.max_user_instances=1024 | sudo tee /etc/sysctl.d/90-tsync.conf',
    );
  }
  if (dirs === null) {
    const crowded = use.watches > limits.maxUserWatches * WATCH_WARN_SHARE;
    return result('inotify', null, crowded ? 'warn' : 'ok', `${inUse}; ${limitText}`, crowded ? watchFix(use.watches) : null);
  }
  const need = `${dirs} director${dirs === 1 ? 'y' : 'ies'} under the roots need ${dirs} watches`;
  if (dirs > limits.maxUserWatches) {
    return result('inotify', null, 'fail', `${need}, over the limit (${limitText}): tsync watch would fall back to a full scan every 30 s`, watchFix(dirs));
  }
  if (dirs > limits.maxUserWatches * WATCH_WARN_SHARE) {
    return result('inotify', null, 'warn', `${need}, over ${WATCH_WARN_SHARE * 100}% of the limit (${limitText})`, watchFix(dirs));
  }
  if (dirs + use.watches > limits.maxUserWatches) {
    return result('inotify', null, 'warn', `${need}, and ${inUse} (any tsync watch on these roots among them): together over the limit (${limitText})`, watchFix(dirs + use.watches));
  }
  return result('inotify', null, 'ok', `${need}; ${inUse}; ${limitText}`);
}
