// The edits and checks of the crash trials, shared by the local trials (crash.test.ts) and the remote ones
// (remote-crash.test.ts): seeded edits on a converged pair, and what must hold after a disrupted run (no torn
// file, nothing lost) and after the clean re-run (converged to what the edits call for).
export const POLICIES = ['keep-both', 'newer', 'left', 'right', 'skip'] as const;
export type Policy = (typeof POLICIES)[number];
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { conflictOrigin, type Item, isAtOrBelow, type Rng, remove, type Snap, sameContent, sameItem, show, type TreeScale, trashIn, writeBig, writeSmall } from './crash-tree.js';

export const SUMMARY_NOTHING = /^0 copied, 0 dirs created, 0 deleted, 0 metadata updates(, \d+ conflicts?)?, 0 B$/m;

export function changedPaths(before: Snap, after: Snap): number {
  let n = 0;
  for (const [p, i] of before) if (!sameItem(i, after.get(p))) n++;
  for (const p of after.keys()) if (!before.has(p)) n++;
  return n;
}

// ---- two-way ---------------------------------------------------------------------------------------

export interface TwoWayEdits {
  /** Paths that both sides changed differently (conflicts by construction). */
  readonly conflicts: string[];
  /** A directory one side removed whole, with nothing changed below it on the other: it must go. */
  readonly removedDir: string | null;
}

/** Seeded edits on both sides of a converged pair: one-sided changes, conflicts, deletions against edits, big files. */
export function editTwoWay(rng: Rng, A: string, B: string, base: Snap, trial: number, SCALE: TreeScale): TwoWayEdits {
  const conflicts: string[] = [];
  const t = (): number => 1_650_000_000 + rng.int(0, 10_000_000);
  const small = [...base].filter(([p, i]) => i.kind === 'file' && !p.startsWith('big/') && conflictOrigin(p) === null).map(([p]) => p);
  const dirs = [...new Set(small.map((p) => p.slice(0, p.indexOf('/'))))];

  // One side removes a whole directory while the other edits two files in it.
  const doomed = rng.pick(dirs.filter((d) => small.filter((p) => p.startsWith(`${d}/`)).length >= 5));
  const [rmSide, keepSide] = rng.chance(0.5) ? [A, B] : [B, A];
  const inDoomed = small.filter((p) => p.startsWith(`${doomed}/`));
  remove(join(rmSide, doomed));
  for (const p of rng.shuffle(inDoomed).slice(0, 2)) writeSmall(join(keepSide, p), rng, `t${trial} edit in removed dir`);

  // One side removes a whole directory nobody else touches: after the re-run it is gone from both.
  const vanished = rng.pick(dirs.filter((d) => d !== doomed && small.filter((p) => p.startsWith(`${d}/`)).length >= 3));
  remove(join(rng.chance(0.5) ? A : B, vanished));
  const untouchable = (p: string): boolean => p.startsWith(`${doomed}/`) || p.startsWith(`${vanished}/`);
  const livingDirs = dirs.filter((d) => d !== doomed && d !== vanished);

  const pool = rng.shuffle(small.filter((p) => !untouchable(p)));
  const take = (n: number): string[] => pool.splice(0, n);
  for (const p of take(40)) writeSmall(join(A, p), rng, `t${trial} A edit`);
  for (const p of take(40)) writeSmall(join(B, p), rng, `t${trial} B edit`);
  for (const p of take(15)) remove(join(A, p));
  for (const p of take(15)) remove(join(B, p));
  for (const p of take(4)) chmodSync(join(A, p), 0o600);
  for (const p of take(4)) chmodSync(join(B, p), 0o755);
  // both sides, differently: conflicts (some with equal mtimes: the tie-break decides)
  for (const p of take(12)) {
    const ta = t();
    const tb = rng.chance(0.15) ? ta : t();
    writeSmall(join(A, p), rng, `t${trial} A conflicting`, ta);
    writeSmall(join(B, p), rng, `t${trial} B conflicting`, tb);
    conflicts.push(p);
  }
  // edited on one side, deleted on the other: the edit wins
  for (const p of take(4)) {
    writeSmall(join(A, p), rng, `t${trial} A edit vs delete`);
    remove(join(B, p));
  }
  for (const p of take(4)) {
    remove(join(A, p));
    writeSmall(join(B, p), rng, `t${trial} B edit vs delete`);
  }
  // a file replaced by a directory on A while B edits the file
  const replaced = take(1)[0];
  if (replaced !== undefined) {
    remove(join(A, replaced));
    mkdirSync(join(A, replaced));
    for (let i = 0; i < 3; i++) writeSmall(join(A, replaced, `k${i}.txt`), rng, `t${trial} A in replacing dir`);
    writeSmall(join(B, replaced), rng, `t${trial} B edit of replaced file`, t());
    conflicts.push(replaced);
  }
  // new files, in existing and new directories, and one name created on both sides
  for (const [side, tag] of [
    [A, 'a'],
    [B, 'b'],
  ] as const) {
    for (let i = 0; i < 30; i++) writeSmall(join(side, rng.pick(livingDirs), `n${trial}${tag}${i}.txt`), rng, `t${trial} new`);
    mkdirSync(join(side, `t${trial}${tag}`));
    for (let i = 0; i < 15; i++) writeSmall(join(side, `t${trial}${tag}`, `f${i}.txt`), rng, `t${trial} new in new dir`);
  }
  for (let i = 0; i < 3; i++) {
    const p = `${rng.pick(livingDirs)}/both${trial}-${i}.txt`;
    writeSmall(join(A, p), rng, `t${trial} A create`, t());
    writeSmall(join(B, p), rng, `t${trial} B create`, t());
    conflicts.push(p);
  }
  // big files: one edited on each side; often the third on both sides (a 20-50 MiB conflict); sometimes a new one
  const bigs = rng.shuffle(['big/b1.bin', 'big/b2.bin', 'big/b3.bin']);
  writeBig(join(A, bigs[0] as string), rng.int(...SCALE.editBigMiB));
  writeBig(join(B, bigs[1] as string), rng.int(...SCALE.editBigMiB));
  if (rng.chance(0.6)) {
    const ta = t();
    writeBig(join(A, bigs[2] as string), rng.int(...SCALE.editBigMiB), ta);
    writeBig(join(B, bigs[2] as string), rng.int(...SCALE.editBigMiB), rng.chance(0.2) ? ta : t());
    conflicts.push(bigs[2] as string);
  }
  if (rng.chance(0.3)) writeBig(join(rng.chance(0.5) ? A : B, 'big', `new${trial}.bin`), rng.int(SCALE.editBigMiB[0], Math.ceil((SCALE.editBigMiB[0] + SCALE.editBigMiB[1]) / 2)));
  return { conflicts, removedDir: vanished };
}

