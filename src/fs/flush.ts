import { createRequire } from 'node:module';
import type { AbsPath } from '../core/types.js';
import { nativeSyncfs } from './native-listing.js';
import { textOfAbs } from './paths.js';

/**
 * node:child_process, loaded on the first flush: it brings net, dgram and a dozen internal modules with
 * it (about 10 ms), which a command that never flushes (`status`, a no-op with nothing owed) should not pay.
 */
function childProcess(): typeof import('node:child_process') {
  return createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
}

/**
 * Flushes the file system that holds `root` to disk (syncfs(2) through coreutils' `sync -f`; Node has no
 * binding for it). Sessions call this before they commit the base: the index must never vouch for
 * data that a power cut could still take back, or the next run would mistake a truncated file for an
 * edit and propagate it. For a run that wrote many paths, one flush per commit costs far less than an
 * fsync per path; a run that wrote few gets the fsyncs instead (sync/durability.ts).
 */
export function flushFileSystem(root: AbsPath): void {
  const { spawnSync } = childProcess();
  const r = spawnSync('sync', ['-f', textOfAbs(root)], { stdio: 'ignore' });
  if (r.status !== 0) spawnSync('sync', [], { stdio: 'ignore' }); // no `-f` support: flush everything
}

/**
 * The same, without blocking the event loop (watch mode keeps reacting to events meanwhile; a run walks its roots
 * while the flush the last run owed is made, sync/deferred-flush.ts). Through the addon's syncfs where it is built
 * (native/sync_fs.c: no child process, whose start and module cost the main thread about 17 ms, issue 11), and where
 * that fails, with `sync`, which flushes everything; without the addon, as flushFileSystem does.
 */
export async function flushFileSystemAsync(root: AbsPath): Promise<void> {
  const syncfs = nativeSyncfs();
  const flushedAlone = syncfs === null ? null : (await syncfs(textOfAbs(root))) === 0;
  if (flushedAlone === true) return;
  const run = (args: string[]): Promise<number | null> =>
    new Promise((resolve) => {
      const child = childProcess().spawn('sync', args, { stdio: 'ignore' });
      child.on('error', () => resolve(null));
      child.on('exit', (code) => resolve(code));
    });
  // the addon's syncfs failed: `sync -f` would fail the same way
  const code = flushedAlone === false ? 1 : await run(['-f', textOfAbs(root)]);
  if (code !== 0) await run([]);
}
