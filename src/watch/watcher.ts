import { type Dirent, type FSWatcher, lstatSync, readdirSync, watch } from 'node:fs';
import { isAtOrBelow, isOwnName, joinRel } from '../core/paths.js';
import type { AbsPath, RelPath, Side } from '../core/types.js';
import { fromBytes, textOfAbs, toBytes } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';

export interface RootWatchEvents {
  /** Something at or below this path may have changed (null: the root itself). */
  readonly onHint: (side: Side, path: RelPath | null) => void;
  /** Watching failed (inotify limits, a vanished root): the watch loop (sync/watch-loop.ts) falls back to periodic scans. */
  readonly onFailure: (side: Side, message: string) => void;
}

export interface RootWatch {
  readonly ready: Promise<void>;
  /** How many directories are watched now (tests, status). */
  readonly watchedDirs: number;
  /**
   * Brings the watches in line with the directories a full scan found: those it lacks are watched (not
   * listed: the scan did that) and returned, so the caller re-reads them (a change made between the scan
   * and the watch would otherwise go unseen); watched paths the scan found no directory at are dropped.
   */
  adopt(dirs: ReadonlySet<RelPath>): RelPath[];
  close(): Promise<void>;
}

/** The root's own key in the table of watches. */
const ROOT = '' as RelPath;

/**
 * Watches one root with one `fs.watch` (one inotify watch) per directory. With `knownDirs` (the index's
 * directories from the last sync) those are watched without listing anything; without, a crawl lists
 * directories only: files are never stat-ed, because the directory entry's type says what it is (a
 * watcher that stats every file doubled the start-up of a 100k-file tree). Each directory is watched
 * before it is listed, so an entry made while the crawl runs is either listed or reported; directories
 * that `knownDirs` lacked are found by the first full scan and handed to `adopt`. A `rename` event (an entry
 * made, removed or moved) is checked with one lstat: a new directory is watched with everything below it,
 * a vanished one is dropped. Names arrive as bytes, so a name that is not valid UTF-8 is hinted exactly.
 */
export function watchRoot(root: AbsPath, side: Side, events: RootWatchEvents, knownDirs?: Iterable<RelPath>): RootWatch {
  const watches = new Map<RelPath, FSWatcher>();
  let failed = false;
  let closed = false;
  const fail = (message: string): void => {
    if (failed || closed) return;
    failed = true;
    events.onFailure(side, message);
  };
  const absOf = (rel: RelPath): Buffer => toBytes(rel === ROOT ? root : (`${root}/${rel}` as AbsPath));

  const isDirNow = (rel: RelPath): boolean => {
    try {
      return lstatSync(absOf(rel)).isDirectory();
    } catch {
      return false;
    }
  };

  const unwatchBelow = (dir: RelPath): void => {
    // A pass over the watched directories, not the files: only when a directory vanishes.
    for (const [rel, w] of watches) {
      if (rel === dir || (dir !== ROOT && rel !== ROOT && isAtOrBelow(rel, dir))) {
        w.close();
        watches.delete(rel);
      }
    }
  };

  const onEvent = (dir: RelPath, eventType: string, filename: Buffer | null): void => {
    if (closed) return;
    const dirHint = dir === ROOT ? null : dir;
    if (filename === null || filename.length === 0) {
      events.onHint(side, dirHint);
      return;
    }
    const name = fromBytes(filename);
    if (isOwnName(name)) return;
    const path = joinRel(dirHint, name);
    // inotify also reports events on the watched directory itself, under its own name
    if (dir === ROOT && name === lastName(root) && !isDirNow(ROOT)) {
      fail(`the root ${textOfAbs(root)} was removed or unmounted`);
      return;
    }
    if (dir !== ROOT && name === lastName(dir)) events.onHint(side, dir);
    events.onHint(side, path);
    if (eventType !== 'rename') return; // content or metadata: no directory came or went
    if (isDirNow(path)) {
      if (!watches.has(path)) watchTree(path);
    } else if (watches.has(path)) {
      unwatchBelow(path);
    }
  };

  /** Watches one directory; false when it cannot be (gone, unreadable, or the watch limit: then `failed`). */
  const watchOne = (dir: RelPath): boolean => {
    try {
      const w = watch(absOf(dir), { encoding: 'buffer', persistent: true }, (type, name) => onEvent(dir, type, name));
      w.on('error', (e: unknown) => {
        // the directory went away under its watch: the parent's event drops it; anything else is a failure
        if (errCode(e) === 'ENOENT' || errCode(e) === 'EPERM') unwatchBelow(dir);
        else fail(`cannot watch ${textOfAbs(root)}: ${reason(e)}`);
      });
      watches.get(dir)?.close();
      watches.set(dir, w);
      return true;
    } catch (e) {
      const code = errCode(e);
      // gone before we got to it, or unreadable (the scan reports that): not a failure of the watch
      if (dir === ROOT || (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES' && code !== 'EPERM')) fail(`cannot watch ${textOfAbs(root)}: ${reason(e)}`);
      return false;
    }
  };

  /** Watches `start` and every directory below it, each before it is listed. */
  const watchTree = (start: RelPath): void => {
    const stack: RelPath[] = [start];
    while (stack.length > 0 && !failed) {
      const dir = stack.pop() as RelPath;
      const abs = absOf(dir);
      if (!watchOne(dir)) continue;
      let children: Dirent<Buffer>[];
      try {
        children = readdirSync(abs, { withFileTypes: true, encoding: 'buffer' });
      } catch {
        continue; // unreadable or gone: the scan reports or forgets it
      }
      for (const child of children) {
        const name = fromBytes(child.name);
        if (isOwnName(name)) continue;
        const rel = joinRel(dir === ROOT ? null : dir, name);
        // some file systems do not fill in the entry's type: only then is it stat-ed
        const typed = child.isFile() || child.isDirectory() || child.isSymbolicLink() || child.isFIFO() || child.isSocket() || child.isBlockDevice() || child.isCharacterDevice();
        if (typed ? child.isDirectory() : isDirNow(rel)) stack.push(rel);
      }
    }
  };

  if (knownDirs === undefined) watchTree(ROOT);
  else if (watchOne(ROOT)) {
    for (const d of knownDirs) {
      if (failed) break;
      if (!isOwnPath(d)) watchOne(d);
    }
  }
  return {
    adopt: (dirs) => {
      const fresh: RelPath[] = [];
      if (failed || closed) return fresh;
      for (const [rel, w] of watches) {
        if (rel === ROOT || dirs.has(rel)) continue;
        w.close();
        watches.delete(rel);
      }
      for (const d of dirs) if (!watches.has(d) && watchOne(d)) fresh.push(d);
      return fresh;
    },
    ready: Promise.resolve(),
    get watchedDirs() {
      return watches.size;
    },
    close: () => {
      closed = true;
      for (const w of watches.values()) w.close();
      watches.clear();
      return Promise.resolve();
    },
  };
}

function reason(e: unknown): string {
  const code = errCode(e);
  return code === 'ENOSPC' ? 'the inotify watch limit is reached (raise fs.inotify.max_user_watches)' : code === 'EMFILE' ? 'too many open files' : `${code}`;
}

function isOwnPath(p: RelPath): boolean {
  return p.split('/').some(isOwnName);
}

function lastName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
