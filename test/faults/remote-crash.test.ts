// Crash trials with a remote root (issue 15, "the connection may die at any instant"). One real sshd for the
// file (test/helpers/sshd.ts); the built CLI syncs a local root with `127.0.0.1:/abs/path` through it. Three
// families, each a chain of trials on one pair of trees: one-way push (local source, remote replica), one-way
// pull (remote source, local replica), and two-way with edits on both sides and conflicts (the remote root is
// A or B, alternately). Each chain starts with a run that nobody disrupts: it is measured (its length, and when
// its first write landed) and checked like every other. Each further trial edits the trees and, at a random
// moment spread over that measured run, SIGKILLs one of: the ssh client the run started, the agent on the far
// side (`tsync agent` or the cached bundle, alternately), both, or the tsync process itself. Then:
//   - the disrupted run exited 6 (ssh or agent killed) or died of the SIGKILL, without a stack trace, and no
//     agent outlives its session (30 s);
//   - no torn file, nothing lost, the one-way source untouched: the same checks as the local trials
//     (crash-checks.ts);
//   - a clean re-run exits 0 (3 under --conflict skip with conflicts), converges to what the edits call for and
//     leaves no tsync temp file on either side; a further run applies nothing and touches nothing.
// The report counts the strikes that landed mid-run (after the first write) and mid-copy (a temp file was in
// either tree at that instant).
//
// Runs under `npm run test:faults`. Budget:
//   TSYNC_FAULTS_BUDGET=ci (default): 200 small files + 3-6 MiB big ones; 4 push, 4 pull and 4 two-way kills (each
//     family strikes every kind of victim once), 42 CLI runs;
//   TSYNC_FAULTS_BUDGET=long: 300 small files + 4-10 MiB big ones; 12 + 12 + 16 kills.
// Overrides: REMOTE_CRASH_TRIALS (per one-way family), REMOTE_CRASH_TWOWAY_TRIALS, CRASH_SEED (default: random,
// printed), CRASH_KEEP=1 (keep the trees of a failed chain; their path is printed).
import { type Dirent, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTempName } from '../../src/fs/temp-name.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';
import {
  changedPaths,
  checkAfterKill,
  checkConverged,
  checkNothingLost,
  editOneWay,
  editTwoWay,
  mirrorDiffs,
  POLICIES,
  type Policy,
  SUMMARY_NOTHING,
  type TwoWayEdits,
} from './crash-checks.js';
import {
  binPath,
  buildTree,
  CI_SCALE,
  type CliRun,
  conflictOrigin,
  footprint,
  footprintMoved,
  type KillPlan,
  ownNamesIn,
  remove,
  type Rng,
  rngFrom,
  runTsync,
  sameContent,
  sameItem,
  type Snap,
  show,
  snap,
  type TreeScale,
  trashIn,
} from './crash-tree.js';
import { agentsWith, killAll, sshClientsOf, waitGone } from './far-processes.js';

const ENABLED = process.env.TSYNC_FAULTS === '1';
const LONG_BUDGET = process.env.TSYNC_FAULTS_BUDGET === 'long';
/** Smaller than the local trials' tree: every run pays an ssh connect (1-3 s on this machine). */
const REMOTE_CI_SCALE: TreeScale = { dirs: 8, filesPerDir: 25, bigMiB: [3, 4, 6], editBigMiB: [2, 8] };
const SCALE = LONG_BUDGET ? CI_SCALE : REMOTE_CI_SCALE;
const ONE_WAY_TRIALS = Number(process.env.REMOTE_CRASH_TRIALS ?? (LONG_BUDGET ? 12 : 4));
const TWO_WAY_TRIALS = Number(process.env.REMOTE_CRASH_TWOWAY_TRIALS ?? (LONG_BUDGET ? 16 : 4));
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KEEP = process.env.CRASH_KEEP === '1';
/** How long an agent may take to notice its session is gone and exit. */
const AGENT_GONE_MS = 30_000;

