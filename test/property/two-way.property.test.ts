// Property-based tests of two-way sync: random histories of user operations on two REAL trees, with a
// REAL state index, interleaved with in-process runs of `runSync`. After every run the trees and their
// trashes are checked against a model (helpers/two-way-model.ts, helpers/expected-tree.ts): each tree
// holds what the model's own reconcile expects (metadata merged field by field where both sides keep the same
// content: modes, and the mtimes of files and symlinks, converge) and nothing else (new names: only the conflict copies it
// expects), untouched paths stay as they were, the conflicts reported are the ones it expects, resolved
// as it says, the overwritten, deleted and losing versions are in the trash (when on), nothing written
// since the last run is lost, and a second run changes nothing.
//
// The histories run in four groups, trash on or off (--no-trash) crossed with the flush on or off
// (--no-fsync), the budget split between them.
// PROPERTY_RUNS: number of histories in all (default 400, about 25 s on 2 cores; `npm run test:long`: 10,000).
// PROPERTY_SEED: the seed of every group (default: a random one, printed once, so that a passing run can be named
// and repeated too). PROPERTY_PATH with it replays a failure that fast-check reported, e.g.
//   PROPERTY_SEED=-82504409 PROPERTY_PATH="36:3:2:3" PROPERTY_GROUP="trash, no flush" npx vitest run test/property
// PROPERTY_GROUP: run only the group of that name.
// PROPERTY_STATS: print coverage figures (operations applied, actions, conflicts by kind).
import fc from 'fast-check';
import { lutimesSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../../src/core/types.js';
import { runSync, type RunSummary, type SyncSettings } from '../../src/sync/run-loop.js';
import { removeTempDir } from '../helpers/cli.js';
import { applyOp, metaPairArb, opArb, SENTINEL, T0, type Op, type OpContext, type SideName } from './helpers/ops.js';
import { describeNode, describeTree, identityDiffs, isConflictCopy, ownNames, sameContent, snapshot, trashSnapshot, type Tree } from './helpers/snapshot.js';
import { modelWinner } from './helpers/expected-tree.js';
import { checkRound, nextBase, type ModelBase } from './helpers/two-way-model.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 400);
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`PROPERTY_SEED=${SEED} (PROPERTY_RUNS=${RUNS})`);
const PATH = process.env.PROPERTY_PATH;
const GROUP = process.env.PROPERTY_GROUP;

/** How a group runs tsync: with or without the trash, with or without the flush to disk. */
interface Group {
  readonly name: string;
  readonly trash: boolean;
  readonly flush: boolean;
}

/** Run side by side: a run spends much of its time waiting (racy-clean checks, the flush). */
const GROUPS: readonly Group[] = [
  { name: 'trash, no flush', trash: true, flush: false },
  { name: 'no trash, no flush', trash: false, flush: false },
  { name: 'trash, flush', trash: true, flush: true },
  { name: 'no trash, flush', trash: false, flush: true },
];

interface Round {
  readonly ops: readonly Op[];
  readonly policy: ConflictPolicy;
  /**
   * Wait out the racy-clean window before the second run, so that it records every stat as able to
   * vouch for its content: the next round's edits (same size, mtime put back) must be seen by ctime.
   * Otherwise the next edits land while the records are still "racily clean" and force re-hashing.
   */
  readonly settle: boolean;
  /** Run `sync B A` instead of `sync A B`: the same pair, the same index, the roots the other way round. */
  readonly swap: boolean;
}

const roundArb: fc.Arbitrary<Round> = fc.record({
  ops: fc.array(fc.oneof({ weight: 4, arbitrary: opArb.map((op) => [op]) }, { weight: 1, arbitrary: metaPairArb }), { maxLength: 8 }).map((groups) => groups.flat()),
  policy: fc.constantFrom(...CONFLICT_POLICIES),
  settle: fc.boolean(),
  swap: fc.boolean(),
});