/** After the kill: no torn file anywhere, no version lost, nothing unchanged moved. */
export function checkAfterKill(base: Snap, pre: Record<'A' | 'B', Snap>, post: Record<'A' | 'B', Snap>, roots: Record<'A' | 'B', string>): string[] {
  const v: string[] = [];
  for (const side of ['A', 'B'] as const) {
    for (const [p, i] of post[side]) {
      if (i.kind !== 'file') continue;
      const origin = conflictOrigin(p);
      const allowed = [pre.A.get(p), pre.B.get(p)];
      if (origin !== null && !pre.A.has(p) && !pre.B.has(p)) allowed.push(pre.A.get(origin), pre.B.get(origin));
      if (!allowed.some((x) => x?.kind === 'file' && x.sha === i.sha)) v.push(`torn or foreign file ${side}/${p}: ${show(i)}; versions before the run: ${allowed.map(show).join(' | ')}`);
    }
  }
  v.push(...checkNothingLost(base, pre, post, 'either', roots));
  return v;
}

/** Every version written since the last sync is at its path, in a conflict copy of it, or in the trash (in A or B, or in both); what nobody changed stays put. */
export function checkNothingLost(base: Snap, pre: Record<'A' | 'B', Snap>, post: Record<'A' | 'B', Snap>, where: 'either' | 'both', roots: Record<'A' | 'B', string>): string[] {
  const v: string[] = [];
  const copiesOf = new Map<string, Item[]>();
  for (const side of ['A', 'B'] as const) {
    for (const [p, i] of post[side]) {
      const o = conflictOrigin(p);
      if (o !== null) copiesOf.set(`${side}:${o}`, [...(copiesOf.get(`${side}:${o}`) ?? []), i]);
    }
  }
  const holds = (side: 'A' | 'B', p: string, i: Item): boolean => sameContent(post[side].get(p), i) || (copiesOf.get(`${side}:${p}`) ?? []).some((c) => sameContent(c, i));
  // A version a policy replaced (newer/left/right) or a run overwrote is kept in that side's trash only.
  const trash = { A: trashIn(roots.A), B: trashIn(roots.B) };
  const trashed = (p: string, i: Item): boolean => [trash.A, trash.B].some((t) => (t.get(p) ?? []).some((c) => sameContent(c, i)));
  for (const side of ['A', 'B'] as const) {
    const other = side === 'A' ? 'B' : 'A';
    for (const [p, i] of pre[side]) {
      if (i.kind === 'dir') continue;
      const changed = !sameItem(i, base.get(p));
      if (changed) {
        const inA = holds('A', p, i);
        const inB = holds('B', p, i);
        const kept = where === 'either' ? inA || inB : inA && inB;
        if (!kept && !trashed(p, i)) v.push(`lost: ${side}/${p} ${show(i)} (in A: ${inA}, in B: ${inB}, in a trash: false)`);
      } else if (sameItem(pre[other].get(p), base.get(p)) && !sameContent(post[side].get(p), i)) {
        v.push(`moved although nobody changed it: ${side}/${p} was ${show(i)}, now ${show(post[side].get(p))}`);
      } else if (!sameItem(pre[other].get(p), base.get(p)) && !sameContent(post[side].get(p), i) && !(trash[side].get(p) ?? []).some((c) => sameContent(c, i))) {
        // the other side edited or deleted p: this side's old version is replaced or removed, into its own trash
        v.push(`old version lost: ${other} changed ${p}, and ${side}'s previous ${show(i)} is neither in place in ${side} nor in ${side}'s trash`);
      }
    }
  }
  return v;
}

