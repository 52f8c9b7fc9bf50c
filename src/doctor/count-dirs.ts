import { type Dirent, readdirSync } from 'node:fs';
import { isOwnName } from '../core/paths.js';

/**
 * How many directories tsync watch would put a watch on under `root` (itself included): every real
 * directory, not through symlinks, without tsync's own (`.tsync*`), as the watcher's crawl does. Lists
 * directories only and stats nothing, so it costs about what the watcher's own start-up crawl costs.
 * Unreadable directories are counted but not entered.
 */
export function countDirs(root: Buffer): number {
  let count = 0;
  const stack: Buffer[] = [root];
  const slash = Buffer.of(0x2f);
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    count++;
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(dir, { encoding: 'buffer', withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isDirectory() && !isOwnName(e.name.toString('latin1'))) stack.push(Buffer.concat([dir, slash, e.name]));
    }
  }
  return count;
}