const historyArb: fc.Arbitrary<Round[]> = fc.array(roundArb, { minLength: 1, maxLength: 6 });

function settings(dir: string, policy: ConflictPolicy, swap: boolean, group: Group): SyncSettings {
  return {
    left: join(dir, swap ? 'B' : 'A'),
    right: join(dir, swap ? 'A' : 'B'),
    mode: 'two-way',
    policy,
    stateDir: join(dir, 'state'),
    checksum: false,
    dryRun: false,
    force: false,
    deleteLimit: { kind: 'percent', percent: 100 },
    concurrency: 4,
    waitSeconds: 0,
    flush: group.flush,
    filters: { exclude: [], include: [] },
    // With the trash on, losers of newer/left/right go to the losing side's trash; off, they stay conflict copies.
    trash: { enabled: group.trash, keepMs: 30 * 86_400_000 },
  };
}

function describeRun(s: RunSummary): string {
  const actions = Array.from(
    s.outcomes,
    (o) => `  ${o.status} ${o.action.type} ${o.action.target} ${o.action.path}${o.action.type === 'conflict' ? ` (winner ${o.action.conflict.winner}, copy ${o.action.copyName})` : ''}`,
  );
  const conflicts = s.plan.conflicts.map((c) => `  ${c.path}: ${c.resolution}, winner ${c.winner}, copy ${c.copyName}`);
  return `actions:\n${actions.join('\n') || '  (none)'}\nconflicts:\n${conflicts.join('\n') || '  (none)'}\nunresolvedConflicts: ${s.unresolvedConflicts}`;
}

/** Coverage figures, printed when PROPERTY_STATS is set: are the histories interesting? */
const stats = new Map<string, number>();
const count = (k: string, n = 1): void => {
  stats.set(k, (stats.get(k) ?? 0) + n);
};

async function runHistory(rounds: readonly Round[], group: Group): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsync-prop-'));
  try {
    const roots: Record<SideName, string> = { A: join(dir, 'A'), B: join(dir, 'B') };
    for (const root of Object.values(roots)) {
      mkdirSync(root);
      writeFileSync(join(root, SENTINEL), 'never touched\n');
      utimesSync(join(root, SENTINEL), T0 - 5000, T0 - 5000);
    }
    const ctx: OpContext = { roots, contentCounter: 0, seqCounter: 0 };
    let base: ModelBase = new Map();
    for (const [i, round] of rounds.entries()) {
      const applied = round.ops.map((op) => {
        const ok = applyOp(ctx, op);
        count(`op ${op.t} ${ok ? 'applied' : 'no-op'}`);
        return `  ${ok ? 'applied' : 'no-op  '} ${JSON.stringify(op)}`;
      });
      const pre = { A: snapshot(roots.A), B: snapshot(roots.B) };
      const trashBefore = { A: trashSnapshot(roots.A), B: trashSnapshot(roots.B) };
      const sync = async (which: string): Promise<RunSummary> => {
        try {
          return await runSync(settings(dir, round.policy, round.swap, group));
        } catch (e) {
          const show = (t: Tree): string => describeTree(t) || '  (empty)';
          throw new Error(
            `round ${i + 1}: the ${which} run threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\noperations:\n${applied.join('\n')}\nA before:\n${show(pre.A)}\nB before:\n${show(pre.B)}`,
          );
        }
      };
      const startedMs = Date.now();
      const first = await sync('first');
      const endedMs = Date.now();
      const post = { A: snapshot(roots.A), B: snapshot(roots.B) };
      const trashAfter = { A: trashSnapshot(roots.A), B: trashSnapshot(roots.B) };
      count('syncs');
      for (const o of first.outcomes) count(`action ${o.action.type} ${o.status}`);
      for (const c of first.plan.conflicts)
        count(`conflict ${c.resolution} ${c.left.kind}-vs-${c.right.kind}${c.left.kind === 'file' && c.right.kind === 'file' && c.left.mtimeNs === c.right.mtimeNs ? ' equal-mtime' : ''}`);
      const violations = checkRound({
        policy: round.policy,
        leftRoot: round.swap ? 'B' : 'A',
        trash: group.trash,
        base,
        pre,
        post,
        trashBefore,
        trashAfter,
        startedMs,
        endedMs,
        summary: first,
      });
      for (const side of ['A', 'B'] as const) {
        const left = ownNames(roots[side]);
        if (left.length > 0) violations.push(`tsync names left in ${side}: ${left.join(', ')}`);
      }

      // Idempotence: a second run (right away, or once the racy window passed) applies nothing and touches nothing.
      if (round.settle) await new Promise((r) => setTimeout(r, 60));
      const second = await sync('second');
      const again = { A: snapshot(roots.A), B: snapshot(roots.B) };
      if (second.outcomes.length > 0) violations.push(`idempotence: the second run applied actions\n${describeRun(second)}`);
      for (const side of ['A', 'B'] as const) {
        for (const d of identityDiffs(post[side], again[side])) violations.push(`idempotence: second run changed ${side}/${d}`);
      }

      if (violations.length > 0) {
        const show = (t: Tree): string => describeTree(t) || '  (empty)';
        throw new Error(
          [
            `round ${i + 1} of ${rounds.length}: sync ${round.swap ? 'B A' : 'A B'}, policy ${round.policy}, ${group.name}:`,
            ...violations.map((x) => `- ${x}`),
            `operations:\n${applied.join('\n') || '  (none)'}`,
            `A before:\n${show(pre.A)}`,
            `B before:\n${show(pre.B)}`,
            `A after:\n${show(post.A)}`,
            `B after:\n${show(post.B)}`,
            describeRun(first),
          ].join('\n'),
        );
      }
      base = nextBase(base, post);
    }
  } finally {
    removeTempDir(dir);
  }
}