/** After the clean re-run: each path holds what the edits call for, on both sides (each side's own under skip). */
export function checkConverged(policy: Policy, base: Snap, pre: Record<'A' | 'B', Snap>, fin: Record<'A' | 'B', Snap>, edits: TwoWayEdits, roots: Record<'A' | 'B', string>): string[] {
  const { conflicts } = edits;
  const v: string[] = [];
  for (const s of ['A', 'B'] as const) {
    const removed = edits.removedDir;
    const left = removed === null ? [] : [...fin[s].keys()].filter((q) => isAtOrBelow(q, removed));
    if (left.length > 0)
      v.push(`${s}/${edits.removedDir}: removed whole on one side, nothing changed below it on the other, but ${left.length} paths are still there: ${left.slice(0, 3).join(', ')}`);
  }
  const frozen = (p: string): boolean => policy === 'skip' && conflicts.some((c) => isAtOrBelow(p, c));
  const keys = [...new Set([...base.keys(), ...pre.A.keys(), ...pre.B.keys(), ...fin.A.keys(), ...fin.B.keys()])].sort();
  const expectAt = (p: string, want: Item | undefined, how: 'item' | 'content'): void => {
    for (const s of ['A', 'B'] as const) {
      const got = fin[s].get(p);
      if (want?.kind === 'dir') {
        if (got?.kind !== 'dir') v.push(`${s}/${p}: expected a directory, found ${show(got)}`);
        continue;
      }
      if (want === undefined && got?.kind === 'dir') {
        // a directory outlives its deletion only while something below it survives (each such path is checked itself)
        if (![...fin[s].keys()].some((q) => isAtOrBelow(q, p) && q !== p)) v.push(`${s}/${p}: a directory the edits delete is still there, empty`);
        continue;
      }
      if (!(how === 'item' ? sameItem(got, want) : sameContent(got, want))) v.push(`${s}/${p}: expected ${show(want)}, found ${show(got)}`);
    }
  };
  for (const p of keys) {
    const o = base.get(p);
    const a = pre.A.get(p);
    const b = pre.B.get(p);
    if (frozen(p)) {
      for (const [s, was] of [
        ['A', a],
        ['B', b],
      ] as const)
        if (!sameItem(fin[s].get(p), was)) v.push(`skip: ${s}/${p} is at or below a skipped conflict but changed: ${show(was)} -> ${show(fin[s].get(p))}`);
      continue;
    }
    if (conflictOrigin(p) !== null && o === undefined && a === undefined && b === undefined) {
      // a conflict copy made by these runs: must hold a version of its origin (checked below) and be on both sides
      if (!sameItem(fin.A.get(p), fin.B.get(p))) v.push(`conflict copy ${p} differs: A ${show(fin.A.get(p))}, B ${show(fin.B.get(p))}`);
      const origin = conflictOrigin(p) as string;
      if (![pre.A.get(origin), pre.B.get(origin)].some((x) => sameContent(x, fin.A.get(p)))) v.push(`conflict copy ${p} holds ${show(fin.A.get(p))}, no version of ${origin}`);
      continue;
    }
    const cA = !sameItem(a, o);
    const cB = !sameItem(b, o);
    if (!cA && !cB) expectAt(p, o, 'item');
    else if (cA && !cB) expectAt(p, a, 'item');
    else if (!cA && cB) expectAt(p, b, 'item');
    else if (a === undefined) expectAt(p, b, 'item');
    else if (b === undefined) expectAt(p, a, 'item');
    else if (sameContent(a, b)) expectAt(p, a, 'content');
    else {
      let winner: 'A' | 'B' | null;
      if (a.kind === 'dir') winner = 'A';
      else if (b.kind === 'dir') winner = 'B';
      else if (policy === 'left') winner = 'A';
      else if (policy === 'right') winner = 'B';
      else winner = a.mtimeNs > b.mtimeNs ? 'A' : b.mtimeNs > a.mtimeNs ? 'B' : sameContent(fin.A.get(p), a) ? 'A' : 'B';
      const w = winner === 'A' ? a : b;
      const l = winner === 'A' ? b : a;
      expectAt(p, w, 'item');
      if (policy === 'keep-both') {
        for (const s of ['A', 'B'] as const) {
          const copies = [...fin[s]].filter(([q]) => conflictOrigin(q) === p && !base.has(q));
          if (!copies.some(([, c]) => sameContent(c, l)))
            v.push(`${s}: conflict at ${p}: the loser ${show(l)} has no conflict copy (copies: ${copies.map(([q, c]) => `${q} ${show(c)}`).join(', ') || 'none'})`);
        }
      } else {
        // newer/left/right: the loser goes to the losing side's trash
        const loserSide = winner === 'A' ? 'B' : 'A';
        if (!(trashIn(roots[loserSide]).get(p) ?? []).some((c) => sameContent(c, l))) v.push(`${loserSide}: conflict at ${p}: the loser ${show(l)} is not in the trash`);
      }
    }
  }
  return v;
}

