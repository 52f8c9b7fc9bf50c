// Crash and fault trials: the built CLI is SIGKILLed at a random moment of a sync (small files in a few
// directories, big files over the streamed-copy limit, edits on both sides, conflicts), in four families:
// two-way and one-way, each as a first sync into an empty tree and as incremental runs; and, in two more
// families, runs to their end with random errno faults injected (fault-layer.mjs). After every run:
//   - no torn file: every file at a final path holds exactly one version that existed before the run
//     (at that path on either side; for a conflict copy, a version of the path it copies);
//   - nothing lost: every version written since the last sync is still in A or B (at its path, as a
//     conflict copy or in a side's trash), what nobody changed is still where it was, and where one side
//     edited or deleted a path the other side's old version is still in place there or in its own trash;
// then a clean re-run exits 0 (3 under --conflict skip), converges to what the edits call for (a directory
// the edits remove is gone from both sides), and a further run applies nothing and touches nothing.
// A trial counts only if its disruption landed: at least LANDED_SHARE of the kills must land while the run
// is going and after its first write (seen from the trees' footprints), and a fault run in which no fault
// fired is drawn again (at most MAX_UNFIRED times in a row).
//
// Runs under `npm run test:faults` (vitest.faults.config.ts sets TSYNC_FAULTS=1). The budget:
//   TSYNC_FAULTS_BUDGET=ci (default): 300 small files + 4-12 MiB big ones; 50 two-way, 30 one-way and
//     2 x 10 first-sync kills (100 kills), 2 x 20 fault runs: a few minutes;
//   TSYNC_FAULTS_BUDGET=long: 3,000 small files + 20-50 MiB big ones; 50 + 20 + 2 x 10 kills, 2 x 50 fault runs.
// Overrides: CRASH_TRIALS, CRASH_ONEWAY_TRIALS, CRASH_FIRST_TRIALS (per mode), FAULT_TRIALS (per mode), CRASH_SEED (default:
// random, printed), CRASH_MAX_DELAY_MS (the latest kill after spawn), CRASH_KILL_FROM=spawn|write|mixed
// (default mixed: three trials in four count their delay from the run's first write to either tree, so
// that kills land among the writes and not only in the scan), CRASH_KEEP=1 (keep the trees of a failed chain
// for a post-mortem; their path is printed).
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  buildTree,
  CI_SCALE,
  conflictOrigin,
  footprint,
  footprintMoved,
  LONG_SCALE,
  ownNamesIn,
  trashIn,
  remove,
  randomFaults,
  rngFrom,
  runTsync,
  sameContent,
  sameItem,
  show,
  snap,
  writeSmall,
  type CliRun,
  type KillPlan,
  type Rng,
  type Snap,
} from './crash-tree.js';
import { changedPaths, checkAfterKill, checkConverged, checkNothingLost, editOneWay, editTwoWay, mirrorDiffs, POLICIES, SUMMARY_NOTHING, type TwoWayEdits } from './crash-checks.js';

const ENABLED = process.env.TSYNC_FAULTS === '1';
const LONG_BUDGET = process.env.TSYNC_FAULTS_BUDGET === 'long';
const SCALE = LONG_BUDGET ? LONG_SCALE : CI_SCALE;
const TRIALS = Number(process.env.CRASH_TRIALS ?? 50);
const ONE_WAY_TRIALS = Number(process.env.CRASH_ONEWAY_TRIALS ?? (LONG_BUDGET ? 20 : 30));
const FIRST_TRIALS = Number(process.env.CRASH_FIRST_TRIALS ?? 10);
/** Runs with random errno faults (fault-layer.mjs) instead of a kill, per mode. */
const FAULT_TRIALS = Number(process.env.FAULT_TRIALS ?? (LONG_BUDGET ? 50 : 20));
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** The kill lands 5 ms to this long after the spawn (a whole run takes about 0.3-1.5 s here). */
const MAX_DELAY_MS = Number(process.env.CRASH_MAX_DELAY_MS ?? (LONG_BUDGET ? 400 : 300));
/** Where the delay counts from: the spawn, the run's first write to either tree, or alternately. */
const KILL_FROM = process.env.CRASH_KILL_FROM ?? 'mixed';
/** The share of kills that must land while the run is going and after its first write. */
const LANDED_SHARE = 0.6;
/** Fault draws in a row in which no fault fired before a chain gives up (each redraw is a full trial). */
const MAX_UNFIRED = 8;
/** Trials on one pair of trees before starting over from a fresh tree (each trial starts where the last converged). */
const CHAIN = 10;

