// The model the two-way property checks a sync against. It does not re-implement the planner: it
// keeps what tsync's base should be (per path: each side's state when both last agreed) and, from the
// trees before and after one run, states what any correct run must have done.
import type { ConflictPolicy } from '../../../src/core/types.js';
import type { RunSummary } from '../../../src/sync/session.js';
import type { SideName } from './ops.js';
import {
  baseNameOf,
  CONFLICT_TAG,
  describeNode,
  isAtOrBelow,
  isBelow,
  isConflictCopy,
  parentOfPath,
  sameContent,
  sameMtime,
  sameVersion,
  unchanged,
  type Node,
  type Tree,
} from './snapshot.js';

/** Per path, each side's state at the last sync where both sides agreed on it. */
export type ModelBase = Map<string, Readonly<Record<SideName, Node | undefined>>>;

export interface RoundInput {
  readonly policy: ConflictPolicy;
  /** Which tree the run took as its first root (`sync A B` or `sync B A`). */
  readonly leftRoot: SideName;
  readonly base: ModelBase;
  readonly pre: Readonly<Record<SideName, Tree>>;
  readonly post: Readonly<Record<SideName, Tree>>;
  readonly summary: RunSummary;
}

const SIDES: readonly SideName[] = ['A', 'B'];
const otherSide = (s: SideName): SideName => (s === 'A' ? 'B' : 'A');

function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

/** A path both sides changed since the base, present on both, with different content. */
export interface ModelConflict {
  readonly path: string;
  readonly a: Node;
  readonly b: Node;
}

export function changedSince(base: ModelBase, pre: Readonly<Record<SideName, Tree>>, side: SideName, p: string): boolean {
  return !unchanged(pre[side].get(p), base.get(p)?.[side]);
}

export function modelConflicts(base: ModelBase, pre: Readonly<Record<SideName, Tree>>): ModelConflict[] {
  const out: ModelConflict[] = [];
  for (const p of allKeys(base, pre)) {
    const a = pre.A.get(p);
    const b = pre.B.get(p);
    if (a === undefined || b === undefined) continue;
    if (!changedSince(base, pre, 'A', p) || !changedSince(base, pre, 'B', p)) continue;
    if (!sameContent(a, b)) out.push({ path: p, a, b });
  }
  return out;
}

function allKeys(base: ModelBase, ...trees: Readonly<Record<SideName, Tree>>[]): string[] {
  const keys = new Set<string>(base.keys());
  for (const t of trees) for (const s of SIDES) for (const k of t[s].keys()) keys.add(k);
  return [...keys].sort();
}

/** Every violated property of one run, as lines for a human (empty: the run was correct). */
export function checkRound({ policy, leftRoot, base, pre, post, summary }: RoundInput): string[] {
  const v: string[] = [];
  const keys = allKeys(base, pre);
  const changed = (side: SideName, p: string): boolean => changedSince(base, pre, side, p);
  const skippedPaths = summary.plan.conflicts.filter((c) => c.resolution === 'skipped').map((c) => c.path as string);
  const underSkipped = (p: string): boolean => skippedPaths.some((s) => isAtOrBelow(p, s));

  // No problems: nothing in these histories is unreadable, special or raced.
  for (const pr of summary.problems) v.push(`problem reported: ${pr.side} ${pr.code}: ${pr.message}`);

  // Convergence (except where policy skip left a conflict as it was, and what lies below it).
  const postKeys = new Set([...post.A.keys(), ...post.B.keys()]);
  for (const p of [...postKeys].sort()) {
    if (underSkipped(p)) continue;
    const a = post.A.get(p);
    const b = post.B.get(p);
    if (!sameVersion(a, b)) v.push(`convergence: ${p}: A has ${describeNode(a)}, B has ${describeNode(b)}`);
  }
  if (policy !== 'skip' && skippedPaths.length > 0) v.push(`policy ${policy} reported skipped conflicts: ${skippedPaths.join(', ')}`);

  // Safety: every version written since the last sync survives (at its path or as a conflict copy):
  // on both sides when the policy resolves conflicts, on at least one side under skip.
  const holds = (t: Tree, p: string, n: Node): boolean =>
    sameContent(t.get(p), n) || [...t].some(([q, m]) => isConflictCopy(q) && sameContent(m, n));
  for (const side of SIDES) {
    for (const [p, n] of pre[side]) {
      if (n.kind === 'dir' || !changed(side, p)) continue;
      const inA = holds(post.A, p, n);
      const inB = holds(post.B, p, n);
      const ok = policy === 'skip' ? inA || inB : inA && inB;
      if (!ok) v.push(`safety: the version ${describeNode(n)} written at ${p} on ${side} is lost (in A: ${inA}, in B: ${inB})`);
    }
  }

  // Policy skip leaves a conflict as it is, and everything below it (the directory side's contents
  // belong to its version): nothing at or below a skipped conflict changes on either side.
  for (const p of keys) {
    if (!underSkipped(p)) continue;
    for (const s of SIDES) {
      if (!sameVersion(post[s].get(p), pre[s].get(p))) v.push(`skip: ${p} is at or below a skipped conflict but changed on ${s}: ${describeNode(pre[s].get(p))} -> ${describeNode(post[s].get(p))}`);
    }
  }
  for (const s of skippedPaths) {
    if (sameContent(pre.A.get(s), pre.B.get(s))) v.push(`skip: ${s} reported as a skipped conflict but both sides hold ${describeNode(pre.A.get(s))}`);
  }

  // Maximality: a change on one side, with nothing changed at, above or below that path on the
  // other side, is on both sides afterwards (mtime included for files). Under skip, what lies below
  // a skipped conflict is frozen (checked above) and not expected to move.
  for (const side of SIDES) {
    const other = otherSide(side);
    for (const p of keys) {
      if (!changed(side, p) || underSkipped(p)) continue;
      const related = [p, ...ancestorsOf(p), ...keys.filter((q) => isBelow(q, p))];
      if (related.some((q) => changed(other, q))) continue;
      const want = pre[side].get(p);
      for (const s of SIDES) {
        const got = post[s].get(p);
        const mtimeOk = want?.kind !== 'file' || got?.kind !== 'file' || sameMtime(got.mtimeNs, want.mtimeNs);
        if (!sameVersion(got, want) || !mtimeOk) v.push(`maximality: ${p} changed on ${side} only (to ${describeNode(want)}) but ${s} has ${describeNode(got)}`);
      }
    }
  }

  // A deletion never beats a change: changed on one side, deleted on the other -> the change, on both.
  for (const side of SIDES) {
    const other = otherSide(side);
    for (const p of keys) {
      const kept = pre[side].get(p);
      if (kept === undefined || pre[other].get(p) !== undefined || !changed(side, p) || !changed(other, p)) continue;
      if (underSkipped(p)) continue;
      for (const s of SIDES) {
        const got = post[s].get(p);
        if (!sameVersion(got, kept)) v.push(`delete-vs-change: ${p} changed on ${side} (to ${describeNode(kept)}), deleted on ${other}, but ${s} has ${describeNode(got)}`);
      }
    }
  }

  // Conflicts.
  const conflicts = modelConflicts(base, pre);
  const reported = new Map(summary.plan.conflicts.map((c) => [c.path as string, c]));
  if (policy === 'skip') {
    for (const c of conflicts) {
      for (const s of SIDES) {
        const was = s === 'A' ? c.a : c.b;
        if (!sameVersion(post[s].get(c.path), was)) v.push(`skip: conflict at ${c.path}: ${s} had ${describeNode(was)}, now ${describeNode(post[s].get(c.path))}`);
      }
      if (reported.get(c.path)?.resolution !== 'skipped') v.push(`skip: conflict at ${c.path} not reported as skipped`);
    }
    if (conflicts.length > 0 && summary.unresolvedConflicts === 0) v.push(`skip: ${conflicts.length} conflicts but unresolvedConflicts is 0`);
  } else {
    for (const c of conflicts) v.push(...checkResolved(c, policy, leftRoot, post, reported.get(c.path)));
  }
  return v;
}