describe('two-way sync, random histories on real trees', () => {
  afterAll(() => {
    if (process.env.PROPERTY_STATS === undefined) return;
    console.log(
      [...stats]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n'),
    );
  });
  const groups = GROUPS.filter((g) => GROUP === undefined || g.name === GROUP);
  const perGroup = Math.ceil(RUNS / GROUPS.length);
  // Generous: a failure shrinks through many more histories than the runs themselves.
  const timeout = 120_000 + perGroup * 2_000;
  for (const group of groups) {
    test.concurrent(
      `matches the model, loses nothing, keeps losers, is idempotent (${perGroup} histories, ${group.name})`,
      async () => {
        await fc.assert(
          fc.asyncProperty(historyArb, (h) => runHistory(h, group)),
          { numRuns: perGroup, seed: SEED, ...(PATH === undefined ? {} : { path: PATH, endOnFailure: true }) },
        );
      },
      timeout,
    );
  }
});

/** The order test keeps every loser in sight: as a conflict copy. */
const NO_TRASH = GROUPS[1] as Group;

/** One side's version of the contested path: a file or a symlink, with an mtime from a small range (ties are common). */
interface Version {
  readonly kind: 'file' | 'symlink';
  readonly text: string;
  readonly mtime: number;
}

const versionArb: fc.Arbitrary<Version> = fc.record({
  kind: fc.constantFrom<'file' | 'symlink'>('file', 'file', 'file', 'symlink'),
  text: fc.constantFrom('alpha', 'beta', 'gamma', 'delta-longer', ''),
  mtime: fc.integer({ min: 0, max: 2 }).map((n) => T0 + n),
});

function putVersion(abs: string, v: Version): void {
  if (v.kind === 'file') {
    writeFileSync(abs, v.text);
    utimesSync(abs, v.mtime, v.mtime);
  } else {
    symlinkSync(v.text === '' ? 'empty-target' : v.text, abs);
    lutimesSync(abs, v.mtime, v.mtime);
  }
}