const KEEP = process.env.CRASH_KEEP === '1';
const work = ENABLED ? mkdtempSync(join(tmpdir(), 'tsync-crash-')) : '';
let failedChains = 0;
afterAll(() => {
  if (work !== '' && !(KEEP && failedChains > 0)) remove(work);
});

/** A trial's two roots and state dir, below `work`. */
function treesFor(name: string): { dir: string; A: string; B: string; S: string } {
  const dir = join(work, name);
  return { dir, A: join(dir, 'A'), B: join(dir, 'B'), S: join(dir, 'state') };
}

/** Runs one chain of trials in `dir`; its trees are removed afterwards unless it failed under CRASH_KEEP=1. */
async function inChain(dir: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    remove(dir);
  } catch (e) {
    failedChains++;
    if (KEEP) throw new Error(`${e instanceof Error ? e.message : String(e)}\n(trees kept in ${dir})`, { cause: e });
    remove(dir);
    throw e;
  }
}

interface TrialLog {
  trial: number;
  policy: string;
  delayMs: number;
  /** For a kill: what the delay counts from; for a fault: the faults injected. */
  from: string;
  exit: number | null;
  killed: boolean;
  ranMs: number;
  /** Paths the killed run changed (either side), temp files it left behind. */
  progressed: number;
  temps: number;
  rerunMs: number;
  /**
   * For a kill: it landed while the run was going and after its first write to either tree (the trees'
   * footprints moved before the kill; an inotify event is only a hint, late under CPU load). Null for a fault.
   */
  landed: boolean | null;
  /** Ms after the spawn of the first write inotify reported (null: none seen before the run ended). */
  firstWriteMs: number | null;
  /** For a fault run: how many injected faults fired (the layer reports each). Null for a kill. */
  faultsFired: number | null;
}

const logs: { twoWay: TrialLog[]; oneWay: TrialLog[] } = { twoWay: [], oneWay: [] };

/** `seed` is the chain's own; CRASH_SEED (the run's, printed) is what reproduces the failing run. */
function fail(seed: number, trial: number, what: string, lines: string[], extra: string[] = []): never {
  throw new Error(
    [
      `crash trial ${trial} (CRASH_SEED=${SEED}, chain seed ${seed}): ${what}`,
      ...lines.slice(0, 40).map((l) => `- ${l}`),
      ...(lines.length > 40 ? [`… and ${lines.length - 40} more`] : []),
      ...extra,
    ].join('\n'),
  );
}

function cliText(r: CliRun): string {
  return `exit ${r.code} signal ${r.signal} after ${r.ms} ms\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`;
}

async function twoWayChain(seed: number, firstTrial: number, trials: number, kind: 'incremental' | 'fault' = 'incremental'): Promise<void> {
  const rng = rngFrom(seed);
  const { dir, A, B, S } = treesFor(`two-way-${kind}-${firstTrial}`);
  await inChain(dir, async () => {
    buildTree(A, rng, SCALE);
    mkdirSync(B);
    const setup = await runTsync(['sync', '--state-dir', S, A, B]);
    if (setup.code !== 0) fail(seed, firstTrial, 'the first sync failed', [cliText(setup)]);
    let base = snap(A);
    const redraws = redrawLimit(seed);
    for (let trial = firstTrial, counted = 0; counted < trials; trial++) {
      const edits = editTwoWay(rng, A, B, base, trial, SCALE);
      const { next, log } = await twoWayTrial(seed, rng, { A, B, S }, base, edits, trial, kind);
      base = next;
      if (redraws.counts(log, trial)) counted++;
    }
  });
}

/**
 * A fault run counts only if one of its faults fired; one that did not is a clean run (checked all the
 * same) and the chain draws again, at most MAX_UNFIRED times in a row. A kill always counts.
 */
function redrawLimit(seed: number): { counts: (log: TrialLog, trial: number) => boolean } {
  let unfiredInARow = 0;
  return {
    counts: (log, trial) => {
      if (log.faultsFired === null || log.faultsFired > 0) {
        unfiredInARow = 0;
        return true;
      }
      if (++unfiredInARow >= MAX_UNFIRED) fail(seed, trial, `${MAX_UNFIRED} fault draws in a row, and not one fault fired`, []);
      return false;
    },
  };
}

