// The model the two-way property checks a sync against. It keeps what tsync's base should be (per
// path: each side's state when both last agreed), works out from its own rules what the run must do
// (expected-tree.ts), and from the trees and trashes before and after one run lists every way the run
// differs: the expected tree, nothing invented, the conflicts, the trash, plus plain properties
// (untouched paths stay, convergence, nothing lost, one-sided changes reach the other side) that do
// not lean on the model's reconcile, so a mistake shared by the model and the planner still shows.
import type { ConflictPolicy, Side } from '../../../src/core/types.js';
import type { RunSummary } from '../../../src/sync/run-loop.js';
import { allKeys, expectRun, otherSide, SIDES, type Expectation, type ExpectedConflict, type ModelBase } from './expected-tree.js';
import type { SideName } from './ops.js';
import { baseNameOf, describeNode, isBelow, isConflictCopy, parentOfPath, sameContent, sameMtime, sameVersion, unchanged, type Node, type TrashItem, type Tree } from './snapshot.js';

export type { ModelBase } from './expected-tree.js';

export interface RoundInput {
  readonly policy: ConflictPolicy;
  /** Which tree the run took as its first root (`sync A B` or `sync B A`). */
  readonly leftRoot: SideName;
  /** Whether the run kept overwritten and deleted versions in a trash (off: --no-trash). */
  readonly trash: boolean;
  readonly base: ModelBase;
  readonly pre: Readonly<Record<SideName, Tree>>;
  readonly post: Readonly<Record<SideName, Tree>>;
  readonly trashBefore: Readonly<Record<SideName, readonly TrashItem[]>>;
  readonly trashAfter: Readonly<Record<SideName, readonly TrashItem[]>>;
  /** The run's clock (ms) before and after it: a conflict copy's time stamp falls in between. */
  readonly startedMs: number;
  readonly endedMs: number;
  readonly summary: RunSummary;
}

function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

export function changedSince(base: ModelBase, pre: Readonly<Record<SideName, Tree>>, side: SideName, p: string): boolean {
  return !unchanged(pre[side].get(p), base.get(p)?.[side]);
}

/** Every violated property of one run, as lines for a human (empty: the run was correct). */
export function checkRound(r: RoundInput): string[] {
  const expectation = expectRun(r);
  const newTrash = { A: newItems(r.trashBefore.A, r.trashAfter.A), B: newItems(r.trashBefore.B, r.trashAfter.B) };
  const copies = findCopies(r, expectation);
  return [
    ...r.summary.problems.map((pr) => `problem reported: ${pr.side} ${pr.code}: ${pr.message}`), // nothing here is unreadable, special or raced
    ...checkUntouched(r),
    ...checkExpectedTree(r, expectation),
    ...copies.violations,
    ...checkReportedConflicts(r, expectation, copies.names),
    ...checkTrash(r, expectation, newTrash),
    ...checkProperties(r, expectation, newTrash),
  ];
}

/**
 * A path nobody changed since the last sync (same as the base on both sides) is as it was: same kind,
 * same bytes or link target, same mode, on both sides. Needs no model reconcile: nothing may touch it.
 */
function checkUntouched({ base, pre, post }: RoundInput): string[] {
  const v: string[] = [];
  for (const p of base.keys()) {
    if (changedSince(base, pre, 'A', p) || changedSince(base, pre, 'B', p)) continue;
    for (const s of SIDES) {
      if (!sameVersion(post[s].get(p), pre[s].get(p)))
        v.push(`untouched: nobody changed ${p} since the last sync, but ${s} went from ${describeNode(pre[s].get(p))} to ${describeNode(post[s].get(p))}`);
    }
  }
  return v;
}

/**
 * Every path the model knows holds on each side exactly what the model expects: kind, bytes, mode, and
 * the mtime of a moved file or of a file or symlink whose metadata the model merged.
 */
function checkExpectedTree({ post }: RoundInput, { paths }: Expectation): string[] {
  const v: string[] = [];
  for (const [p, e] of paths) {
    for (const s of SIDES) {
      const want = e.after[s];
      const got = post[s].get(p);
      if (want === undefined && got !== undefined) {
        v.push(`expected tree: ${p} must be absent on ${s}, found ${describeNode(got)}`);
        continue;
      }
      if (want === undefined || got === undefined) {
        if (got === undefined && want !== undefined) v.push(`expected tree: ${p} missing on ${s}, expected ${describeNode(want)}`);
        continue;
      }
      if (!sameContent(got, want)) v.push(`expected tree: ${p} on ${s} holds ${describeNode(got)}, expected ${describeNode(want)}`);
      else if (want.kind !== 'symlink' && got.mode !== want.mode) v.push(`expected tree: ${p} on ${s} has mode 0${got.mode.toString(8)}, expected 0${want.mode.toString(8)}`);
      else if (((want.kind === 'file' && e.from !== null) || (want.kind !== 'dir' && e.merged)) && !sameMtime(got.mtimeNs, want.mtimeNs))
        v.push(`expected tree: ${p} on ${s} has mtime ${got.mtimeNs}, expected ${want.mtimeNs} (${e.merged ? 'merged' : `from ${e.from}`})`);
    }
  }
  return v;
}

