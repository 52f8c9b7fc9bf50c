import { anchoredPaths } from '../engine/dir-anchors.js';
import { listingKind } from '../fs/native-listing.js';
import { type CheckResult, result } from './check.js';

/**
 * Which directory listing scans use (fs/native-listing.ts). Without the native one, every scan works the same
 * and costs more: by hand, a walk of a 100k-file tree took about 1.5 times as long, a no-op sync of it about 1.2
 * times (issue 11).
 */
export function listingCheck(): CheckResult {
  const kind = listingKind();
  // the native listing reads through the directories' descriptors, which the walk holds only where /proc anchors paths
  if (kind.native && !anchoredPaths)
    return result('listing', null, 'warn', "scans go through Node's fs (slower, the same results): without /proc/self/fd, tsync holds no directory descriptors to list through");
  if (kind.native) return result('listing', null, 'ok', 'native: a directory and its names are read with fstatat relative to its descriptor');
  return result(
    'listing',
    null,
    'warn',
    `scans go through Node's fs (slower, the same results): the native listing is ${kind.why}`,
    kind.why.startsWith('off') ? null : '`npm rebuild tsync` where it is installed as a package, `npm run install` in a clone (needs a C compiler and python3)',
  );
}