/** A first two-way sync, killed: A holds a tree, B a few files of its own and some of A's names with other bytes. */
async function twoWayFirstSync(seed: number, trial: number): Promise<void> {
  const rng = rngFrom(seed);
  const { dir, A, B, S } = treesFor(`two-way-first-${trial}`);
  await inChain(dir, async () => {
    buildTree(A, rng, SCALE);
    mkdirSync(B);
    const conflicts: string[] = [];
    if (trial % 2 === 1) {
      const names = [...snap(A)].filter(([p, i]) => i.kind === 'file' && !p.startsWith('big/')).map(([p]) => p);
      for (const p of rng.shuffle(names).slice(0, 20)) {
        mkdirSync(join(B, p.slice(0, p.indexOf('/'))), { recursive: true });
        writeSmall(join(B, p), rng, `t${trial} B's own version`, 1_650_000_000 + rng.int(0, 10_000_000));
        conflicts.push(p);
      }
      mkdirSync(join(B, 'only-b'));
      for (let i = 0; i < 20; i++) writeSmall(join(B, 'only-b', `b${i}.txt`), rng, `t${trial} B only`);
    }
    await twoWayTrial(seed, rng, { A, B, S }, new Map(), { conflicts, removedDir: null }, trial, 'first sync');
  });
}

/** Kills one two-way run, checks, re-runs, checks, and returns the converged tree as the next base. */
async function twoWayTrial(
  seed: number,
  rng: Rng,
  roots: { A: string; B: string; S: string },
  base: Snap,
  edits: TwoWayEdits,
  trial: number,
  kind: TrialKind,
): Promise<{ next: Snap; log: TrialLog }> {
  const { A, B, S } = roots;
  const { conflicts } = edits;
  const policy = rng.pick(POLICIES);
  const pre = { A: snap(A), B: snap(B) };
  const args = ['sync', '--conflict', policy, '--state-dir', S, A, B];
  const { run: killedRun, plan, ctx, landed, faultsFired } = await disruptedRun(rng, trial, kind, args, { A, B }, pre, policy === 'skip' ? [0, 1, 3] : [0, 1]);
  const delayMs = plan?.afterMs ?? -1;
  const post = { A: snap(A), B: snap(B) };
  const temps = ownNamesIn(A).length + ownNamesIn(B).length;
  ctx.unshift(`two-way, policy ${policy}`);
  const afterKill = checkAfterKill(base, pre, post, { A, B });
  if (afterKill.length > 0) fail(seed, trial, kind === 'fault' ? 'after the faulty run' : 'after the kill', afterKill, ctx);

  const rerun = await runTsync(args);
  const expectedCode = policy === 'skip' && conflicts.length > 0 ? 3 : 0;
  if (rerun.code !== expectedCode) fail(seed, trial, `the clean re-run exited ${rerun.code}, expected ${expectedCode}`, [cliText(rerun)], ctx);
  const fin = { A: snap(A), B: snap(B) };
  const bad = [
    ...checkConverged(policy, base, pre, fin, edits, { A, B }),
    ...checkNothingLost(base, pre, fin, policy === 'skip' ? 'either' : 'both', { A, B }),
    ...[...ownNamesIn(A), ...ownNamesIn(B)].map((n) => `tsync name left behind: ${n}`),
  ];
  if (policy === 'skip') {
    const listed = [...rerun.stderr.matchAll(/conflict left unresolved \(--conflict skip\): (.*)$/gm)].map((m) => m[1]).sort();
    if (JSON.stringify(listed) !== JSON.stringify([...conflicts].sort()))
      bad.push(`skip: re-run lists unresolved ${JSON.stringify(listed)}, the edits made ${JSON.stringify([...conflicts].sort())}`);
  }
  if (bad.length > 0) fail(seed, trial, 'after the clean re-run', bad, [...ctx, `re-run: ${cliText(rerun)}`]);

  const further = await runTsync([...args.slice(0, 1), '--verbose', ...args.slice(1)]);
  const again = { A: snap(A), B: snap(B) };
  const idem: string[] = [];
  if (further.code !== expectedCode || !SUMMARY_NOTHING.test(further.stdout)) idem.push(`further run did something: ${cliText(further)}`);
  for (const s of ['A', 'B'] as const)
    for (const [p, i] of fin[s]) {
      const j = again[s].get(p);
      if (j === undefined || j.ino !== i.ino || j.ctimeNs !== i.ctimeNs || j.mtimeNs !== i.mtimeNs) idem.push(`further run touched ${s}/${p}`);
    }
  if (idem.length > 0) fail(seed, trial, 'the further run was not a no-op', idem, ctx);

  if (policy === 'skip' && conflicts.length > 0) {
    // settle the conflicts so that the next trial starts from a converged pair
    const settle = await runTsync(['sync', '--conflict', 'keep-both', '--state-dir', S, A, B]);
    if (settle.code !== 0) fail(seed, trial, 'resolving the skipped conflicts failed', [cliText(settle)]);
  }
  // keep the trees from growing: drop the big conflict copies on both sides
  for (const side of [A, B]) for (const [p] of snap(side)) if (p.startsWith('big/') && conflictOrigin(p) !== null) remove(join(side, p));
  const next = snap(A);
  const bDiff = changedPaths(next, snap(B));
  if (bDiff !== 0) fail(seed, trial, `A and B differ in ${bDiff} paths before the next trial`, []);
  const log: TrialLog = {
    trial,
    policy: kind === 'first sync' ? `first/${policy}` : kind === 'fault' ? `fault/${policy}` : policy,
    delayMs,
    from: plan?.from ?? ctx[1] ?? '',
    exit: killedRun.code,
    killed: killedRun.killed,
    ranMs: killedRun.ms,
    progressed: changedPaths(pre.A, post.A) + changedPaths(pre.B, post.B),
    temps,
    rerunMs: rerun.ms,
    landed,
    firstWriteMs: killedRun.firstWriteMs,
    faultsFired,
  };
  logs.twoWay.push(log);
  return { next, log };
}

