// The model's own reconcile: from the base and the two trees before a run, what each tree must hold
// afterwards, which conflicts there are and who wins them. Written from the rules in README ("Two-way
// sync", "Conflict policies") and not from the planner's code or its output, so that a planner that
// drifts from the rules disagrees with it. Where both sides keep the same bytes (or link target, or both
// are directories) the metadata is merged field by field against the base, as README's "Two-way sync"
// says: mode (files, dirs) and mtime (files, symlinks; directory mtimes are not synced two-way).
import xxhashInit from 'xxhash-wasm';
import type { ConflictPolicy } from '../../../src/core/types.js';
import type { SideName } from './ops.js';
import { isAtOrBelow, parentOfPath, sameContent, sameMtime, unchanged, type Node, type Tree } from './snapshot.js';

/** Per path, each side's state at the last sync where both sides agreed on it. */
export type ModelBase = Map<string, Readonly<Record<SideName, Node | undefined>>>;

export const SIDES: readonly SideName[] = ['A', 'B'];
export const otherSide = (s: SideName): SideName => (s === 'A' ? 'B' : 'A');

/** How the loser of a resolved conflict is kept. */
export type Keeping = 'copy' | 'trash';

export interface ExpectedConflict {
  readonly path: string;
  readonly a: Node;
  readonly b: Node;
  /** null: policy skip, both stay as they are. */
  readonly winner: SideName | null;
  /** null under skip. */
  readonly keeping: Keeping | null;
}

/** What one path must hold on each side after the run (undefined: nothing), and why. */
export interface ExpectedPath {
  readonly after: Readonly<Record<SideName, Node | undefined>>;
  /** The side whose version moved to the other side (its mtime travels with it), if one did. */
  readonly from: SideName | null;
  /** Both sides kept their own bytes: `after` holds the merged metadata, mtimes (files, symlinks) included. */
  readonly merged: boolean;
  /** At or below a conflict left alone by policy skip. */
  readonly frozen: boolean;
}

export interface Expectation {
  /** Every path of the base or of either tree before the run. Any other path afterwards must be a new conflict copy. */
  readonly paths: ReadonlyMap<string, ExpectedPath>;
  /** The conflicts tsync must report (those below a skipped one are not: the whole subtree is left alone). */
  readonly conflicts: readonly ExpectedConflict[];
}

export interface ExpectInput {
  readonly policy: ConflictPolicy;
  readonly leftRoot: SideName;
  readonly trash: boolean;
  readonly base: ModelBase;
  readonly pre: Readonly<Record<SideName, Tree>>;
}

type Decision =
  | { readonly kind: 'keep' } // both unchanged, or changed the same way: each side keeps what it has
  | { readonly kind: 'take'; readonly from: SideName }
  | { readonly kind: 'conflict'; readonly winner: SideName }
  | { readonly kind: 'skip' };

const hasher = await xxhashInit();

/**
 * The equal-mtime tie-break key, the larger winning: a symlink by its target (`l…`), a file by its size
 * then its XXH64 (hex) (`f…`), whatever tsync happened to read before planning.
 */
function tieKey(n: Node): string {
  if (n.kind === 'file') {
    const bytes = Buffer.from(n.content ?? '', 'latin1');
    return `f${String(bytes.length).padStart(20, '0')}${hasher.h64Raw(bytes).toString(16).padStart(16, '0')}`;
  }
  return n.kind === 'symlink' ? `l${n.target ?? ''}` : 'd';
}

/**
 * Who keeps the name in a conflict: a directory against anything else; else the policy's root; else
 * the newer mtime; else the larger tie key, the first root winning a tie of keys (no two different
 * versions share one), so `sync A B` and `sync B A` agree.
 */
export function modelWinner(a: Node, b: Node, policy: ConflictPolicy, leftRoot: SideName): SideName {
  if (a.kind === 'dir' && b.kind !== 'dir') return 'A';
  if (b.kind === 'dir' && a.kind !== 'dir') return 'B';
  if (policy === 'left') return leftRoot;
  if (policy === 'right') return otherSide(leftRoot);
  if (a.mtimeNs !== b.mtimeNs) return a.mtimeNs > b.mtimeNs ? 'A' : 'B';
  const rightRoot = otherSide(leftRoot);
  const [l, r] = leftRoot === 'A' ? [a, b] : [b, a];
  return tieKey(l) >= tieKey(r) ? leftRoot : rightRoot;
}

function decide(p: string, { policy, leftRoot, base, pre }: ExpectInput): Decision {
  const a = pre.A.get(p);
  const b = pre.B.get(p);
  const changedA = !unchanged(a, base.get(p)?.A);
  const changedB = !unchanged(b, base.get(p)?.B);
  if (!changedA && !changedB) return { kind: 'keep' };
  if (!changedB) return { kind: 'take', from: 'A' };
  if (!changedA) return { kind: 'take', from: 'B' };
  // changed on both sides: a deletion never beats a change
  if (a === undefined || b === undefined) return b === undefined ? { kind: 'take', from: 'A' } : { kind: 'take', from: 'B' };
  if (sameContent(a, b)) return { kind: 'keep' };
  return policy === 'skip' ? { kind: 'skip' } : { kind: 'conflict', winner: modelWinner(a, b, policy, leftRoot) };
}

function afterOf(d: Decision, side: SideName, pre: Readonly<Record<SideName, Tree>>, p: string): Node | undefined {
  switch (d.kind) {
    case 'keep':
    case 'skip':
      return pre[side].get(p);
    case 'take':
      return pre[d.from].get(p);
    case 'conflict':
      return pre[d.winner].get(p);
  }
}

