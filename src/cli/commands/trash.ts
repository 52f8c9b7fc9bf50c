import { existsSync, lstatSync, mkdirSync, renameSync, type Stats, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { displayPath, parentOf, relPathFromText } from '../../core/paths.js';
import type { AbsPath } from '../../core/types.js';
import { RootError, UsageError } from '../../errors.js';
import { absFromText, realpathAbs, toBytes, under } from '../../fs/paths.js';
import { listTrash, Trash, trashStamp, type TrashedVersion } from '../../engine/trash.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { reportError } from '../report-error.js';

/** `tsync trash ROOT`: what the trash of a root holds, oldest first. */
export function trashCommand(rootText: string, opts: { json: boolean }, io: Io): ExitCode {
  try {
    const root = existingRoot(rootText);
    const versions = listTrash(root);
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
 * next sync then propagates the restored version like any edit.
 */
export function restoreCommand(rootText: string, pathText: string, opts: { at: string | undefined }, io: Io): ExitCode {
  try {
    const root = existingRoot(rootText);
    const path = relPathFromText(pathText.replace(/^\.?\/+/, '').replace(/\/+$/, ''));
    if (path === '' || path.split('/').some((part) => part === '..' || part === '.' || part === '')) throw new UsageError(`restore: ${pathText} is not a path inside the root`);
    const atMs = opts.at === undefined ? Date.now() : Date.parse(opts.at);
    if (Number.isNaN(atMs)) throw new UsageError(`--at ${opts.at ?? ''}: expected a date and time, e.g. 2026-11-22T10:00:00Z`);
    const candidates = listTrash(root).filter((v: TrashedVersion) => v.path === path && v.atMs <= atMs);
    const chosen = candidates[candidates.length - 1];
    if (chosen === undefined) throw new UsageError(`restore: the trash of ${rootText} holds no version of ${pathText}${opts.at === undefined ? '' : ` from at or before ${opts.at}`}`);
    const target = toBytes(under(root, path));
    if (existsSync(target) || isLink(target)) {
      const trash = new Trash(root, trashStamp(Date.now()));
      trash.moveToTrash(path);
      trash.close();
    }
    const parent = parentOf(path);
    if (parent !== null) mkdirSync(toBytes(under(root, parent)), { recursive: true });
    renameSync(toBytes(under(root, chosen.stored)), target);
    io.out(`restored ${displayPath(path)} as trashed at ${new Date(chosen.atMs).toISOString()}`);
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}

function existingRoot(text: string): AbsPath {
  let st: Stats;
  try {
    st = statSync(text); // a root that is a symlink to a directory is fine
  } catch {
    throw new RootError(`${text} does not exist`);
  }
  if (!st.isDirectory()) throw new RootError(`${text} is not a directory`);
  return realpathAbs(absFromText(resolve(text)));
}

function isLink(p: Buffer): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