// ---- one-way ---------------------------------------------------------------------------------------

async function oneWayChain(seed: number, firstTrial: number, trials: number, kind: 'incremental' | 'fault' = 'incremental'): Promise<void> {
  const rng = rngFrom(seed ^ 0x5bd1e995);
  const { dir, A, B, S } = treesFor(`one-way-${kind}-${firstTrial}`);
  const args = ['sync', '--one-way', '--state-dir', S, A, B];
  await inChain(dir, async () => {
    buildTree(A, rng, SCALE);
    const setup = await runTsync(args);
    if (setup.code !== 0) fail(seed, firstTrial, 'the first one-way sync failed', [cliText(setup)]);
    const redraws = redrawLimit(seed);
    for (let trial = firstTrial, counted = 0; counted < trials; trial++) {
      editOneWay(rng, A, B, snap(A), trial, SCALE);
      if (redraws.counts(await oneWayTrial(seed, rng, args, { A, B }, trial, kind), trial)) counted++;
    }
  });
}

/** A first one-way sync, killed: into a missing replica, or (odd trials) one holding stale files of its own. */
async function oneWayFirstSync(seed: number, trial: number): Promise<void> {
  const rng = rngFrom(seed ^ 0x5bd1e995);
  const { dir, A, B, S } = treesFor(`one-way-first-${trial}`);
  await inChain(dir, async () => {
    buildTree(A, rng, SCALE);
    if (trial % 2 === 1) {
      mkdirSync(join(B, 's00'), { recursive: true });
      for (let i = 0; i < 20; i++) writeSmall(join(B, 's00', `f${String(i).padStart(3, '0')}.txt`), rng, `t${trial} stale replica`);
      writeSmall(join(B, 'extra.txt'), rng, `t${trial} replica extra`);
    }
    // --force: a replica with files of its own that a first run replaces trips the mass-delete guard otherwise
    await oneWayTrial(seed, rng, ['sync', '--one-way', '--force', '--state-dir', S, A, B], { A, B }, trial, 'first sync');
  });
}

