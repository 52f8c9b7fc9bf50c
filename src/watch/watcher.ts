import { watch, type FSWatcher } from 'chokidar';
import { relative, sep } from 'node:path';
import { isOwnName, joinRel, parentOf } from '../core/paths.js';
import type { AbsPath, RelPath, Side } from '../core/types.js';
import { textOfAbs } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';

export interface RootWatchEvents {
  /** Something at or below this path may have changed (null: the root itself). */
  readonly onHint: (side: Side, path: RelPath | null) => void;
  /** Watching failed (inotify limits, a vanished root): the watch loop (sync/watch-loop.ts) falls back to periodic scans. */
  readonly onFailure: (side: Side, message: string) => void;
}

export interface RootWatch {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const REPLACEMENT = '\uFFFD';

/**
 * Watches one root with chokidar, asking as little of it as possible: only directories are watched
 * (one inotify watch per directory, not per file; files are filtered out before chokidar stats or
 * watches them), and its `raw` events, which name the child of a watched directory that changed, are
 * the hints. chokidar still keeps watching directories that appear and dropping those that vanish.
 *
 * Names reach us as UTF-8 text, so a name that is not valid UTF-8 arrives mangled: such a hint is
 * widened to its directory, which the watch loop re-reads byte-exactly.
 */
export function watchRoot(root: AbsPath, side: Side, events: RootWatchEvents): RootWatch {
  const rootText = textOfAbs(root);
  const watcher: FSWatcher = watch(rootText, {
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    // Only directories are watched: chokidar would otherwise open one inotify watch per file.
    ignored: (path, stats) => (stats !== undefined && !stats.isDirectory()) || isOwnName(lastName(path)),
  });
  let failed = false;
  const fail = (message: string): void => {
    if (failed) return;
    failed = true;
    events.onFailure(side, message);
  };
  const toRel = (absText: string): RelPath | null | 'outside' => {
    const rel = relative(rootText, absText);
    if (rel === '') return null;
    if (rel.startsWith('..') || rel.includes(REPLACEMENT)) return 'outside';
    return Buffer.from(rel.split(sep).join('/'), 'utf8').toString('latin1') as RelPath;
  };
  watcher.on('raw', (_event: string, filename: string | null, details: unknown) => {
    const watchedPath = typeof details === 'object' && details !== null ? (details as { watchedPath?: unknown }).watchedPath : undefined;
    const dir = typeof watchedPath === 'string' ? toRel(watchedPath) : null;
    if (dir === 'outside') {
      events.onHint(side, null);
      return;
    }
    if (filename === null || filename === '' || filename.includes(REPLACEMENT)) {
      events.onHint(side, dir);
      return;
    }
    const name = Buffer.from(filename, 'utf8').toString('latin1');
    if (isOwnName(name)) return;
    // fs.watch on a directory also reports the directory itself by its own name
    if (dir !== null && name === lastName(dir)) events.onHint(side, dir);
    events.onHint(side, joinRel(dir, name));
  });
  watcher.on('unlinkDir', (absText: string) => {
    const rel = toRel(absText);
    if (rel === 'outside') return;
    if (rel === null) fail(`the root ${rootText} was removed or unmounted`);
    else events.onHint(side, parentOf(rel) ?? rel);
  });
  watcher.on('error', (e: unknown) => {
    const code = errCode(e);
    const why = code === 'ENOSPC' ? 'the inotify watch limit is reached (raise fs.inotify.max_user_watches)' : code === 'EMFILE' ? 'too many open files' : `${code}`;
    fail(`cannot watch ${rootText}: ${why}`);
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { ready, close: () => watcher.close() };
}

function lastName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf(sep));
  return path.slice(i + 1);
}