/** A conflict under keep-both/newer/left/right: the winner at the path on both sides, the loser beside it as a conflict copy on both. */
function checkResolved(
  c: ModelConflict,
  policy: ConflictPolicy,
  leftRoot: SideName,
  post: Readonly<Record<SideName, Tree>>,
  reported: RunSummary['plan']['conflicts'][number] | undefined,
): string[] {
  const v: string[] = [];
  const tsyncSide = (s: SideName): 'left' | 'right' => (s === leftRoot ? 'left' : 'right');
  let winner: SideName | null;
  if (c.a.kind === 'dir') winner = 'A';
  else if (c.b.kind === 'dir') winner = 'B';
  else if (policy === 'left') winner = leftRoot;
  else if (policy === 'right') winner = otherSide(leftRoot);
  else winner = c.a.mtimeNs > c.b.mtimeNs ? 'A' : c.b.mtimeNs > c.a.mtimeNs ? 'B' : null; // equal: the tie-break decides
  const version = (s: SideName): Node => (s === 'A' ? c.a : c.b);
  if (winner === null) {
    const atA = post.A.get(c.path);
    winner = sameVersion(atA, c.a) ? 'A' : sameVersion(atA, c.b) ? 'B' : null;
    if (winner === null) return [`conflict at ${c.path} (equal mtimes): A holds neither version but ${describeNode(atA)}`];
  }
  const w = version(winner);
  const loserSide = otherSide(winner);
  const l = version(loserSide);
  for (const s of SIDES) {
    const got = post[s].get(c.path);
    const ok = w.kind === 'dir' ? got?.kind === 'dir' && got.mode === w.mode : sameVersion(got, w);
    if (!ok) v.push(`conflict at ${c.path} (policy ${policy}): winner ${winner} (${describeNode(w)}) expected on ${s}, found ${describeNode(got)}`);
    const parent = parentOfPath(c.path);
    const prefix = `${baseNameOf(c.path)}${CONFLICT_TAG}`;
    const copy = [...post[s]].find(([q, m]) => parentOfPath(q) === parent && baseNameOf(q).startsWith(prefix) && baseNameOf(q).includes(`-${tsyncSide(loserSide)}`) && sameContent(m, l));
    if (copy === undefined) v.push(`conflict at ${c.path} (policy ${policy}): the loser ${loserSide} (${describeNode(l)}) has no conflict copy beside it on ${s}`);
  }
  if (reported === undefined) v.push(`conflict at ${c.path} not reported`);
  else if (reported.resolution !== 'kept-both' || reported.winner !== tsyncSide(winner)) v.push(`conflict at ${c.path} reported as ${reported.resolution}, winner ${reported.winner}; expected kept-both, winner ${tsyncSide(winner)}`);
  return v;
}

/** The base after a run: every path both sides now agree on is recorded; the others keep their old record. */
export function nextBase(base: ModelBase, post: Readonly<Record<SideName, Tree>>): ModelBase {
  const next: ModelBase = new Map(base);
  const keys = new Set([...base.keys(), ...post.A.keys(), ...post.B.keys()]);
  for (const p of keys) {
    const a = post.A.get(p);
    const b = post.B.get(p);
    if (!sameVersion(a, b)) continue;
    if (a === undefined) next.delete(p);
    else next.set(p, { A: a, B: b });
  }
  return next;
}