/** Kills one one-way run, checks the source is untouched and nothing in B is torn, re-runs, checks the mirror. */
async function oneWayTrial(seed: number, rng: Rng, args: readonly string[], roots: { A: string; B: string }, trial: number, kind: TrialKind): Promise<TrialLog> {
  const { A, B } = roots;
  const pre = { A: snap(A), B: snap(B) };
  const { run: killedRun, plan, ctx, landed, faultsFired } = await disruptedRun(rng, trial, kind, args, { A, B }, pre, [0, 1]);
  const delayMs = plan?.afterMs ?? -1;
  const post = { A: snap(A), B: snap(B) };
  const temps = ownNamesIn(B).length;
  ctx.unshift('one-way');
  const bad: string[] = [];
  for (const [p, i] of pre.A) {
    const j = post.A.get(p);
    if (j === undefined || !sameItem(i, j) || j.ino !== i.ino || j.ctimeNs !== i.ctimeNs || j.mtimeNs !== i.mtimeNs) bad.push(`the source changed: ${p} ${show(i)} -> ${show(j)}`);
  }
  for (const p of post.A.keys()) if (!pre.A.has(p)) bad.push(`the source gained ${p}`);
  for (const [p, i] of post.B) {
    if (i.kind !== 'file') continue;
    const allowed = [pre.A.get(p), pre.B.get(p)];
    if (!allowed.some((x) => x?.kind === 'file' && x.sha === i.sha)) bad.push(`torn or foreign file B/${p}: ${show(i)}; before the run: ${allowed.map(show).join(' | ')}`);
  }
  if (bad.length > 0) fail(seed, trial, 'after the kill (one-way)', bad, ctx);

  const rerun = await runTsync(args);
  if (rerun.code !== 0) fail(seed, trial, `the clean one-way re-run exited ${rerun.code}`, [cliText(rerun)], ctx);
  const fin = { A: snap(A), B: snap(B) };
  const diffs = [...mirrorDiffs(pre.A, fin.A).map((d) => `source changed: ${d}`), ...mirrorDiffs(fin.A, fin.B), ...ownNamesIn(B).map((n) => `tsync name left behind: ${n}`)];
  // what the replica held and the mirror replaced or removed is kept in its trash
  const trash = trashIn(B);
  for (const [p, i] of pre.B)
    if (i.kind === 'file' && !sameContent(fin.B.get(p), i) && !(trash.get(p) ?? []).some((c) => sameContent(c, i)))
      diffs.push(`replica version lost: ${p} ${show(i)} is neither in place nor in the trash`);
  if (diffs.length > 0) fail(seed, trial, 'after the clean one-way re-run', diffs, [...ctx, `re-run: ${cliText(rerun)}`]);

  const further = await runTsync([...args.slice(0, 1), '--verbose', ...args.slice(1)]);
  const again = snap(B);
  const idem: string[] = [];
  if (further.code !== 0 || !SUMMARY_NOTHING.test(further.stdout)) idem.push(`further run did something: ${cliText(further)}`);
  for (const [p, i] of fin.B) {
    const j = again.get(p);
    if (j === undefined || j.ino !== i.ino || j.ctimeNs !== i.ctimeNs || j.mtimeNs !== i.mtimeNs) idem.push(`further run touched B/${p}`);
  }
  if (idem.length > 0) fail(seed, trial, 'the further one-way run was not a no-op', idem, ctx);
  const log: TrialLog = {
    trial,
    policy: kind === 'first sync' ? 'first' : kind === 'fault' ? 'fault' : 'one-way',
    delayMs,
    from: plan?.from ?? ctx[1] ?? '',
    exit: killedRun.code,
    killed: killedRun.killed,
    ranMs: killedRun.ms,
    progressed: changedPaths(pre.B, post.B),
    temps,
    rerunMs: rerun.ms,
    landed,
    firstWriteMs: killedRun.firstWriteMs,
    faultsFired,
  };
  logs.oneWay.push(log);
  return log;
}

/**
 * When to kill: from the spawn (5 ms .. MAX_DELAY_MS) or from the first write (0 .. MAX_DELAY_MS / 2).
 * Under `mixed`, three kills in four count from the first write: a kill timed from the spawn lands in
 * the start-up or the scan more often the busier the machine, and the share of kills that land among
 * the writes is asserted (LANDED_SHARE).
 */
function killPlan(rng: Rng, trial: number, roots: Record<'A' | 'B', string>, pre: Record<'A' | 'B', Snap>): KillPlan {
  const from = KILL_FROM === 'spawn' || KILL_FROM === 'write' ? KILL_FROM : trial % 4 === 0 ? 'spawn' : 'write';
  // a root the run is to create: its parent sees the mkdir
  const dirs = (root: string, s: Snap): string[] => [existsSync(root) ? root : dirname(root), ...[...s].filter(([, i]) => i.kind === 'dir').map(([p]) => join(root, p))];
  const watchDirs = [...dirs(roots.A, pre.A), ...dirs(roots.B, pre.B)];
  if (from === 'spawn') return { afterMs: rng.int(5, MAX_DELAY_MS), from: 'spawn', watchDirs };
  return { afterMs: rng.int(0, Math.floor(MAX_DELAY_MS / 2)), from: 'write', watchDirs };
}

