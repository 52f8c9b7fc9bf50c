import { statSync, type Stats } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import type { AbsPath } from '../core/types.js';
import { NestedRootsError, RootError, SameRootError } from '../errors.js';
import { absFromText, realpathAbs } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';

export interface ResolvedRoots {
  readonly left: AbsPath;
  readonly right: AbsPath;
  /** The right root does not exist yet (one-way: it is created when the run writes). */
  readonly rightMissing: boolean;
}

/**
 * Checks both roots before anything is read or written, and resolves them to real paths once (a root
 * that is itself a symlink is allowed; symlinks inside the trees are never followed).
 */
export function resolveRoots(leftText: string, rightText: string, opts: { readonly createRight: boolean }): ResolvedRoots {
  const left = existingDir(leftText, 'source');
  let right: AbsPath;
  let rightMissing = false;
  const rightStat = statOrNull(rightText, 'destination');
  if (rightStat === null) {
    if (!opts.createRight) throw new RootError(`destination ${rightText} does not exist`);
    right = plannedRealPath(rightText);
    rightMissing = true;
  } else {
    if (!rightStat.isDirectory()) throw new RootError(`destination ${rightText} is not a directory`);
    right = realpathAbs(absFromText(resolve(rightText)));
  }
  if (left === right) throw new SameRootError(`source and destination are the same directory (${leftText})`);
  if (isInside(right, left)) throw new NestedRootsError(`destination ${rightText} is inside source ${leftText}; refusing to copy a tree into itself`);
  if (isInside(left, right)) throw new NestedRootsError(`source ${leftText} is inside destination ${rightText}; refusing (a mirror would delete its own source)`);
  return { left, right, rightMissing };
}

function existingDir(text: string, role: string): AbsPath {
  const st = statOrNull(text, role);
  if (st === null) throw new RootError(`${role} ${text} does not exist`);
  if (!st.isDirectory()) throw new RootError(`${role} ${text} is not a directory`);
  return realpathAbs(absFromText(resolve(text)));
}

function statOrNull(text: string, role: string): Stats | null {
  try {
    return statSync(text);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new RootError(`${role} ${text} is not a directory (a parent is a file)`);
    throw new RootError(`cannot access ${role} ${text} (${code})`);
  }
}

/** The real path a not-yet-existing directory will have: its nearest existing ancestor, resolved. */
function plannedRealPath(text: string): AbsPath {
  const abs = resolve(text);
  const parent = dirname(abs);
  if (parent === abs) return absFromText(abs);
  const parentStat = statOrNull(parent, 'destination parent');
  const realParent = parentStat === null ? plannedRealPath(parent) : realpathAbs(absFromText(parent));
  if (parentStat !== null && !parentStat.isDirectory()) throw new RootError(`destination ${text}: ${parent} is not a directory`);
  return `${realParent === '/' ? '' : realParent}/${absFromText(basename(abs))}` as AbsPath;
}

function isInside(inner: AbsPath, outer: AbsPath): boolean {
  const prefix = outer.endsWith('/') ? outer : `${outer}/`;
  return inner.startsWith(prefix);
}