/**
 * The same conflict, synced as `sync A B` on one pair of trees and as `sync B A` on an identical pair:
 * the version that keeps the name must be the same (keep-both/newer: newer mtime, then a tie-break
 * that must not depend on the order of the roots), and both pairs must end up holding the same versions.
 */
async function sameWinnerEitherOrder(c: { a: Version; b: Version; policy: 'keep-both' | 'newer'; withBase: boolean }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsync-order-'));
  try {
    const results: Tree[][] = [];
    let before: [Tree, Tree] | null = null;
    for (const swap of [false, true]) {
      const pair = join(dir, swap ? 'swapped' : 'straight');
      mkdirSync(pair);
      for (const side of ['A', 'B']) {
        mkdirSync(join(pair, side));
        writeFileSync(join(pair, side, SENTINEL), 'never touched\n');
        if (c.withBase) writeFileSync(join(pair, side, 'p'), 'the common ancestor');
      }
      if (c.withBase) await runSync(settings(pair, c.policy, swap, NO_TRASH));
      for (const [side, v] of [
        ['A', c.a],
        ['B', c.b],
      ] as const) {
        if (c.withBase) rmSync(join(pair, side, 'p'));
        putVersion(join(pair, side, 'p'), v);
      }
      if (!swap) before = [snapshot(join(pair, 'A')), snapshot(join(pair, 'B'))];
      await runSync(settings(pair, c.policy, swap, NO_TRASH));
      results.push([snapshot(join(pair, 'A')), snapshot(join(pair, 'B'))]);
    }
    const [[a1, b1], [a2, b2]] = results as [[Tree, Tree], [Tree, Tree]];
    const problems: string[] = [];
    // The model's own rule names the winner (newer mtime, then the tie key): not just "both orders agree".
    const [preA, preB] = before ?? [new Map(), new Map()];
    const va = preA.get('p');
    const vb = preB.get('p');
    if (va !== undefined && vb !== undefined && !sameContent(va, vb)) {
      const w = modelWinner(va, vb, c.policy, 'A') === 'A' ? va : vb;
      if (!sameContent(a1.get('p'), w)) problems.push(`the model's winner is ${describeNode(w)}, A after sync A B has ${describeNode(a1.get('p'))}`);
    }
    for (const [name, t] of [
      ['A after sync A B', a1],
      ['B after sync A B', b1],
      ['A after sync B A', a2],
      ['B after sync B A', b2],
    ] as const) {
      if (!sameContent(t.get('p'), a1.get('p'))) problems.push(`${name}: p is ${describeNode(t.get('p'))}, A after sync A B has ${describeNode(a1.get('p'))}`);
    }
    const copies = (t: Tree): string[] =>
      [...t]
        .filter(([q]) => isConflictCopy(q))
        .map(([, n]) => describeNode({ ...n, mtimeNs: 0n, ctimeNs: 0n, ino: 0n, mode: 0 }))
        .sort();
    if (JSON.stringify(copies(a1)) !== JSON.stringify(copies(a2)))
      problems.push(`conflict copies differ: sync A B kept ${JSON.stringify(copies(a1))}, sync B A kept ${JSON.stringify(copies(a2))}`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  } finally {
    removeTempDir(dir);
  }
}

describe('two-way sync, the order of the roots', () => {
  test.concurrent(
    `the conflict winner does not depend on which root comes first (${Math.ceil(RUNS / 2)} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.record({ a: versionArb, b: versionArb, policy: fc.constantFrom<'keep-both' | 'newer'>('keep-both', 'newer'), withBase: fc.boolean() }), (c) =>
          sameWinnerEitherOrder(c),
        ),
        { numRuns: Math.ceil(RUNS / 2), seed: SEED, ...(PATH === undefined ? {} : { path: PATH, endOnFailure: true }) },
      );
    },
    120_000 + RUNS * 1_000,
  );
});