type TrialKind = 'first sync' | 'incremental' | 'fault';

interface DisruptedRun {
  readonly run: CliRun;
  readonly plan: KillPlan | null;
  readonly ctx: string[];
  /** A kill: whether it landed after the run's first write (see TrialLog.landed). Null for a fault run. */
  readonly landed: boolean | null;
  /** A fault run: how many of its faults fired. Null for a kill. */
  readonly faultsFired: number | null;
}

/**
 * The disrupted run of a trial: SIGKILLed at a random moment, or (kind 'fault') run to its end with
 * random errno faults injected into calls inside the trees. A faulty run must end by itself with one
 * of `allowedExits`, without a stack trace.
 */
async function disruptedRun(
  rng: Rng,
  trial: number,
  kind: TrialKind,
  args: readonly string[],
  roots: Record<'A' | 'B', string>,
  pre: Record<'A' | 'B', Snap>,
  allowedExits: readonly number[],
): Promise<DisruptedRun> {
  if (kind === 'fault') {
    const faults = randomFaults(rng, [roots.A, roots.B], join(dirname(roots.A), `faults-${trial}.log`));
    const run = await runTsync(args, undefined, 300_000, faults.env);
    const report = faults.report();
    const inWorker = report.threads.filter((t) => t !== 0).length;
    const ctx = [`faults: ${faults.label} (${report.fired.length} landed${inWorker > 0 ? `, ${inWorker} in the worker` : ''})`, `faulty run: ${cliText(run)}`];
    if (!report.loaded) fail(SEED, trial, 'the fault layer was not loaded into the faulty run', [], ctx);
    if (run.code === null || !allowedExits.includes(run.code) || /\n\s+at .+:\d+:\d+/.test(run.stderr))
      fail(SEED, trial, `the faulty run exited ${run.code} (allowed: ${allowedExits.join(', ')}) or crashed`, [], ctx);
    return { run, plan: null, ctx, landed: null, faultsFired: report.fired.length };
  }
  const plan = killPlan(rng, trial, roots, pre);
  const before = [footprint(roots.A), footprint(roots.B)] as const;
  // half the kills land in runs whose small copies of new files are shared with the copy worker thread (its trees
  // are below the size from which `auto` starts it): a kill there leaves its temp files too, under its own names
  const copyWorker = rng.pick(['auto', 'always'] as const);
  const run = await runTsync(args, plan, undefined, { TSYNC_COPY_WORKER: copyWorker });
  // the process cannot write once it is dead: a moved footprint means it wrote before the kill landed
  const wrote = footprintMoved(before[0], footprint(roots.A)) || footprintMoved(before[1], footprint(roots.B));
  const landed = run.killed && wrote;
  const where = !run.killed ? 'the run had ended' : wrote ? 'after its first write' : 'before its first write';
  return {
    run,
    plan,
    landed,
    faultsFired: null,
    ctx: [
      `${kind}, killed ${run.killed} ${plan.afterMs} ms after the ${plan.from}${copyWorker === 'always' ? ' (the copy worker on)' : ''}: landed ${where} (first write seen at ${run.firstWriteMs ?? '-'} ms)`,
      `killed run: ${cliText(run)}`,
    ],
  };
}

function report(name: string, all: TrialLog[]): string {
  const faulty = all.filter((x) => x.delayMs < 0);
  const l = all.filter((x) => x.delayMs >= 0);
  const killed = l.filter((x) => x.killed);
  const landed = l.filter((x) => x.landed === true);
  const fired = faulty.filter((x) => (x.faultsFired ?? 0) > 0);
  const lines = all.map((x) =>
    x.delayMs < 0
      ? `  #${x.trial} ${x.policy.padEnd(15)} ${x.from.replace(/^faults: /, '')}: exit ${x.exit} (ran ${x.ranMs} ms), ${x.progressed} paths changed, ${x.temps} temp files left; re-run ${x.rerunMs} ms${x.faultsFired === 0 ? ' [no fault fired: drawn again]' : ''}`
      : `  #${x.trial} ${x.policy.padEnd(15)} ${String(x.delayMs).padStart(3)} ms after ${x.from.padEnd(5)} ${x.killed ? (x.landed === true ? 'KILLED after the first write' : 'KILLED before any write') : 'finished'} (ran ${x.ranMs} ms, first write seen at ${x.firstWriteMs ?? '-'} ms), ${x.progressed} paths changed before the kill, ${x.temps} temp files left; re-run ${x.rerunMs} ms`,
  );
  return `${name}: ${l.length} kill trials, ${killed.length} killed mid-run (${landed.length} after the run's first write), ${l.length - killed.length} finished before the kill; ${faulty.length} fault runs, ${fired.length} in which a fault fired (the others drawn again)\n${lines.join('\n')}`;
}