/** `<stem>.tsync-conflict-YYYYMMDD-HHMMSS-<side>[-N]<ext>` beside the conflict (the stem is what precedes the name's last dot, if not at its start). */
function copyNamePattern(path: string, loser: Side): RegExp {
  const name = baseNameOf(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(stem)}\\.tsync-conflict-(\\d{8}-\\d{6})-${loser}(?:-\\d+)?${esc(ext)}$`);
}

function stampSeconds(stamp: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)$/.exec(stamp);
  if (m === null) return Number.NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

/**
 * Nothing invented: every path after the run that was nowhere before it is the conflict copy of a
 * conflict the model expected to keep its loser beside it, on both sides, under one name, holding the
 * loser, stamped with the run's time. Returns the copy's name per conflict path.
 */
function findCopies(r: RoundInput, { paths, conflicts }: Expectation): { violations: string[]; names: Map<string, string> } {
  const v: string[] = [];
  const names = new Map<string, string>();
  const tsyncSide = (s: SideName): Side => (s === r.leftRoot ? 'left' : 'right');
  const fresh = { A: [...r.post.A.keys()].filter((p) => !paths.has(p)), B: [...r.post.B.keys()].filter((p) => !paths.has(p)) };
  const claimed = new Set<string>();
  for (const c of conflicts) {
    if (c.keeping !== 'copy' || c.winner === null) continue;
    const loserSide = otherSide(c.winner);
    const loser = loserSide === 'A' ? c.a : c.b;
    const pattern = copyNamePattern(c.path, tsyncSide(loserSide));
    const found: string[] = [];
    for (const s of SIDES) {
      const matches = fresh[s].filter((q) => parentOfPath(q) === parentOfPath(c.path) && pattern.test(baseNameOf(q)) && sameContent(r.post[s].get(q), loser));
      if (matches.length !== 1) {
        v.push(`conflict copy: ${c.path}: the loser ${loserSide} (${describeNode(loser)}) must be kept beside it once on ${s}, found ${matches.length} copies`);
        continue;
      }
      const q = matches[0] as string;
      found.push(q);
      claimed.add(`${s}:${q}`);
      const at = stampSeconds(pattern.exec(baseNameOf(q))?.[1] ?? '');
      if (!(at >= Math.floor(r.startedMs / 1000) && at <= Math.floor(r.endedMs / 1000))) v.push(`conflict copy: ${q} on ${s} is not stamped with the run's time`);
    }
    if (found.length === 2 && found[0] !== found[1]) v.push(`conflict copy: ${c.path}: A keeps it as ${found[0]}, B as ${found[1]}`);
    if (found[0] !== undefined) names.set(c.path, found[0]);
  }
  for (const s of SIDES) {
    for (const q of fresh[s]) {
      if (claimed.has(`${s}:${q}`)) continue;
      v.push(`invented: ${q} on ${s} (${describeNode(r.post[s].get(q))}) is in neither tree before the run nor an expected conflict copy`);
    }
  }
  return { violations: v, names };
}

/** Every conflict the run reports is one the model expected, resolved as the model says, and the other way round. */
function checkReportedConflicts(r: RoundInput, { conflicts }: Expectation, copyNames: ReadonlyMap<string, string>): string[] {
  const v: string[] = [];
  const tsyncSide = (s: SideName): Side => (s === r.leftRoot ? 'left' : 'right');
  const reported = new Map(r.summary.plan.conflicts.map((c) => [c.path as string, c]));
  const expected = new Map(conflicts.map((c) => [c.path, c]));
  for (const c of conflicts) {
    const got = reported.get(c.path);
    const resolution = c.winner === null ? 'skipped' : c.keeping === 'copy' ? 'kept-both' : 'loser-trashed';
    const winner = c.winner === null ? null : tsyncSide(c.winner);
    if (got === undefined) v.push(`conflicts: expected a conflict at ${c.path} (${resolution}, winner ${winner}), none reported (A ${describeNode(c.a)}, B ${describeNode(c.b)})`);
    else if (got.resolution !== resolution || got.winner !== winner)
      v.push(`conflicts: ${c.path} reported as ${got.resolution}, winner ${got.winner}; expected ${resolution}, winner ${winner}`);
    else if (resolution === 'kept-both' && copyNames.has(c.path) && got.copyName !== copyNames.get(c.path))
      v.push(`conflicts: ${c.path} reports its copy as ${got.copyName}, the trees hold ${copyNames.get(c.path)}`);
  }
  for (const [p, got] of reported) if (!expected.has(p)) v.push(`conflicts: ${p} reported (${got.resolution}, winner ${got.winner}) but the model expected no conflict there`);
  const skipped = conflicts.filter((c) => c.winner === null).length;
  if (r.summary.unresolvedConflicts !== skipped) v.push(`conflicts: unresolvedConflicts is ${r.summary.unresolvedConflicts}, the model left ${skipped} unresolved`);
  return v;
}

function newItems(before: readonly TrashItem[], after: readonly TrashItem[]): TrashItem[] {
  const had = new Set(before.map((t) => t.stored));
  return after.filter((t) => !had.has(t.stored));
}

