import { statSync, type Stats } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import { sideLabel } from '../core/sides.js';
import type { AbsPath } from '../core/types.js';
import { NestedRootsError, RootError, SameRootError } from '../errors.js';
import { absFromText, realpathAbs } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';

export interface ResolvedRoots {
  readonly left: AbsPath;
  readonly right: AbsPath;
  /** The roots as the user typed them, for messages. */
  readonly leftText: string;
  readonly rightText: string;
  /** A root that does not exist (yet): one-way creates a missing destination; two-way decides by its base. */
  readonly leftMissing: boolean;
  readonly rightMissing: boolean;
}

export interface RootRules {
  /** One-way: a missing destination is created. */
  readonly createRight: boolean;
  /** Two-way: a missing root is resolved to where it would be, and openPair decides (see guardMissingRoots in pair.ts). */
  readonly allowMissing: boolean;
}

/**
 * Checks both roots before anything is read or written, and resolves them to real paths once (a root
 * that is itself a symlink is allowed; symlinks inside the trees are never followed).
 */
export function resolveRoots(leftText: string, rightText: string, rules: RootRules): ResolvedRoots {
  const mode = rules.createRight ? 'one-way' : 'two-way';
  const leftRole = sideLabel('left', mode);
  const rightRole = sideLabel('right', mode);
  const l = resolveOne(leftText, leftRole, rules.allowMissing);
  const r = resolveOne(rightText, rightRole, rules.allowMissing || rules.createRight);
  assertDistinctRoots(l.path, r.path, leftText, rightText, mode);
  return { left: l.path, right: r.path, leftText, rightText, leftMissing: l.missing, rightMissing: r.missing };
}

/** Two real paths on one machine must be neither the same directory nor one inside the other. */
export function assertDistinctRoots(left: AbsPath, right: AbsPath, leftText: string, rightText: string, mode: 'one-way' | 'two-way'): void {
  const leftRole = sideLabel('left', mode);
  const rightRole = sideLabel('right', mode);
  if (left === right) throw new SameRootError(`${leftRole} and ${rightRole} are the same directory (${leftText})`);
  if (isInside(right, left)) throw new NestedRootsError(`${rightRole} ${rightText} is inside ${leftRole} ${leftText}; refusing to sync a tree into itself`);
  if (isInside(left, right)) throw new NestedRootsError(`${leftRole} ${leftText} is inside ${rightRole} ${rightText}; refusing to sync a tree into itself`);
}

export function resolveOne(text: string, role: string, mayBeMissing: boolean): { path: AbsPath; missing: boolean } {
  const st = statOrNull(text, role);
  if (st === null) {
    if (!mayBeMissing) throw new RootError(`${role} ${text} does not exist`);
    return { path: plannedRealPath(text), missing: true };
  }
  if (!st.isDirectory()) throw new RootError(`${role} ${text} is not a directory`);
  return { path: realpathAbs(absFromText(resolve(text))), missing: false };
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