export function editOneWay(rng: Rng, A: string, B: string, base: Snap, trial: number, SCALE: TreeScale): void {
  const small = [...base].filter(([p, i]) => i.kind === 'file' && !p.startsWith('big/')).map(([p]) => p);
  const dirs = [...new Set(small.map((p) => p.slice(0, p.indexOf('/'))))];
  const pool = rng.shuffle(small);
  const take = (n: number): string[] => pool.splice(0, n);
  for (const p of take(60)) writeSmall(join(A, p), rng, `t${trial} source edit`);
  for (const p of take(30)) remove(join(A, p));
  for (const p of take(5)) chmodSync(join(A, p), 0o640);
  for (let i = 0; i < 40; i++) writeSmall(join(A, rng.pick(dirs), `n${trial}-${i}.txt`), rng, `t${trial} source new`);
  mkdirSync(join(A, `t${trial}`));
  for (let i = 0; i < 15; i++) writeSmall(join(A, `t${trial}`, `f${i}.txt`), rng, `t${trial} source new dir`);
  // the replica drifted: edits, extras and deletions there are all undone
  for (const p of take(10)) writeSmall(join(B, p), rng, `t${trial} replica edit`);
  for (let i = 0; i < 10; i++) writeSmall(join(B, rng.pick(dirs), `extra${trial}-${i}.txt`), rng, `t${trial} replica extra`);
  for (const p of take(5)) remove(join(B, p));
  for (const p of take(3)) chmodSync(join(B, p), 0o600);
  const bigs = rng.shuffle(['big/b1.bin', 'big/b2.bin', 'big/b3.bin']);
  writeBig(join(A, bigs[0] as string), rng.int(...SCALE.editBigMiB));
  if (rng.chance(0.5)) writeBig(join(A, bigs[1] as string), rng.int(...SCALE.editBigMiB));
  if (rng.chance(0.3)) writeBig(join(B, bigs[2] as string), rng.int(SCALE.editBigMiB[0], Math.ceil((SCALE.editBigMiB[0] + SCALE.editBigMiB[1]) / 2))); // the replica's big file drifted
  if (rng.chance(0.3)) writeBig(join(A, 'big', `new${trial}.bin`), rng.int(SCALE.editBigMiB[0], Math.ceil((SCALE.editBigMiB[0] + SCALE.editBigMiB[1]) / 2)));
}

/** The replica is the source exactly: kind, bytes, link target, mode and mtime (to the microsecond, dirs too). */
export function mirrorDiffs(src: Snap, dst: Snap): string[] {
  const v: string[] = [];
  for (const p of [...new Set([...src.keys(), ...dst.keys()])].sort()) {
    const s = src.get(p);
    const d = dst.get(p);
    if (!sameItem(s, d)) v.push(`${p}: source ${show(s)}, replica ${show(d)}`);
    else if (s !== undefined && d !== undefined && s.kind !== 'symlink' && s.mtimeNs / 1000n !== d.mtimeNs / 1000n) v.push(`${p}: mtime ${s.mtimeNs} != ${d.mtimeNs}`);
  }
  return v;
}
