// What a tree holds, as the property tests compare it: kind, mode, bytes (as text: the tests write
// ASCII only), link target, and the identity (inode, mtime, ctime) used for the "nothing touched" check.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface Node {
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  readonly mode: number;
  readonly content: string | null;
  readonly target: string | null;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
}

export type Tree = ReadonlyMap<string, Node>;

/** Walks `root` without following symlinks; tsync's own names (`.tsync…`) are left out. */
export function snapshot(root: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const walk = (absDir: string, prefix: string): void => {
    for (const name of readdirSync(absDir).sort()) {
      if (name.startsWith('.tsync')) continue;
      const abs = join(absDir, name);
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const st = lstatSync(abs, { bigint: true });
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      out.set(rel, {
        kind,
        mode: Number(st.mode & 0o7777n),
        content: kind === 'file' ? readFileSync(abs, 'latin1') : null,
        target: kind === 'symlink' ? readlinkSync(abs) : null,
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
        ino: st.ino,
      });
      if (kind === 'dir') walk(abs, rel);
    }
  };
  walk(root, '');
  return out;
}

/** Where a root's trash lives, relative to the root (src/engine/trash.ts: `<root>/.tsync/trash/<run stamp>/<path>`). */
export const TRASH_DIR = '.tsync/trash';

const OWN_FOLDER_KEEPS = new Set(['trash', '.gitignore', 'CACHEDIR.TAG']);

/**
 * Every name at any depth that starts with `.tsync` (temp files a finished run must not leave behind),
 * except the trash (`<root>/.tsync/trash`) and the marks that keep other tools out of `.tsync`
 * (src/engine/own-folder.ts), which are meant to stay; nothing else may be in `<root>/.tsync`.
 */
export function ownNames(root: string): string[] {
  const found: string[] = [];
  const walk = (absDir: string, prefix: string): void => {
    for (const name of readdirSync(absDir)) {
      const abs = join(absDir, name);
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      if (rel === '.tsync') {
        for (const inside of readdirSync(abs)) if (!OWN_FOLDER_KEEPS.has(inside)) found.push(`${rel}/${inside}`);
        continue;
      }
      if (name.startsWith('.tsync')) found.push(rel);
      if (lstatSync(abs).isDirectory()) walk(abs, rel);
    }
  };
  walk(root, '');
  return found;
}

/** One version kept in a root's trash. */
export interface TrashItem {
  /** Where it is, relative to the trash folder: `<run stamp>/<path>[.~N~]`. */
  readonly stored: string;
  /** The path it had in the tree. */
  readonly path: string;
  readonly node: Node;
}

/** Everything a root's trash holds (files and symlinks; the folders that hold them aside). */
export function trashSnapshot(root: string): TrashItem[] {
  const trash = join(root, TRASH_DIR);
  let stamps: string[];
  try {
    stamps = readdirSync(trash).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: TrashItem[] = [];
  for (const stamp of stamps) {
    for (const [rel, node] of snapshot(join(trash, stamp))) {
      if (node.kind !== 'dir') out.push({ stored: `${stamp}/${rel}`, path: rel.replace(/\.~\d+~$/, ''), node });
    }
  }
  return out;
}

/** tsync's mtime tolerance: Node sets times through a double, to the microsecond. */
const MTIME_TOLERANCE_NS = 2_000n;

export function sameMtime(a: bigint, b: bigint): boolean {
  const d = a - b;
  return d < MTIME_TOLERANCE_NS && d > -MTIME_TOLERANCE_NS;
}

/** Same kind and same bytes / link target (dirs: same kind). Modes and times aside. */
export function sameContent(a: Node | undefined, b: Node | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'file') return a.content === b.content;
  if (a.kind === 'symlink') return a.target === b.target;
  return true;
}

/** What two converged sides must share: kind, bytes / link target, and mode (files and dirs). */
export function sameVersion(a: Node | undefined, b: Node | undefined): boolean {
  if (!sameContent(a, b)) return false;
  if (a === undefined || b === undefined) return true;
  return a.kind === 'symlink' || a.mode === b.mode;
}

/**
 * "Unchanged" as tsync defines it against its base: files by bytes, mode and mtime (to its tolerance),
 * directories by mode, symlinks by target.
 */
export function unchanged(now: Node | undefined, was: Node | undefined): boolean {
  if (!sameVersion(now, was)) return false;
  if (now === undefined || was === undefined) return true;
  return now.kind !== 'file' || sameMtime(now.mtimeNs, was.mtimeNs);
}

export function describeNode(n: Node | undefined): string {
  if (n === undefined) return 'absent';
  const mode = `0${n.mode.toString(8)}`;
  switch (n.kind) {
    case 'file':
      return `file ${JSON.stringify(n.content)} mode ${mode} mtime ${n.mtimeNs}`;
    case 'dir':
      return `dir mode ${mode}`;
    case 'symlink':
      return `symlink -> ${JSON.stringify(n.target)}`;
    default:
      return 'special file';
  }
}

export function describeTree(t: Tree): string {
  return [...t].map(([p, n]) => `  ${p}: ${describeNode(n)}`).join('\n');
}

/** Differences in identity (inode, mtime, ctime) between two snapshots of the same tree. */
export function identityDiffs(before: Tree, after: Tree): string[] {
  const out: string[] = [];
  for (const [p, b] of before) {
    const a = after.get(p);
    if (a === undefined) out.push(`${p}: vanished`);
    else if (a.ino !== b.ino || a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs || a.content !== b.content || a.target !== b.target || a.mode !== b.mode) {
      out.push(`${p}: touched (ino ${b.ino}->${a.ino}, mtime ${b.mtimeNs}->${a.mtimeNs}, ctime ${b.ctimeNs}->${a.ctimeNs})`);
    }
  }
  for (const p of after.keys()) if (!before.has(p)) out.push(`${p}: appeared`);
  return out;
}

export function isBelow(p: string, ancestor: string): boolean {
  return p.length > ancestor.length && p.startsWith(ancestor) && p[ancestor.length] === '/';
}

export function isAtOrBelow(p: string, ancestor: string): boolean {
  return p === ancestor || isBelow(p, ancestor);
}

export function baseNameOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export function parentOfPath(p: string): string | null {
  const i = p.lastIndexOf('/');
  return i < 0 ? null : p.slice(0, i);
}

export const CONFLICT_TAG = '.tsync-conflict-';

export function isConflictCopy(p: string): boolean {
  return baseNameOf(p).includes(CONFLICT_TAG);
}