const VICTIMS = ['ssh', 'agent', 'both', 'tsync'] as const;
type Victim = (typeof VICTIMS)[number];

const work = ENABLED ? mkdtempSync(join(tmpdir(), 'tsync-rcrash-')) : '';
let sshd: Sshd | null = null;
/** The far side's environment (sshd SetEnv): PATH with node and a `tsync` that runs the built CLI only while `useTsyncFlag` exists. */
const far = { bin: join(work, 'far-bin'), cache: join(work, 'far-cache'), state: join(work, 'far-state'), useTsyncFlag: join(work, 'far-use-tsync') };
let failedChains = 0;

beforeAll(async () => {
  if (!ENABLED) return;
  mkdirSync(far.bin);
  symlinkSync(process.execPath, join(far.bin, 'node'));
  // without the flag, `tsync agent --protocol` answers nothing and the bootstrap falls back to the cached bundle
  writeFileSync(join(far.bin, 'tsync'), `#!/bin/sh\nif [ -e ${far.useTsyncFlag} ]; then exec node ${binPath} "$@"; fi\nexit 1\n`);
  chmodSync(join(far.bin, 'tsync'), 0o755);
  sshd = await startSshd({ env: { PATH: `${far.bin}:/usr/bin:/bin`, XDG_CACHE_HOME: far.cache, XDG_STATE_HOME: far.state } });
});

afterAll(async () => {
  if (sshd !== null) killAll(agentsWith(farMarker()));
  await sshd?.stop();
  if (work !== '' && !(KEEP && failedChains > 0)) remove(work);
});

function server(): Sshd {
  if (sshd === null) throw new Error('sshd did not start');
  return sshd;
}

/** What every far-side session's environment holds, and no other process's: finds this file's agents. */
function farMarker(): string {
  server();
  return `XDG_CACHE_HOME=${far.cache}`;
}

interface TrialLog {
  family: string;
  trial: number;
  victim: Victim | 'none';
  agent: 'tsync agent' | 'bundle';
  detail: string;
  delayMs: number;
  from: string;
  exit: number | null;
  signal: string | null;
  /** The strike killed something while the run was going. */
  struck: boolean;
  /** The run had written to either tree before the strike. */
  landed: boolean;
  /** A tsync temp file was in either tree at the instant of the strike: a copy was under way. */
  midCopy: boolean;
  ranMs: number;
  progressed: number;
  temps: number;
  rerunMs: number;
}
const logs: TrialLog[] = [];

function fail(seed: number, trial: number, what: string, lines: string[], extra: string[] = []): never {
  throw new Error(
    [
      `remote crash trial ${trial} (CRASH_SEED=${SEED}, chain seed ${seed}): ${what}`,
      ...lines.slice(0, 40).map((l) => `- ${l}`),
      ...(lines.length > 40 ? [`… and ${lines.length - 40} more`] : []),
      ...extra,
    ].join('\n'),
  );
}

function cliText(r: CliRun): string {
  return `exit ${r.code} signal ${r.signal} after ${r.ms} ms\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`;
}

/** A tsync temp file anywhere below `root` (a quick walk, at the instant of a strike). */
function hasTemp(root: string): boolean {
  const walk = (dir: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false; // removed meanwhile
    }
    for (const e of entries) {
      if (isTempName(e.name)) return true;
      if (e.isDirectory() && e.name !== '.tsync' && walk(join(dir, e.name))) return true;
    }
    return false;
  };
  return walk(root);
}

// ---- one chain: its trees, how a run is disrupted ----------------------------------------------------

interface Chain {
  readonly seed: number;
  readonly rng: Rng;
  readonly A: string;
  readonly B: string;
  readonly S: string;
  readonly remote: 'A' | 'B';
  /** The measured undisrupted run: its length and when its first write was seen (ms after the spawn). */
  measured: { ms: number; firstWriteMs: number | null } | null;
}