/**
 * A directory that anything below it will still need on either side must be a directory on both
 * sides afterwards: restored from the side that has it, or, against a file or symlink on the other
 * side, the winner of a conflict (skip: left alone).
 */
function keepNeededDir(d: Decision, p: string, input: ExpectInput): Decision {
  const { pre, policy } = input;
  const isDir = (n: Node | undefined): boolean => n?.kind === 'dir';
  if (SIDES.every((s) => isDir(afterOf(d, s, pre, p)))) return d;
  const a = pre.A.get(p);
  const b = pre.B.get(p);
  if (isDir(a) && isDir(b)) return { kind: 'keep' };
  const dirSide: SideName | null = isDir(a) ? 'A' : isDir(b) ? 'B' : null;
  if (dirSide === null) return d;
  if (pre[otherSide(dirSide)].get(p) === undefined) return { kind: 'take', from: dirSide };
  return policy === 'skip' ? { kind: 'skip' } : { kind: 'conflict', winner: dirSide };
}

export function allKeys(base: ModelBase, ...trees: Readonly<Record<SideName, Tree>>[]): string[] {
  const keys = new Set<string>(base.keys());
  for (const t of trees) for (const s of SIDES) for (const k of t[s].keys()) keys.add(k);
  return [...keys].sort();
}

export function expectRun(input: ExpectInput): Expectation {
  const { pre, base, policy, trash } = input;
  const keys = allKeys(base, pre);
  const decisions = new Map<string, Decision>();
  const needed = new Set<string>();
  // Deepest first: a directory's fate depends on whether anything below it survives.
  for (const p of [...keys].reverse()) {
    let d = decide(p, input);
    if (needed.has(p)) d = keepNeededDir(d, p, input);
    decisions.set(p, d);
    const parent = parentOfPath(p);
    if (parent !== null && SIDES.some((s) => afterOf(d, s, pre, p) !== undefined)) needed.add(parent);
  }

  const paths = new Map<string, ExpectedPath>();
  const conflicts: ExpectedConflict[] = [];
  const skipped: string[] = [];
  for (const p of keys) {
    const d = decisions.get(p) ?? { kind: 'keep' };
    const a = pre.A.get(p);
    const b = pre.B.get(p);
    if (skipped.some((s) => isAtOrBelow(p, s))) {
      paths.set(p, { after: { A: a, B: b }, from: null, merged: false, frozen: true });
      continue;
    }
    if (d.kind === 'skip' && a !== undefined && b !== undefined) {
      skipped.push(p);
      conflicts.push({ path: p, a, b, winner: null, keeping: null });
    }
    if (d.kind === 'conflict' && a !== undefined && b !== undefined) {
      conflicts.push({ path: p, a, b, winner: d.winner, keeping: policy === 'keep-both' || !trash ? 'copy' : 'trash' });
    }
    const after = { A: afterOf(d, 'A', pre, p), B: afterOf(d, 'B', pre, p) };
    const from = d.kind === 'take' ? d.from : d.kind === 'conflict' ? d.winner : null;
    const merged = d.kind === 'keep' && a !== undefined && b !== undefined && sameContent(a, b);
    const settled = merged ? mergedMeta(a, b, base.get(p)) : after;
    paths.set(p, { after: settled, from, merged, frozen: d.kind === 'skip' });
  }
  return { paths, conflicts };
}

/**
 * One metadata field of a path both sides hold with the same bytes. Against each side's own state at the
 * last agreement: changed on one side only → that side's value; on both (or no base of that kind: both
 * created it) → `onBoth`.
 */
function mergeField<V>(
  a: Node,
  b: Node,
  was: Readonly<Record<SideName, Node | undefined>> | undefined,
  read: (n: Node) => V,
  same: (x: V, y: V) => boolean,
  onBoth: () => SideName,
): SideName {
  if (same(read(a), read(b))) return 'A';
  const changed = (s: SideName, n: Node): boolean => {
    const old = was?.[s];
    return old === undefined || old.kind !== n.kind || !same(read(n), read(old));
  };
  const ca = changed('A', a);
  const cb = changed('B', b);
  if (ca !== cb) return ca ? 'A' : 'B';
  return onBoth();
}

/**
 * README's rule: a mtime changed on both sides → the newer; a mode changed on both sides → the mode of
 * the side whose mtime (before the run) is newer, the larger mode on equal mtimes. Directory mtimes
 * are left as each side has them; a symlink has no mode of its own.
 */
function mergedMeta(a: Node, b: Node, was: Readonly<Record<SideName, Node | undefined>> | undefined): Record<SideName, Node> {
  let mode = a.mode;
  let mtimes: Record<SideName, bigint> = { A: a.mtimeNs, B: b.mtimeNs };
  if (a.kind !== 'dir') {
    const w = mergeField(
      a,
      b,
      was,
      (n) => n.mtimeNs,
      sameMtime,
      () => (a.mtimeNs > b.mtimeNs ? 'A' : 'B'),
    );
    const t = w === 'A' ? a.mtimeNs : b.mtimeNs;
    mtimes = { A: t, B: t };
  }
  if (a.kind !== 'symlink') {
    const newer = (): SideName => (!sameMtime(a.mtimeNs, b.mtimeNs) ? (a.mtimeNs > b.mtimeNs ? 'A' : 'B') : a.mode > b.mode ? 'A' : 'B');
    mode =
      mergeField(
        a,
        b,
        was,
        (n) => n.mode,
        (x, y) => x === y,
        newer,
      ) === 'A'
        ? a.mode
        : b.mode;
  }
  return { A: { ...a, mode, mtimeNs: mtimes.A }, B: { ...b, mode, mtimeNs: mtimes.B } };
}