describe.skipIf(!ENABLED)('SIGKILL at a random moment of a sync', () => {
  afterAll(() => {
    console.log(`CRASH_SEED=${SEED} (budget ${LONG_BUDGET ? 'long' : 'ci'})\n${report('two-way', logs.twoWay)}\n${report('one-way', logs.oneWay)}`);
  });

  test(
    `two-way, incremental: ${TRIALS} kills, no torn file, nothing lost, the re-run converges`,
    async () => {
      for (let first = 0; first < TRIALS; first += CHAIN) await twoWayChain(SEED + first, first, Math.min(CHAIN, TRIALS - first));
      expect(logs.twoWay.filter((l) => !l.policy.startsWith('first') && !l.policy.startsWith('fault'))).toHaveLength(TRIALS);
    },
    3 * 3_600_000,
  );

  test(
    `two-way, first sync: ${FIRST_TRIALS} kills`,
    async () => {
      for (let t = 0; t < FIRST_TRIALS; t++) await twoWayFirstSync(SEED + 1000 + t, 1000 + t);
      expect(logs.twoWay.filter((l) => l.policy.startsWith('first'))).toHaveLength(FIRST_TRIALS);
    },
    3 * 3_600_000,
  );

  test(
    `one-way, incremental: ${ONE_WAY_TRIALS} kills, no torn file, the source untouched, the re-run mirrors it`,
    async () => {
      for (let first = 0; first < ONE_WAY_TRIALS; first += CHAIN) await oneWayChain(SEED + first, first, Math.min(CHAIN, ONE_WAY_TRIALS - first));
      expect(logs.oneWay.filter((l) => l.policy === 'one-way')).toHaveLength(ONE_WAY_TRIALS);
    },
    3 * 3_600_000,
  );

  test(
    `two-way, random errno faults: ${FAULT_TRIALS} runs, the same checks`,
    async () => {
      for (let first = 0; first < FAULT_TRIALS; first += CHAIN) await twoWayChain(SEED + 3000 + first, 3000 + first * MAX_UNFIRED, Math.min(CHAIN, FAULT_TRIALS - first), 'fault');
      expect(logs.twoWay.filter((l) => l.policy.startsWith('fault') && (l.faultsFired ?? 0) > 0)).toHaveLength(FAULT_TRIALS);
    },
    3 * 3_600_000,
  );

  test(
    `one-way, random errno faults: ${FAULT_TRIALS} runs, the same checks`,
    async () => {
      for (let first = 0; first < FAULT_TRIALS; first += CHAIN) await oneWayChain(SEED + 4000 + first, 4000 + first * MAX_UNFIRED, Math.min(CHAIN, FAULT_TRIALS - first), 'fault');
      expect(logs.oneWay.filter((l) => l.policy === 'fault' && (l.faultsFired ?? 0) > 0)).toHaveLength(FAULT_TRIALS);
    },
    3 * 3_600_000,
  );

  test(
    `one-way, first sync: ${FIRST_TRIALS} kills`,
    async () => {
      for (let t = 0; t < FIRST_TRIALS; t++) await oneWayFirstSync(SEED + 2000 + t, 2000 + t);
      expect(logs.oneWay.filter((l) => l.policy === 'first')).toHaveLength(FIRST_TRIALS);
    },
    3 * 3_600_000,
  );

  // Last: a kill that lands in the start-up, the scan or after the run ended tests little; most must land among the writes.
  test(`at least ${LANDED_SHARE * 100}% of the kills landed after the run's first write`, () => {
    const kills = [...logs.twoWay, ...logs.oneWay].filter((l) => l.landed !== null);
    expect(kills.length, 'no kill trials ran').toBeGreaterThan(0);
    const landed = kills.filter((l) => l.landed === true).length;
    expect(landed / kills.length, `${landed} of ${kills.length} kills landed after the run's first write`).toBeGreaterThanOrEqual(LANDED_SHARE);
  });
});