/**
 * With the trash on, every file or symlink the run overwrote or deleted on a side (a conflict's loser
 * included) is in that side's trash, under its path. With it off, the run adds nothing to any trash.
 */
function checkTrash(r: RoundInput, { paths, conflicts }: Expectation, fresh: Readonly<Record<SideName, readonly TrashItem[]>>): string[] {
  const v: string[] = [];
  if (!r.trash) {
    for (const s of SIDES) for (const t of fresh[s]) v.push(`trash: --no-trash, but ${s}'s trash gained ${t.stored} (${describeNode(t.node)})`);
    return v;
  }
  const conflictAt = new Map<string, ExpectedConflict>(conflicts.map((c) => [c.path, c]));
  for (const [p, e] of paths) {
    if (e.frozen) continue;
    for (const s of SIDES) {
      const old = r.pre[s].get(p);
      if (old === undefined || old.kind === 'dir' || sameContent(e.after[s], old)) continue;
      if (fresh[s].some((t) => t.path === p && sameContent(t.node, old))) continue;
      const c = conflictAt.get(p);
      const what = c !== undefined && c.winner !== null && c.winner !== s ? `the conflict loser` : e.after[s] === undefined ? 'the deleted version' : 'the overwritten version';
      v.push(`trash: ${what} ${describeNode(old)} at ${p} is not in ${s}'s trash (it gained: ${fresh[s].map((t) => t.stored).join(', ') || 'nothing'})`);
    }
  }
  return v;
}

/** Properties that do not lean on the model's reconcile (only on which paths it leaves alone under skip). */
function checkProperties(r: RoundInput, { paths }: Expectation, newTrash: Readonly<Record<SideName, readonly TrashItem[]>>): string[] {
  const { policy, base, pre, post } = r;
  const v: string[] = [];
  const keys = allKeys(base, pre);
  const changed = (side: SideName, p: string): boolean => changedSince(base, pre, side, p);
  const frozen = (p: string): boolean => paths.get(p)?.frozen === true;

  // Convergence (except where policy skip leaves a conflict, and what lies below it, as it was).
  const postKeys = new Set([...post.A.keys(), ...post.B.keys()]);
  for (const p of [...postKeys].sort()) {
    if (frozen(p)) continue;
    const a = post.A.get(p);
    const b = post.B.get(p);
    if (!sameVersion(a, b)) v.push(`convergence: ${p}: A has ${describeNode(a)}, B has ${describeNode(b)}`);
    // mtimes too (files and symlinks: directory mtimes are not synced two-way)
    else if (a !== undefined && b !== undefined && a.kind !== 'dir' && !sameMtime(a.mtimeNs, b.mtimeNs))
      v.push(`convergence: ${p}: same ${a.kind === 'file' ? 'bytes' : 'target'}, but A has mtime ${a.mtimeNs}, B has ${b.mtimeNs}`);
  }

  // Nothing lost: every version written since the last sync survives, at its path or as a conflict
  // copy, on both sides (skip: on at least one), or, a conflict's loser, in its own side's trash.
  const holds = (t: Tree, p: string, n: Node): boolean => sameContent(t.get(p), n) || [...t].some(([q, m]) => isConflictCopy(q) && sameContent(m, n));
  for (const side of SIDES) {
    for (const [p, n] of pre[side]) {
      if (n.kind === 'dir' || !changed(side, p)) continue;
      const inA = holds(post.A, p, n);
      const inB = holds(post.B, p, n);
      const trashed = newTrash[side].some((t) => t.path === p && sameContent(t.node, n));
      const ok = policy === 'skip' ? inA || inB : (inA && inB) || trashed;
      if (!ok) v.push(`safety: the version ${describeNode(n)} written at ${p} on ${side} is lost (in A: ${inA}, in B: ${inB}, in ${side}'s trash: ${trashed})`);
    }
  }

  // Policy skip leaves a conflict and everything below it as it is.
  for (const p of keys) {
    if (!frozen(p)) continue;
    for (const s of SIDES) {
      if (!sameVersion(post[s].get(p), pre[s].get(p)))
        v.push(`skip: ${p} is at or below a skipped conflict but changed on ${s}: ${describeNode(pre[s].get(p))} -> ${describeNode(post[s].get(p))}`);
    }
  }

  // Maximality: a change on one side, with nothing changed at, above or below that path on the
  // other side, is on both sides afterwards (mtime included for files).
  for (const side of SIDES) {
    const other = otherSide(side);
    for (const p of keys) {
      if (!changed(side, p) || frozen(p)) continue;
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
      if (kept === undefined || pre[other].get(p) !== undefined || !changed(side, p) || !changed(other, p) || frozen(p)) continue;
      if (ancestorsOf(p).some((q) => frozen(q))) continue;
      for (const s of SIDES) {
        const got = post[s].get(p);
        if (!sameVersion(got, kept)) v.push(`delete-vs-change: ${p} changed on ${side} (to ${describeNode(kept)}), deleted on ${other}, but ${s} has ${describeNode(got)}`);
      }
    }
  }
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