function chainFor(name: string, seed: number, remote: 'A' | 'B'): Chain {
  const dir = join(work, name);
  mkdirSync(dir);
  return { seed, rng: rngFrom(seed), A: join(dir, 'A'), B: join(dir, 'B'), S: join(dir, 'state'), remote, measured: null };
}

async function inChain(c: Chain, body: () => Promise<void>): Promise<void> {
  const dir = dirname(c.A);
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

/** The roots as the CLI gets them: the remote one as `127.0.0.1:/abs/path`, and the harness's --ssh. */
function rootArgs(c: Chain): string[] {
  const spec = (side: 'A' | 'B', path: string): string => (side === c.remote ? `127.0.0.1:${path}` : path);
  return ['--ssh', server().sshCommand, spec('A', c.A), spec('B', c.B)];
}

function watchDirs(c: Chain, pre: Record<'A' | 'B', Snap>): string[] {
  const dirs = (root: string, s: Snap): string[] => [existsSync(root) ? root : dirname(root), ...[...s].filter(([, i]) => i.kind === 'dir').map(([p]) => join(root, p))];
  return [...dirs(c.A, pre.A), ...dirs(c.B, pre.B)];
}

interface Disrupted {
  readonly run: CliRun;
  readonly victim: Victim | 'none';
  readonly agent: 'tsync agent' | 'bundle';
  readonly plan: KillPlan | null;
  readonly landed: boolean;
  readonly midCopy: boolean;
  readonly ctx: string[];
}

/**
 * Runs `args` and strikes `victim` at a moment drawn over the measured run: three in four count from the run's
 * first write (a fraction of the measured time from first write to end), the others from the spawn (a fraction of
 * the whole measured run, so some land in the connect or the scan). Victim 'none': the measuring run.
 */
async function disruptedRun(c: Chain, trial: number, victim: Victim | 'none', args: readonly string[], pre: Record<'A' | 'B', Snap>): Promise<Disrupted> {
  const agent = trial % 2 === 0 ? 'bundle' : 'tsync agent';
  if (agent === 'tsync agent') writeFileSync(far.useTsyncFlag, '');
  else rmSync(far.useTsyncFlag, { force: true });
  const dirs = watchDirs(c, pre);
  let midCopy = false;
  let plan: KillPlan | null = null;
  if (victim === 'none') {
    // only to see when the first write lands: nothing is struck
    plan = { afterMs: 3_600_000, from: 'write', watchDirs: dirs, strike: () => false };
  } else {
    const m = c.measured ?? { ms: 3000, firstWriteMs: null };
    const strike = (cliPid: number): boolean => {
      midCopy = hasTemp(c.A) || hasTemp(c.B);
      if (victim === 'tsync') return killAll([cliPid]) > 0;
      const targets = [...(victim === 'ssh' ? [] : agentsWith(farMarker())), ...(victim === 'agent' ? [] : sshClientsOf(cliPid))];
      return killAll(targets) > 0;
    };
    const fromWrite = m.firstWriteMs !== null && trial % 4 !== 0;
    plan = fromWrite
      ? { afterMs: Math.floor(c.rng() * 0.9 * Math.max(50, m.ms - (m.firstWriteMs ?? 0))), from: 'write', watchDirs: dirs, strike }
      : { afterMs: Math.floor((0.2 + c.rng() * 0.8) * m.ms), from: 'spawn', watchDirs: dirs, strike };
  }
  const before = [footprint(c.A), footprint(c.B)] as const;
  const run = await runTsync(args, plan);
  // the run may be gone while its far side still works: wait for the agent, which could still be writing
  const lingering = await waitGone(() => agentsWith(farMarker()), AGENT_GONE_MS);
  const ctx = [
    `victim ${victim} (${agent}), ${plan.afterMs} ms after the ${plan.from}: struck ${run.killed}, mid-copy ${midCopy} (first write seen at ${run.firstWriteMs ?? '-'} ms)`,
    `disrupted run: ${cliText(run)}`,
  ];
  // the lingering agents are this test's: end them, then say so
  if (lingering.length > 0 && killAll(lingering) >= 0) fail(c.seed, trial, `agent ${lingering.join(', ')} still runs ${AGENT_GONE_MS / 1000} s after its run ended`, [], ctx);
  const wrote = footprintMoved(before[0], footprint(c.A)) || footprintMoved(before[1], footprint(c.B));
  return { run, victim, agent, plan: victim === 'none' ? null : plan, landed: run.killed && wrote, midCopy: run.killed && midCopy, ctx };
}

/**
 * The disrupted run ended as a disrupted run must: 6 when its link or agent was killed, SIGKILL when tsync was,
 * `clean` when nothing was struck. A strike that lands as the run closes its session (after its commit) may let it
 * end cleanly: returns true then, and the re-run must find nothing to do (the run claimed it had done it all).
 */
function checkExit(c: Chain, trial: number, d: Disrupted, clean: readonly number[]): boolean {
  const { run } = d;
  if (/\n\s+at .+:\d+:\d+/.test(run.stderr)) fail(c.seed, trial, 'the disrupted run printed a stack trace', [], d.ctx);
  const cleanExit = run.code !== null && clean.includes(run.code);
  if (!run.killed) {
    if (!cleanExit) fail(c.seed, trial, `the run (not struck) exited ${run.code}, expected ${clean.join(' or ')}`, [], d.ctx);
    return false;
  }
  if (cleanExit) return true;
  if (d.victim === 'tsync') {
    if (run.signal !== 'SIGKILL') fail(c.seed, trial, `tsync was SIGKILLed but ended with exit ${run.code} signal ${run.signal}`, [], d.ctx);
  } else if (run.code !== 6) {
    fail(c.seed, trial, `the run whose ${d.victim === 'both' ? 'ssh client and agent were' : `${d.victim} was`} killed exited ${run.code}, expected 6`, [], d.ctx);
  }
  return false;
}

/** After a struck run that still ended cleanly, the clean re-run has nothing to do. */
function checkFinished(c: Chain, trial: number, finished: boolean, rerun: CliRun, ctx: string[]): void {
  if (finished && !SUMMARY_NOTHING.test(rerun.stdout)) fail(c.seed, trial, 'the struck run ended cleanly, but the re-run still had work to do', [cliText(rerun)], ctx);
}

function verbose(args: readonly string[]): string[] {
  return [...args.slice(0, 1), '--verbose', ...args.slice(1)];
}

/** A further run applies nothing and touches nothing. */
async function checkNoOp(c: Chain, trial: number, args: readonly string[], fin: Record<'A' | 'B', Snap>, expectedCode: number, ctx: string[]): Promise<void> {
  const further = await runTsync(verbose(args));
  const again = { A: snap(c.A), B: snap(c.B) };
  const idem: string[] = [];
  if (further.code !== expectedCode || !SUMMARY_NOTHING.test(further.stdout)) idem.push(`further run did something: ${cliText(further)}`);
  for (const s of ['A', 'B'] as const)
    for (const [p, i] of fin[s]) {
      const j = again[s].get(p);
      if (j === undefined || j.ino !== i.ino || j.ctimeNs !== i.ctimeNs || j.mtimeNs !== i.mtimeNs) idem.push(`further run touched ${s}/${p}`);
    }
  if (idem.length > 0) fail(c.seed, trial, 'the further run was not a no-op', idem, ctx);
}

function record(family: string, trial: number, d: Disrupted, detail: string, pre: Record<'A' | 'B', Snap>, post: Record<'A' | 'B', Snap>, temps: number, rerun: CliRun): void {
  logs.push({
    family,
    trial,
    victim: d.victim,
    agent: d.agent,
    detail,
    delayMs: d.plan?.afterMs ?? -1,
    from: d.plan?.from ?? '-',
    exit: d.run.code,
    signal: d.run.signal,
    struck: d.run.killed,
    landed: d.landed,
    midCopy: d.midCopy,
    ranMs: d.run.ms,
    progressed: changedPaths(pre.A, post.A) + changedPaths(pre.B, post.B),
    temps,
    rerunMs: rerun.ms,
  });
}

/** The victims of a chain's kill trials: every kind in turn, from a seeded start. */
function victimOf(offset: number, i: number): Victim {
  return VICTIMS[(offset + i) % VICTIMS.length] as Victim;
}

// ---- one-way -------------------------------------------------------------------------------------------

async function oneWayChain(family: 'push' | 'pull', seed: number, trials: number): Promise<void> {
  const c = chainFor(`one-way-${family}`, seed, family === 'push' ? 'B' : 'A');
  await inChain(c, async () => {
    buildTree(c.A, c.rng, SCALE);
    const args = ['sync', '--one-way', '--state-dir', c.S, ...rootArgs(c)];
    const setup = await runTsync(args);
    if (setup.code !== 0) fail(seed, 0, `the first one-way ${family} failed`, [cliText(setup)]);
    const offset = c.rng.int(0, VICTIMS.length - 1);
    for (let trial = 0; trial <= trials; trial++) {
      editOneWay(c.rng, c.A, c.B, snap(c.A), trial, SCALE);
      await oneWayTrial(c, family, args, trial, trial === 0 ? 'none' : victimOf(offset, trial));
    }
  });
}

async function oneWayTrial(c: Chain, family: string, args: readonly string[], trial: number, victim: Victim | 'none'): Promise<void> {
  const { A, B } = c;
  const pre = { A: snap(A), B: snap(B) };
  const d = await disruptedRun(c, trial, victim, args, pre);
  // a run nothing struck is a fresh measure of an undisrupted run (the machine's load drifts): later strikes use it
  if (!d.run.killed) c.measured = { ms: d.run.ms, firstWriteMs: d.run.firstWriteMs };
  const finished = checkExit(c, trial, d, [0]);
  const post = { A: snap(A), B: snap(B) };
  const temps = ownNamesIn(A).length + ownNamesIn(B).length;
  const ctx = [`one-way ${family}`, ...d.ctx];
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
  const trashAfterKill = trashIn(B);
  for (const [p, i] of pre.B)
    if (i.kind === 'file' && !sameContent(post.B.get(p), i) && !sameContent(post.A.get(p), i) && !(trashAfterKill.get(p) ?? []).some((x) => sameContent(x, i)))
      bad.push(`replica version lost by the disrupted run: ${p} ${show(i)} is neither in place nor in the trash`);
  if (bad.length > 0) fail(c.seed, trial, 'after the disrupted run (one-way)', bad, ctx);

  const rerun = victim === 'none' ? d.run : await runTsync(verbose(args));
  if (rerun.code !== 0) fail(c.seed, trial, `the clean one-way re-run exited ${rerun.code}`, [cliText(rerun)], ctx);
  checkFinished(c, trial, finished, rerun, ctx);
  const fin = { A: snap(A), B: snap(B) };
  const diffs = [
    ...mirrorDiffs(pre.A, fin.A).map((x) => `source changed: ${x}`),
    ...mirrorDiffs(fin.A, fin.B),
    ...ownNamesIn(A).map((n) => `tsync name left behind in the source: ${n}`),
    ...ownNamesIn(B).map((n) => `tsync name left behind: ${n}`),
  ];
  const trash = trashIn(B);
  for (const [p, i] of pre.B)
    if (i.kind === 'file' && !sameContent(fin.B.get(p), i) && !(trash.get(p) ?? []).some((x) => sameContent(x, i)))
      diffs.push(`replica version lost: ${p} ${show(i)} is neither in place nor in the trash`);
  if (diffs.length > 0) fail(c.seed, trial, 'after the clean one-way re-run', diffs, [...ctx, `re-run: ${cliText(rerun)}`]);
  await checkNoOp(c, trial, args, fin, 0, ctx);
  record(`one-way ${family}`, trial, d, '', pre, post, temps, rerun);
}

// ---- two-way -------------------------------------------------------------------------------------------

async function twoWayChain(seed: number, trials: number): Promise<void> {
  const c = chainFor('two-way', seed, seed % 2 === 0 ? 'B' : 'A');
  await inChain(c, async () => {
    buildTree(c.A, c.rng, SCALE);
    mkdirSync(c.B);
    const setup = await runTsync(['sync', '--state-dir', c.S, ...rootArgs(c)]);
    if (setup.code !== 0) fail(seed, 0, 'the first two-way sync failed', [cliText(setup)]);
    let base = snap(c.A);
    const offset = c.rng.int(0, VICTIMS.length - 1);
    for (let trial = 0; trial <= trials; trial++) {
      const edits = editTwoWay(c.rng, c.A, c.B, base, trial, SCALE);
      base = await twoWayTrial(c, base, edits, trial, trial === 0 ? 'none' : victimOf(offset, trial));
    }
  });
}

async function twoWayTrial(c: Chain, base: Snap, edits: TwoWayEdits, trial: number, victim: Victim | 'none'): Promise<Snap> {
  const { A, B, S } = c;
  const roots = { A, B };
  // the measuring run uses keep-both, so that its length is that of a run with conflict copies to make
  const policy: Policy = victim === 'none' ? 'keep-both' : c.rng.pick(POLICIES);
  const pre = { A: snap(A), B: snap(B) };
  const args = ['sync', '--conflict', policy, '--state-dir', S, ...rootArgs(c)];
  const expectedCode = policy === 'skip' && edits.conflicts.length > 0 ? 3 : 0;
  const d = await disruptedRun(c, trial, victim, args, pre);
  // a run nothing struck is a fresh measure of an undisrupted run (the machine's load drifts): later strikes use it
  if (!d.run.killed) c.measured = { ms: d.run.ms, firstWriteMs: d.run.firstWriteMs };
  const ctx = [`two-way, remote ${c.remote}, policy ${policy}`, ...d.ctx];
  const finished = checkExit(c, trial, d, [expectedCode]);
  const post = { A: snap(A), B: snap(B) };
  const temps = ownNamesIn(A).length + ownNamesIn(B).length;
  const afterKill = checkAfterKill(base, pre, post, roots);
  if (afterKill.length > 0) fail(c.seed, trial, 'after the disrupted run', afterKill, ctx);

  const rerun = victim === 'none' ? d.run : await runTsync(verbose(args));
  if (rerun.code !== expectedCode) fail(c.seed, trial, `the clean re-run exited ${rerun.code}, expected ${expectedCode}`, [cliText(rerun)], ctx);
  checkFinished(c, trial, finished, rerun, ctx);
  const fin = { A: snap(A), B: snap(B) };
  const bad = [
    ...checkConverged(policy, base, pre, fin, edits, roots),
    ...checkNothingLost(base, pre, fin, policy === 'skip' ? 'either' : 'both', roots),
    ...[...ownNamesIn(A), ...ownNamesIn(B)].map((n) => `tsync name left behind: ${n}`),
  ];
  if (bad.length > 0) fail(c.seed, trial, 'after the clean re-run', bad, [...ctx, `re-run: ${cliText(rerun)}`]);
  await checkNoOp(c, trial, args, fin, expectedCode, ctx);

  if (expectedCode === 3) {
    const settle = await runTsync(['sync', '--conflict', 'keep-both', '--state-dir', S, ...rootArgs(c)]);
    if (settle.code !== 0) fail(c.seed, trial, 'resolving the skipped conflicts failed', [cliText(settle)]);
  }
  // keep the trees from growing: drop the big conflict copies on both sides
  for (const side of [A, B]) for (const [p] of snap(side)) if (p.startsWith('big/') && conflictOrigin(p) !== null) remove(join(side, p));
  const next = snap(A);
  const differ = changedPaths(next, snap(B));
  if (differ !== 0) fail(c.seed, trial, `A and B differ in ${differ} paths before the next trial`, []);
  record('two-way', trial, d, `${policy}, remote ${c.remote}`, pre, post, temps, rerun);
  return next;
}

// ---- the report ----------------------------------------------------------------------------------------

function report(): string {
  const kills = logs.filter((l) => l.victim !== 'none');
  const struck = kills.filter((l) => l.struck);
  const lines = logs.map(
    (l) =>
      `  ${l.family.padEnd(13)} #${l.trial} ${l.victim === 'none' ? 'measured run' : `kill ${l.victim.padEnd(5)} ${String(l.delayMs).padStart(5)} ms after ${l.from.padEnd(5)}`} (${l.agent}${l.detail === '' ? '' : `, ${l.detail}`}): ` +
      `exit ${l.exit ?? l.signal} after ${l.ranMs} ms, ${l.victim === 'none' ? '' : `${l.struck ? (l.landed ? 'struck after the first write' : 'struck before any write') : 'missed (the run had ended)'}${l.midCopy ? ', MID-COPY' : ''}, `}${l.progressed} paths changed, ${l.temps} temp files left; re-run ${l.rerunMs} ms`,
  );
  return [
    `CRASH_SEED=${SEED} (remote, budget ${LONG_BUDGET ? 'long' : 'ci'}): ${kills.length} kill trials, ${struck.length} struck mid-run, ${struck.filter((l) => l.landed).length} after the run's first write, ${struck.filter((l) => l.midCopy).length} mid-copy`,
    ...VICTIMS.map(
      (v) =>
        `  victim ${v}: ${kills.filter((l) => l.victim === v).length} trials, ${struck.filter((l) => l.victim === v).length} struck, ${struck.filter((l) => l.victim === v && l.midCopy).length} mid-copy`,
    ),
    ...lines,
  ].join('\n');
}

describe.skipIf(!ENABLED)('a remote root: ssh, the agent or tsync SIGKILLed at a random moment', () => {
  afterAll(() => {
    console.log(report());
  });

  test(`one-way push (remote replica): ${ONE_WAY_TRIALS} kills`, async () => {
    await oneWayChain('push', SEED, ONE_WAY_TRIALS);
    expect(logs.filter((l) => l.family === 'one-way push' && l.victim !== 'none')).toHaveLength(ONE_WAY_TRIALS);
  }, 3_600_000);

  test(`one-way pull (remote source): ${ONE_WAY_TRIALS} kills`, async () => {
    await oneWayChain('pull', SEED + 1, ONE_WAY_TRIALS);
    expect(logs.filter((l) => l.family === 'one-way pull' && l.victim !== 'none')).toHaveLength(ONE_WAY_TRIALS);
  }, 3_600_000);

  test(`two-way, edits on both sides and conflicts: ${TWO_WAY_TRIALS} kills`, async () => {
    await twoWayChain(SEED + 2, TWO_WAY_TRIALS);
    expect(logs.filter((l) => l.family === 'two-way' && l.victim !== 'none')).toHaveLength(TWO_WAY_TRIALS);
  }, 3_600_000);

  // Last: strikes that all land before the run writes, or after it ended, test little.
  test('most strikes landed mid-run, after the first write; every kind of victim was struck', () => {
    const kills = logs.filter((l) => l.victim !== 'none');
    expect(kills.length, 'no kill trials ran').toBeGreaterThan(0);
    const landed = kills.filter((l) => l.landed).length;
    expect(landed / kills.length, `${landed} of ${kills.length} strikes landed after the run's first write`).toBeGreaterThanOrEqual(0.5);
    if (kills.length >= 8)
      for (const v of VICTIMS)
        expect(
          kills.some((l) => l.victim === v && l.struck),
          `no ${v} strike landed`,
        ).toBe(true);
  });
});
