import { displayPath, relPathFromText } from '../../core/paths.js';
import type { TrashedVersion } from '../../engine/trash.js';
import { UsageError } from '../../errors.js';
import { openOneRoot } from '../../sync/open-root.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { reportError } from '../report-error.js';

export interface RootFlags {
  /** --ssh, for a remote root. */
  readonly sshCommand?: string;
}

/** `tsync trash ROOT`: what the trash of a root (here or remote) holds, oldest first. */
export async function trashCommand(rootText: string, opts: RootFlags & { json: boolean }, io: Io): Promise<ExitCode> {
  try {
    const endpoint = await openOneRoot(rootText, { ...sshOf(opts), forWriting: false });
    let versions: TrashedVersion[];
    try {
      versions = await endpoint.listTrash();
    } finally {
      await endpoint.close();
    }
    for (const v of versions) {
      if (opts.json) io.out(JSON.stringify({ at: new Date(v.atMs).toISOString(), path: displayPath(v.path), stored: displayPath(v.stored) }));
      else io.out(`${new Date(v.atMs).toISOString()}  ${displayPath(v.path)}`);
    }
    if (!opts.json && versions.length === 0) io.out('the trash is empty');
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}

/**
 * `tsync restore ROOT PATH [--at TIME]`: puts back the newest trashed version of PATH from at or before
 * TIME (default: now). Whatever stands at PATH now goes to the trash first, so nothing is lost; the
 * next sync then propagates the restored version like any edit. A remote root is restored by its agent
 * (engine/trash.ts restoreVersion on that machine), under its root lock.
 */
export async function restoreCommand(rootText: string, pathText: string, opts: RootFlags & { at: string | undefined }, io: Io): Promise<ExitCode> {
  try {
    const path = relPathFromText(pathText.replace(/^\.?\/+/, '').replace(/\/+$/, ''));
    if (path === '' || path.split('/').some((part) => part === '..' || part === '.' || part === '')) throw new UsageError(`restore: ${pathText} is not a path inside the root`);
    const atMs = opts.at === undefined ? Date.now() : Date.parse(opts.at);
    if (Number.isNaN(atMs)) throw new UsageError(`--at ${opts.at ?? ''}: expected a date and time, e.g. 2026-11-22T10:00:00Z`);
    const endpoint = await openOneRoot(rootText, { ...sshOf(opts), forWriting: true });
    let chosen: TrashedVersion | undefined;
    try {
      const candidates = (await endpoint.listTrash()).filter((v) => v.path === path && v.atMs <= atMs);
      chosen = candidates[candidates.length - 1];
      if (chosen === undefined) throw new UsageError(`restore: the trash of ${rootText} holds no version of ${pathText}${opts.at === undefined ? '' : ` from at or before ${opts.at}`}`);
      await endpoint.restoreFromTrash(chosen).catch((e: unknown) => {
        throw new RestoreFailedError(`restore ${displayPath(path)}: ${e instanceof Error ? e.message : String(e)}; nothing was overwritten`, { cause: e });
      });
    } finally {
      await endpoint.close();
    }
    io.out(`restored ${displayPath(path)} as trashed at ${new Date(chosen.atMs).toISOString()}`);
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof RestoreFailedError)) return reportError(e, io);
    io.err(`tsync: error: ${e.message}`);
    return EXIT.partial;
  }
}

/** The restore itself failed on the root (something appeared at the path, a parent is not a directory, …): exit 1, like a failed path in a sync. */
class RestoreFailedError extends Error {}

function sshOf(opts: RootFlags): { sshCommand?: string } {
  return opts.sshCommand === undefined ? {} : { sshCommand: opts.sshCommand };
}
