#!/usr/bin/env node
// tsync benchmark: tsync --one-way vs cp -a vs rsync -a --delete (and tsync two-way vs unison) on
// generated datasets. It reports; it never asserts. See bench/README.md for what, how and caveats.
//
// It prints issue 11's target table first: every row, met / not met / not run (rows of opt-in scenarios).
//
//   npm run bench                       # build, then the default run (estimated ~20-25 min on 2 cores, watch rows included)
//   BENCH_QUICK=1 node bench/run.mjs    # small datasets, 2 repetitions: a smoke run
//   BENCH_ONLY=small,hash node bench/run.mjs
//   BENCH_ONLY=startup BENCH_RESULTS=/tmp/startup.md node bench/run.mjs   # start-up only (~10 s)
//   BENCH_ONLY=1m BENCH_RESULTS=bench/results-1m.md node bench/run.mjs   # 1,000,000 empty files (opt-in, ~10 min)
//   BENCH_ONLY=5m BENCH_RESULTS=bench/results-5m.md node bench/run.mjs   # 5,000,000 empty files (opt-in, long)
//   BENCH_ONLY=xattrs BENCH_RESULTS=/tmp/xattrs.md node bench/run.mjs   # 10k files with xattrs and owners (opt-in, ~2.5 min)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyChanges, decorateXattrTree, generateLargeFiles, generateSmallTree, generateSparseFile, planIncremental, planTwoWay, XATTR_TREE_OWNER } from './lib/data.mjs';
import { checkContents, compareTrees } from './lib/verify.mjs';
import { verifierSelfTest } from './lib/verify-self-test.mjs';
import { compareMeta } from './lib/verify-meta.mjs';
import { gitStamp } from './lib/git-stamp.mjs';
import { judgeRun } from './lib/judge.mjs';
import { onlyScenarios, positiveIntEnv, startupEnvText, withoutStartupEnv } from './lib/env.mjs';
import { cpa, GNU_TIME, joinArgs, measure, median, rmrf, run, sleep, which } from './lib/measure.mjs';
import { summarizeProfile } from './lib/cpuprofile.mjs';
import { notRun, targetsTable, verdict, watchTargetRows } from './lib/targets.mjs';

/** Before anything is started: every command below inherits this environment. */
const STARTUP_ENV_REMOVED = withoutStartupEnv();

/** @typedef {import('./lib/data.mjs').Manifest} Manifest */
/** @typedef {import('./lib/data.mjs').SmallTreeManifest} SmallTreeManifest */
/** @typedef {{ ok: boolean, mismatches: number, problems: string[] }} Verdict */
/** @typedef {{ walls: number[], rss: number[], failures: string[], checks: number, wrong: number }} Slot */
/** @typedef {{ tsyncStatus: string, tsyncMessage: string }} TwoWayOutcome */
/** @typedef {Awaited<ReturnType<typeof hashScenario>>} HashOutcome */
/** @typedef {{ figures: import('./lib/targets.mjs').WatchFigures | null, body: string, error?: string }} WatchOutcome */
/** @typedef {{ files: number, status: 'ran' | 'failed', reference?: { perEntryUs: number, source: string } }} FiveMOutcome */
/** @typedef {{ loadStart: string, git: { commit: string | null, dirty: string[], label: string }, startup: number, startupRows?: boolean, small?: SmallTreeManifest, twoway?: TwoWayOutcome, twoway100k?: TwoWayOutcome, hash?: HashOutcome, fiveM?: FiveMOutcome, watch?: WatchOutcome, sparse?: string, xattrs?: string }} Context */
/** @typedef {ReturnType<typeof buildReport>} Report */
/** @typedef {'tsync' | 'cp' | 'cp+sync' | 'rsync' | 'unison'} Tool */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSYNC_BIN = join(ROOT, 'bin', 'tsync.js');
const NODE = process.execPath;
const E = process.env;

// ---------------------------------------------------------------------------------------------------
// Configuration (environment variables; see README)

const QUICK = E.BENCH_QUICK === '1';
const SCENARIOS = ['startup', 'small', 'large', 'sparse', 'xattrs', '100k', 'hash', 'twoway', 'watch', '1m', '5m'];
/** Opt-in only (named in BENCH_ONLY): the 1M-file scenario takes ~13 minutes, the 5M one far longer, xattrs ~2.5 minutes. */
const OPT_IN = ['1m', '5m', 'xattrs'];
const DEFAULT_SCENARIOS = SCENARIOS.filter((s) => !OPT_IN.includes(s));
const ONLY = onlyScenarios(SCENARIOS, DEFAULT_SCENARIOS, 'bench');
const SEED = intEnv('BENCH_SEED') ?? 20240601;
const reps = (/** @type {string} */ name, /** @type {number} */ dflt) => intEnv(`BENCH_REPEAT_${name}`) ?? intEnv('BENCH_REPEAT') ?? (QUICK ? 2 : dflt);
const REPS = {
  small: reps('SMALL', 5),
  large: reps('LARGE', 5),
  sparse: reps('SPARSE', 3),
  xattrs: reps('XATTRS', 3),
  '100k-copy': reps('100K_COPY', 2),
  '100k': reps('100K', 3),
  '100k-twoway': reps('100K_TWOWAY', 3),
  '1m': reps('1M', 1),
  hash: reps('HASH', 5),
  twoway: reps('TWOWAY', 5),
  startup: reps('STARTUP', 10),
};
const MiB = 1 << 20;
const SPEC = {
  small: QUICK ? { files: 1000, top: 5, sub: 4, maxSize: 16 * 1024 } : { files: 10_000, top: 14, sub: 14, maxSize: 16 * 1024 },
  '100k': QUICK ? { files: 5000, top: 10, sub: 10, maxSize: 4 * 1024 } : { files: 100_000, top: 45, sub: 44, maxSize: 4 * 1024 },
  large: QUICK ? { count: 4, size: 16 * MiB } : { count: 4, size: 256 * MiB },
  sparse: { size: 100 * MiB, blocks: 8 },
  /** The small tree's shape with a seed of its own; every `ownerEvery`-th file gets a non-root owner. */
  xattrs: QUICK ? { files: 1000, top: 5, sub: 4, maxSize: 16 * 1024, ownerEvery: 10 } : { files: 10_000, top: 14, sub: 14, maxSize: 16 * 1024, ownerEvery: 10 },
  '1m': QUICK ? 20_000 : 1_000_000,
  '5m': QUICK ? 50_000 : 5_000_000,
  hashFileSize: QUICK ? 64 * MiB : 256 * MiB,
  hashBuffers: [256 * 1024, 1 * MiB, 4 * MiB, 16 * MiB],
  changePct: 1,
};
const PROFILE = E.BENCH_PROFILE === '1';
/** Extra flags for every tsync command, e.g. BENCH_TSYNC_FLAGS=--no-fsync. */
const TSYNC_FLAGS = (E.BENCH_TSYNC_FLAGS ?? '').split(/\s+/).filter(Boolean);
const KEEP = E.BENCH_KEEP === '1';
const WORK_ROOT = resolve(E.BENCH_WORK ?? join(ROOT, 'bench', '.work'));
const WORK = join(WORK_ROOT, `run-${process.pid}`);
const TRASH = join(WORK, 'trash');
const RESULTS = E.BENCH_RESULTS ?? (QUICK ? null : join(ROOT, 'bench', 'results.md'));
/** Issue 11's start-up target: `tsync --version` and `tsync status` on an empty pair within this factor of `node -e 0`. */
const STARTUP_TARGET = 1.3;
/** Pause between preparing a tree and syncing it: longer than tsync's 50 ms racy-ctime window. */
const SETTLE_MS = 150;

/** @param {string} name */
function intEnv(name) {
  return positiveIntEnv(name, 'bench');
}

// ---------------------------------------------------------------------------------------------------
// Logging and bookkeeping

const T0 = Date.now();
/** @param {string} msg */
function log(msg) {
  const s = Math.round((Date.now() - T0) / 1000);
  process.stderr.write(`[bench ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${msg}\n`);
}

/** scenario key -> tool -> { walls, rss, failures: [strings], checks, wrong } */
/** @type {Map<string, Map<string, Slot>>} */
const results = new Map();
/** @type {Map<string, string>} */
const commands = new Map(); // "scenario/tool" -> command template, for results.md
/** @type {Array<{ label: string, wall: number } & ReturnType<typeof summarizeProfile>>} */
const profiles = [];

/** @param {string} scenario @param {string} tool @returns {Slot} */
function slot(scenario, tool) {
  if (!results.has(scenario)) results.set(scenario, new Map());
  const m = /** @type {Map<string, Slot>} */ (results.get(scenario));
  if (!m.has(tool)) m.set(tool, { walls: [], rss: [], failures: [], checks: 0, wrong: 0 });
  return /** @type {Slot} */ (m.get(tool));
}

/**
 * Paths in commands are shown relative to the work dir so results.md reads cleanly.
 * @param {string[]} argv
 */
function template(argv) {
  return joinArgs(argv.map((a) => a.replace(WORK, '$WORK').replace(ROOT, '.').replace(NODE, 'node')));
}

let timeFileSeq = 0;
/**
 * One measured run: GNU time around the command, then a correctness check. Never throws for a failing
 * command: a failure is recorded and reported in the table.
 * @param {string} scenario @param {string} tool @param {string[]} argv
 * @param {{ verify?: () => Verdict, env?: NodeJS.ProcessEnv, expectNoop?: boolean, flush?: boolean }} [options]
 */
function timed(scenario, tool, argv, { verify, env, expectNoop = false, flush = true } = {}) {
  const s = slot(scenario, tool);
  commands.set(`${scenario}/${tool}`, template(argv));
  const m = measure(argv, { env, flush, timeFile: join(WORK, `time-${timeFileSeq++}.txt`) });
  s.walls.push(m.wall);
  s.rss.push(m.rssKiB);
  const tag = judgeRun(s, m, { tsync: tool.startsWith('tsync'), expectNoop, verify });
  log(`  ${scenario} ${tool}: ${m.wall.toFixed(3)} s, max RSS ${(m.rssKiB / 1024).toFixed(0)} MiB${tag}`);
  return m;
}

/** @template T @param {T[]} xs @param {number} r @returns {T[]} */
const rotate = (xs, r) => xs.map((_, i) => /** @type {T} */ (xs[(i + r) % xs.length]));

// ---------------------------------------------------------------------------------------------------
// Commands

/** The flags that turn off what issue 12 keeps by default: the "metadata cost" rows compare tsync with and without them. */
const NO_META_FLAGS = ['--no-owner', '--no-group', '--no-xattrs'];
const tsyncOneWay = (/** @type {string} */ src, /** @type {string} */ dst, /** @type {string} */ state) => [
  NODE,
  TSYNC_BIN,
  'sync',
  '--one-way',
  src,
  dst,
  '--state-dir',
  state,
  ...TSYNC_FLAGS,
];
const tsyncTwoWay = (/** @type {string} */ a, /** @type {string} */ b, /** @type {string} */ state) => [NODE, TSYNC_BIN, 'sync', a, b, '--state-dir', state, ...TSYNC_FLAGS];
const rsync = (/** @type {string} */ src, /** @type {string} */ dst) => ['rsync', '-a', '--delete', `${src}/`, `${dst}/`];
const cpInitial = (/** @type {string} */ src, /** @type {string} */ dst) => ['cp', '-a', src, dst];
/** `cp -a; sync`, timed together: what cp costs when its copy must be on the disk, as tsync's is when it exits. */
const cpThenSync = (/** @type {string} */ src, /** @type {string} */ dst) => ['sh', '-c', 'cp -a "$1" "$2" && sync', 'sh', src, dst];
/** cp has no mirror mode: the incremental baseline re-copies every file over the old tree (and cannot delete). */
const cpOver = (/** @type {string} */ src, /** @type {string} */ dst) => ['cp', '-a', `${src}/.`, `${dst}/`];
const unison = (/** @type {string} */ a, /** @type {string} */ b) => ['unison', a, b, '-batch', '-auto', '-times'];

/** @param {string} tool @param {'initial' | 'noop' | 'incremental'} kind @param {string} src @param {string} dst @param {string} state */
function oneWayCmd(tool, kind, src, dst, state) {
  if (tool === 'tsync') return tsyncOneWay(src, dst, state);
  if (tool === 'tsync-nometa') return [...tsyncOneWay(src, dst, state), ...NO_META_FLAGS];
  if (tool === 'rsync') return rsync(src, dst);
  if (tool === 'cp+sync') return cpThenSync(src, dst);
  return kind === 'initial' ? cpInitial(src, dst) : cpOver(src, dst);
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

/**
 * Moves a tree out of the way instead of deleting it. On this machine's ext4 (mounted with `discard`)
 * deleting ~100k files takes 10-40 s and leaves file creation several times slower for a while after,
 * which would leak into whichever measurement comes next. Everything moved here is deleted once, at
 * the very end, after all measurements.
 */
let trashSeq = 0;
/** @param {string} p */
function discard(p) {
  if (!existsSync(p)) return;
  mkdirSync(TRASH, { recursive: true });
  renameSync(p, join(TRASH, String(trashSeq++)));
}

/**
 * Puts a tree back to the pristine dataset without re-creating it: rsync rewrites only what differs
 * (the ~3% a scenario touched), so there is no mass delete/create between measurements.
 * @param {string} pristine @param {string} tree
 */
function restore(pristine, tree) {
  run(['rsync', '-a', '--delete', `${pristine}/`, `${tree}/`]);
}

/** @param {SmallTreeManifest} data */
async function smallScenario(data) {
  const W = join(WORK, 'small');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const dst = (/** @type {string} */ t) => join(W, `dst-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  const tools = ['tsync', 'cp', 'rsync'];

  log(`small: initial copy + first re-sync, ${REPS.small} repetitions`);
  // tsync-nometa: the metadata cost on a tree of ordinary files (no xattrs, one owner), issue 12
  for (let r = 0; r < REPS.small; r++) {
    for (const tool of rotate([...tools, 'cp+sync', 'tsync-nometa'], r)) {
      discard(dst(tool));
      discard(st(tool));
      timed('small-initial', tool, oneWayCmd(tool, 'initial', S, dst(tool), st(tool)), { verify: () => compareTrees(S, dst(tool), { content: 'all' }) });
      if (tool === 'cp' || tool === 'cp+sync') continue;
      await sleep(SETTLE_MS);
      timed('small-first', tool, oneWayCmd(tool, 'noop', S, dst(tool), st(tool)), { verify: () => compareTrees(S, dst(tool), { content: 'none' }), expectNoop: true });
    }
  }
  if (PROFILE) await profileTsync('small: initial copy', () => tsyncOneWay(S, join(W, 'prof-dst'), join(W, 'prof-state')));

  log(`small: no-op re-sync (steady state), ${REPS.small} repetitions`);
  const noopTools = ['tsync', 'rsync', 'tsync-nometa'];
  for (const tool of noopTools) run(oneWayCmd(tool, 'noop', S, dst(tool), st(tool))); // untimed warm-up
  for (let r = 0; r < REPS.small; r++) {
    for (const tool of rotate(noopTools, r)) {
      timed('small-noop', tool, oneWayCmd(tool, 'noop', S, dst(tool), st(tool)), { verify: () => compareTrees(S, dst(tool), { content: 'none' }), expectNoop: true });
    }
  }
  if (PROFILE) await profileTsync('small: no-op re-sync', () => tsyncOneWay(S, dst('tsync'), st('tsync')));

  const prepare = await incrementalScenario('small-incr', data, W, tools, REPS.small, 'all');
  if (PROFILE) {
    await prepare('tsync');
    await profileTsync('small: incremental', () => tsyncOneWay(join(W, 'inc-src-tsync'), join(W, 'inc-dst-tsync'), join(W, 'inc-state-tsync')));
  }
}

/**
 * One-way incremental: pct% of files changed, added and deleted in the source, then sync. Each tool has
 * its own source/destination pair, copied once from the pristine dataset and put back to it (restore)
 * before every repetition; tsync's index for its pair is kept, as in real use. Returns the preparation
 * step (for the profile run).
 * @param {string} key @param {SmallTreeManifest} data @param {string} W @param {string[]} tools @param {number} reps
 * @param {'all' | 'sample'} content
 */
async function incrementalScenario(key, data, W, tools, reps, content) {
  const S = data.root;
  const plan = planIncremental(data, SPEC.changePct, SEED + 1);
  log(`${key}: ${plan.changed.length} changed, ${plan.added.length} added, ${plan.deleted.length} deleted, ${reps} repetitions`);
  const pair = (/** @type {string} */ t) => ({ src: join(W, `inc-src-${t}`), dst: join(W, `inc-dst-${t}`), state: join(W, `inc-state-${t}`) });
  for (const t of tools) {
    cpa(S, pair(t).src);
    cpa(S, pair(t).dst);
  }
  const deletedByPlan = new Set(plan.deleted);
  const prepare = async (/** @type {string} */ tool) => {
    const p = pair(tool);
    restore(S, p.src);
    restore(S, p.dst);
    if (tool === 'tsync') {
      // Bring the index up to date with the restored trees (untimed), as after a real previous sync.
      await sleep(SETTLE_MS);
      const res = run(tsyncOneWay(p.src, p.dst, p.state), { allowFail: true });
      if (res.status !== 0) {
        log(`  (tsync index refresh exited ${res.status}; rebuilding it from scratch)`);
        discard(p.state);
        run(tsyncOneWay(p.src, p.dst, p.state));
      }
    }
    applyChanges(p.src, plan, data.pool, SEED + 2, 'incremental');
    await sleep(SETTLE_MS);
  };
  for (let r = 0; r < reps; r++) {
    for (const tool of rotate(tools, r)) {
      await prepare(tool);
      const p = pair(tool);
      timed(key, tool, oneWayCmd(tool, 'incremental', p.src, p.dst, p.state), {
        // `cp -a SRC/. DST/` cannot delete: the files the plan deleted are expected to remain.
        verify: () => compareTrees(p.src, p.dst, { content, sampleEvery: 50, allowExtra: tool === 'cp' ? deletedByPlan : undefined }),
      });
    }
  }
  return prepare;
}

/** @param {Manifest} data */
async function largeScenario(data) {
  const W = join(WORK, 'large');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const tools = ['tsync', 'cp', 'cp+sync', 'rsync'];
  log(`large: initial copy of ${data.files.length} x ${/** @type {import('./lib/data.mjs').FileSpec} */ (data.files[0]).size / MiB} MiB, ${REPS.large} repetitions`);
  for (let r = 0; r < REPS.large; r++) {
    for (const tool of rotate(tools, r)) {
      const D = join(W, `dst-${tool}`);
      const ST = join(W, `state-${tool}`);
      // Four big files are cheap to delete (unlike 100k small ones), and deleting them right away lets
      // the next copy reuse page-cache memory; with the trash, cp -a alone varied from 0.37 to 2.97 s.
      rmrf(D);
      rmrf(ST);
      timed('large-initial', tool, oneWayCmd(tool, 'initial', S, D, ST), { verify: () => compareTrees(S, D, { content: 'all' }) });
    }
  }
  for (const tool of tools) rmrf(join(W, `dst-${tool}`));
  if (PROFILE) await profileTsync('large: initial copy', () => tsyncOneWay(S, join(W, 'prof-dst'), join(W, 'prof-state')));
}

/**
 * A 100 MiB file that is almost all hole: initial copy by tsync, `cp -a` and `rsync -aHAXS` (-S: rsync
 * keeps holes only when asked), timed, and the replica's disk use (`du -k`) beside the source's.
 * Returns the markdown table of that (the time rows also go to the main table as sparse-initial).
 * @param {Manifest} data
 */
function sparseScenario(data) {
  const W = join(WORK, 'sparse');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const tools = ['tsync', 'cp', 'rsync'];
  const cmd = (/** @type {string} */ tool, /** @type {string} */ dst, /** @type {string} */ state) =>
    tool === 'tsync' ? tsyncOneWay(S, dst, state) : tool === 'cp' ? cpInitial(S, dst) : ['rsync', '-aHAXS', '--delete', `${S}/`, `${dst}/`];
  const duKiB = (/** @type {string} */ p) => Number(run(['du', '-sk', p]).stdout.split('\t')[0]);
  /** @type {Map<string, number[]>} */
  const disk = new Map(tools.map((t) => [t, []]));
  log(`sparse: initial copy of a ${SPEC.sparse.size / MiB} MiB file with ${SPEC.sparse.blocks} data blocks, ${REPS.sparse} repetitions`);
  for (let r = 0; r < REPS.sparse; r++) {
    for (const tool of rotate(tools, r)) {
      const D = join(W, `dst-${tool}`);
      const ST = join(W, `state-${tool}`);
      rmrf(D);
      rmrf(ST);
      timed('sparse-initial', tool, cmd(tool, D, ST), { verify: () => compareTrees(S, D, { content: 'all' }) });
      disk.get(tool)?.push(duKiB(D));
    }
  }
  for (const tool of tools) rmrf(join(W, `dst-${tool}`));
  const wall = (/** @type {string} */ tool) => median(results.get('sparse-initial')?.get(tool)?.walls ?? []);
  const rows = tools.map((t) => `| ${t === 'rsync' ? 'rsync -aHAXS' : t === 'cp' ? 'cp -a' : 'tsync'} | ${fmtS(wall(t))} | ${Math.max(...(disk.get(t) ?? [0]))} KiB |`);
  return [
    `| ${SPEC.sparse.size / MiB} MiB sparse file, initial copy | median time | replica disk use (du -k, max over runs) |`,
    '|---|---|---|',
    ...rows,
    `| (source) | | ${duKiB(S)} KiB |`,
  ].join('\n');
}

/** The `xattrs` scenario's tools: key -> label in its table (every one keeps owners and xattrs except tsync-nometa). */
const XATTR_TOOLS = {
  tsync: 'tsync',
  'tsync-nometa': 'tsync --no-owner --no-group --no-xattrs',
  cp: 'cp -a',
  'cp-nometa': 'cp -r --preserve=mode,timestamps',
  rsync: 'rsync -aHAXS --delete',
  'rsync-nometa': 'rsync -a --no-owner --no-group --delete',
};

/**
 * 10,000 small files, each with a user.* xattr, some (and some directories) owned by a non-root user:
 * initial copy by tsync (default: keeps owner, group, xattrs), tsync with the three --no-* flags, cp -a
 * and rsync -aHAXS, then the no-op re-sync of the three that have one. Each replica is checked against the
 * source (contents, and owners + xattrs for every tool but the --no-* run) and its disk use measured.
 * Returns the markdown table of that (the timings also go to the main table's details as xattrs-*).
 * @param {SmallTreeManifest} data
 */
async function xattrsScenario(data) {
  const W = join(WORK, 'xattrs');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const dst = (/** @type {string} */ t) => join(W, `dst-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  const tools = Object.keys(XATTR_TOOLS);
  const syncTools = ['tsync', 'tsync-nometa', 'rsync', 'rsync-nometa'];
  // the peers without what issue 12 keeps (owners, groups, xattrs, ACLs, hard links, holes), to show what
  // keeping it costs each of them on this tree, beside tsync's own metadata cost
  const keepsNoMeta = (/** @type {string} */ tool) => tool.endsWith('-nometa');
  const cmd = (/** @type {string} */ tool) => {
    if (tool === 'tsync' || tool === 'tsync-nometa' || tool === 'cp') return oneWayCmd(tool, 'initial', S, dst(tool), st(tool));
    if (tool === 'cp-nometa') return ['cp', '-r', '--preserve=mode,timestamps', S, dst(tool)];
    if (tool === 'rsync-nometa') return ['rsync', '-a', '--no-owner', '--no-group', '--delete', `${S}/`, `${dst(tool)}/`];
    return ['rsync', '-aHAXS', '--delete', `${S}/`, `${dst(tool)}/`];
  };
  const check = (/** @type {string} */ tool, /** @type {'all' | 'none'} */ content) => () => {
    const tree = compareTrees(S, dst(tool), { content });
    if (keepsNoMeta(tool) || !tree.ok) return tree;
    return compareMeta(S, dst(tool));
  };
  const duKiB = (/** @type {string} */ p) => Number(run(['du', '-sk', p]).stdout.split('\t')[0]);

  log(`xattrs: initial copy of ${data.files.length} files with xattrs, ${REPS.xattrs} repetitions`);
  for (let r = 0; r < REPS.xattrs; r++) {
    for (const tool of rotate(tools, r)) {
      discard(dst(tool));
      discard(st(tool));
      timed('xattrs-initial', tool, cmd(tool), { verify: check(tool, 'all') });
    }
  }
  log(`xattrs: no-op re-sync (steady state), ${REPS.xattrs} repetitions`);
  for (const tool of syncTools) run(cmd(tool), { allowFail: true }); // untimed: the first re-sync after a copy re-hashes
  for (let r = 0; r < REPS.xattrs; r++) {
    for (const tool of rotate(syncTools, r)) {
      timed('xattrs-noop', tool, cmd(tool), { verify: check(tool, 'none'), expectNoop: true });
    }
  }

  const cell = (/** @type {string} */ key, /** @type {string} */ tool) => (results.get(key)?.has(tool) ? cellOf(key, tool).text : 'n/a');
  const med = (/** @type {string} */ key, /** @type {string} */ tool) => median(results.get(key)?.get(tool)?.walls ?? []);
  const rows = tools.map(
    (t) =>
      `| ${XATTR_TOOLS[/** @type {keyof typeof XATTR_TOOLS} */ (t)]} | ${cell('xattrs-initial', t)} | ${cell('xattrs-noop', t)} | ${existsSync(dst(t)) ? `${duKiB(dst(t))} KiB` : 'n/a'} | ${keepsNoMeta(t) ? 'not checked (off)' : 'checked'} |`,
  );
  const ratio = (/** @type {string} */ key, /** @type {string} */ peer, /** @type {string} */ tool = 'tsync') => fmtRatio(med(key, tool), med(key, peer));
  return [
    `| ${fmtCount(data.files.length)} files with a user.* xattr each | initial copy (median) | no-op re-sync (median) | replica disk use (du -sk) | owners, groups, xattrs |`,
    '|---|---|---|---|---|',
    ...rows,
    `| (source) | | | ${duKiB(S)} KiB | |`,
    '',
    '| tsync (default) against | initial copy | no-op re-sync |',
    '|---|---|---|',
    `| tsync --no-owner --no-group --no-xattrs ("metadata cost", target ≤ 1.10×, issue 12) | ${ratio('xattrs-initial', 'tsync-nometa')} | ${ratio('xattrs-noop', 'tsync-nometa')} |`,
    `| rsync -aHAXS --delete | ${ratio('xattrs-initial', 'rsync')} | ${ratio('xattrs-noop', 'rsync')} |`,
    `| cp -a | ${ratio('xattrs-initial', 'cp')} | n/a |`,
    '',
    'What keeping owners and xattrs costs each tool on this tree (each against itself without them):',
    '',
    '| tool | initial copy | no-op re-sync |',
    '|---|---|---|',
    `| tsync against tsync --no-owner --no-group --no-xattrs | ${ratio('xattrs-initial', 'tsync-nometa')} | ${ratio('xattrs-noop', 'tsync-nometa')} |`,
    `| rsync -aHAXS against rsync -a --no-owner --no-group | ${ratio('xattrs-initial', 'rsync-nometa', 'rsync')} | ${ratio('xattrs-noop', 'rsync-nometa', 'rsync')} |`,
    `| cp -a against cp -r --preserve=mode,timestamps | ${ratio('xattrs-initial', 'cp-nometa', 'cp')} | n/a |`,
  ].join('\n');
}

/** @param {SmallTreeManifest} data */
async function hundredKScenario(data) {
  const W = join(WORK, '100k');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const dst = (/** @type {string} */ t) => join(W, `dst-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  const tools = ['tsync', 'rsync'];
  const copyTools = ['tsync', 'cp', 'cp+sync', 'rsync'];
  const check =
    (/** @type {string} */ tool, /** @type {'all' | 'sample' | 'none'} */ content = 'sample') =>
    () =>
      compareTrees(S, dst(tool), { content, sampleEvery: 50 });
  log(`100k: initial copy + first re-sync of ${data.files.length} files, ${REPS['100k-copy']} repetitions`);
  for (let r = 0; r < REPS['100k-copy']; r++) {
    for (const tool of rotate(copyTools, r)) {
      discard(dst(tool));
      discard(st(tool));
      timed('100k-initial', tool, oneWayCmd(tool, 'initial', S, dst(tool), st(tool)), { verify: check(tool) });
      if (tool === 'cp' || tool === 'cp+sync') continue;
      await sleep(SETTLE_MS);
      timed('100k-first', tool, oneWayCmd(tool, 'noop', S, dst(tool), st(tool)), { verify: check(tool, 'none'), expectNoop: true });
    }
  }
  log(`100k: no-op re-sync (steady state), ${REPS['100k']} repetitions`);
  for (const tool of tools) run(oneWayCmd(tool, 'noop', S, dst(tool), st(tool)));
  for (let r = 0; r < REPS['100k']; r++) {
    for (const tool of rotate(tools, r)) {
      timed('100k-noop', tool, oneWayCmd(tool, 'noop', S, dst(tool), st(tool)), { verify: check(tool, 'none'), expectNoop: true });
    }
  }
  if (PROFILE) {
    await profileTsync('100k: no-op re-sync', () => tsyncOneWay(S, dst('tsync'), st('tsync')));
    await profileTsync('100k: initial copy', () => tsyncOneWay(S, join(W, 'prof-dst'), join(W, 'prof-state')));
  }
  await incrementalScenario('100k-incr', data, W, tools, REPS['100k'], 'sample');
}

/**
 * 1,000,000 empty files in 1,000 directories: initial copy and no-op, for time and peak RSS.
 * @param {string} root @param {number} count
 */
function generateEmptyFiles(root, count) {
  const perDir = 1000;
  // `xargs touch` (two processes, as many names per exec as fit) creates empty files about twice as fast
  // here as a Node loop of openSync/closeSync: it matters at 5M files. Names go in batches of 200 dirs.
  const batchDirs = 200;
  for (let d0 = 0; d0 * perDir < count; d0 += batchDirs) {
    /** @type {string[]} */
    const names = [];
    for (let d = d0; d < d0 + batchDirs && d * perDir < count; d++) {
      const dir = `d${String(d).padStart(4, '0')}`;
      mkdirSync(join(root, dir), { recursive: true });
      for (let f = 0; f < perDir && d * perDir + f < count; f++) names.push(`${dir}/f${f}`);
    }
    const r = spawnSync('xargs', ['-0', '-P', '2', '-n', '5000', 'touch', '--'], { cwd: root, input: `${names.join('\0')}\0`, stdio: ['pipe', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`xargs touch exited ${r.status ?? r.signal}: ${r.stderr}`);
  }
  return { root };
}

/** @param {{ root: string }} data */
async function millionScenario(data) {
  const W = join(WORK, '1m');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const dst = (/** @type {string} */ t) => join(W, `dst-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  const tools = ['tsync', 'cp', 'rsync'];
  const check = (/** @type {string} */ tool) => () => compareTrees(S, dst(tool), { content: 'none', dirMeta: tool !== 'cp' });
  for (let r = 0; r < REPS['1m']; r++) {
    for (const tool of rotate(tools, r)) {
      discard(dst(tool));
      discard(st(tool));
      timed('1m-initial', tool, oneWayCmd(tool, 'initial', S, dst(tool), st(tool)), { verify: check(tool) });
      if (tool === 'cp') continue;
      await sleep(SETTLE_MS);
      run(oneWayCmd(tool, 'noop', S, dst(tool), st(tool))); // untimed: the steady state follows
      timed('1m-noop', tool, oneWayCmd(tool, 'noop', S, dst(tool), st(tool)), { verify: check(tool), expectNoop: true });
    }
  }
}

/**
 * 5,000,000 empty files, 1,000 per directory (opt-in: BENCH_ONLY=5m). tsync copies the tree once (timed,
 * for the record), then the one-way no-op is timed with its peak RSS. Its time per entry (start-up left
 * out, both trees counted) is set against the 100k no-op's: from this run when it ran, else from
 * bench/results.md. The replica is checked one top-level directory at a time: the verifier holds every
 * entry of what it compares in memory, and 5M entries at once would not fit in this process's heap.
 * @param {{ root: string }} data @param {number} files @param {Context} ctx
 * @returns {Promise<FiveMOutcome>}
 */
async function fiveMillionScenario(data, files, ctx) {
  const W = join(WORK, '5m');
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const D = join(W, 'dst-tsync');
  const ST = join(W, 'state-tsync');
  const verify = () => {
    const top = readdirSync(S).sort();
    const got = readdirSync(D)
      .filter((n) => n !== '.tsync')
      .sort();
    /** @type {Verdict} */
    const v = { ok: true, mismatches: 0, problems: [] };
    if (top.join('/') !== got.join('/')) {
      v.ok = false;
      v.mismatches++;
      v.problems.push(`top-level listing differs: ${top.length} vs ${got.length} entries`);
    }
    for (const d of top) {
      const r = compareTrees(join(S, d), join(D, d), { content: 'none' });
      if (!r.ok) {
        v.ok = false;
        v.mismatches += r.mismatches;
        v.problems.push(...r.problems.slice(0, 3).map((p) => `${d}/: ${p}`));
      }
    }
    return v;
  };
  const copy = timed('5m-initial', 'tsync', tsyncOneWay(S, D, ST), { verify });
  if (copy.status !== 0) return { files, status: 'failed' };
  await sleep(SETTLE_MS);
  run(tsyncOneWay(S, D, ST), { allowFail: true }); // untimed: the steady state follows
  timed('5m-noop', 'tsync', tsyncOneWay(S, D, ST), { verify, expectNoop: true });
  return { files, status: 'ran', reference: hundredKPerEntry(ctx) };
}

/**
 * The 100k one-way no-op's time per entry in µs (start-up left out, both trees counted): from this run if
 * it measured one, else from bench/results.md (its 100k no-op row and its start-up line).
 * @param {Context} ctx
 * @returns {{ perEntryUs: number, source: string } | undefined}
 */
function hundredKPerEntry(ctx) {
  const here = results.get('100k-noop')?.get('tsync');
  if (here !== undefined) return { perEntryUs: perEntryUs(median(here.walls), ctx.startup, SPEC['100k'].files), source: 'this run' };
  try {
    const md = readFileSync(join(ROOT, 'bench', 'results.md'), 'utf8');
    const row = /^\| 100k: no-op re-sync \(steady state\) \| ([\d.]+) (ms|s)\b/m.exec(md);
    const start = /^tsync process start-up \(`node bin\/tsync\.js --version`[^:]*\): ([\d.]+) (ms|s)\b/m.exec(md);
    const files = /^\| 100k: ([\d,]+) files, initial copy/m.exec(md);
    const commit = /^\| tsync \| .*\(git ([0-9a-f]{7,})/m.exec(md);
    if (!row || !start || !files) return undefined;
    const sec = (/** @type {RegExpExecArray} */ m) => Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
    return {
      perEntryUs: perEntryUs(sec(row), sec(start), Number(/** @type {string} */ (files[1]).replace(/,/g, ''))),
      source: `bench/results.md${commit ? ` (git ${/** @type {string} */ (commit[1]).slice(0, 8)})` : ''}`,
    };
  } catch {
    return undefined;
  }
}

/** @param {number} wall @param {number} startup @param {number} files */
function perEntryUs(wall, startup, files) {
  return ((wall - startup) / (2 * files)) * 1e6;
}

/**
 * The watch rows: bench/watch.mjs runs its latency and cycle scenarios for the two tsync modes and hands
 * its figures back as JSON; its tables go into results.md.
 * @returns {WatchOutcome}
 */
function watchScenario() {
  const json = join(WORK, 'watch-figures.json');
  const md = join(WORK, 'watch-results.md');
  log('watch: bench/watch.mjs latency + cycle (100k start-up, single-file changes), tsync one-way and two-way');
  const r = spawnSync(NODE, [join(ROOT, 'bench', 'watch.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
    env: { ...process.env, BENCH_WATCH_ONLY: 'latency,cycle', BENCH_WATCH_TOOLS: 'tsync1,tsync2', BENCH_WATCH_JSON: json, BENCH_WATCH_RESULTS: md, BENCH_WATCH_WORK: WORK },
  });
  if (r.status !== 0 || !existsSync(json)) return { figures: null, body: r.stdout ?? '', error: `bench/watch.mjs exited ${r.status ?? r.signal}` };
  return { figures: JSON.parse(readFileSync(json, 'utf8')), body: r.stdout };
}

/**
 * Hash throughput, in this process, with tsync's own hasher (dist/hash/xxhash.js).
 * @param {string} file @param {number} size
 */
async function hashScenario(file, size) {
  const mod = await import(pathToFileURL(join(ROOT, 'dist', 'hash', 'xxhash.js')).href);
  const { open } = await import('node:fs/promises');
  await mod.loadHasher();
  const pathBuf = Buffer.from(file);
  const warm = readFileSync(file); // brings the file into the page cache; also the in-memory input
  log(`hash: ${size / MiB} MiB warm file, buffers ${SPEC.hashBuffers.map((b) => fmtBytes(b)).join(', ')}, ${REPS.hash} repetitions each`);
  const ref = (() => {
    const h = mod.streamingHash();
    h.update(warm);
    return h.digestHex();
  })();
  /** @type {Array<{ bufSize: number, buf: Buffer, hashed: number[], readOnly: number[], inMemory: number[], wrong: boolean }>} */
  const rows = SPEC.hashBuffers.map((bufSize) => ({ bufSize, buf: Buffer.allocUnsafe(bufSize), hashed: [], readOnly: [], inMemory: [], wrong: false }));
  const gbps = async (/** @type {() => Promise<void>} */ fn) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return size / 1e9 / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  // Repetition-major order (every buffer size once per round), so drift from other load hits all
  // sizes alike; round 0 is a warm-up and is not counted.
  for (let r = 0; r <= REPS.hash; r++) {
    for (const row of rotate(rows, r)) {
      const { buf, bufSize } = row;
      const hashed = await gbps(async () => {
        const res = await mod.hashFile(pathBuf, buf);
        if (res.size !== size || res.hash !== ref) row.wrong = true;
      });
      // The same read loop without hashing (async fh.read, as hashFile does): the read side alone.
      const readOnly = await gbps(async () => {
        const fh = await open(file, 'r');
        try {
          while ((await fh.read(buf, 0, buf.length, null)).bytesRead > 0);
        } finally {
          await fh.close();
        }
      });
      // xxh64 over the bytes already in memory, fed in chunks of the buffer size: the hash side alone.
      const inMemory = await gbps(async () => {
        const h = mod.streamingHash();
        for (let off = 0; off < warm.length; off += bufSize) h.update(warm.subarray(off, off + bufSize));
        if (h.digestHex() !== ref) row.wrong = true;
      });
      if (r === 0) continue;
      row.hashed.push(hashed);
      row.readOnly.push(readOnly);
      row.inMemory.push(inMemory);
    }
  }
  const out = rows.map((row) => ({ bufSize: row.bufSize, hashed: median(row.hashed), readOnly: median(row.readOnly), inMemory: median(row.inMemory), wrong: row.wrong }));
  for (const row of out) {
    log(
      `  hash buffer ${fmtBytes(row.bufSize)}: hashFile ${row.hashed.toFixed(2)} GB/s, read-only ${row.readOnly.toFixed(2)} GB/s, in-memory xxh64 ${row.inMemory.toFixed(2)} GB/s${row.wrong ? ' WRONG DIGEST' : ''}`,
    );
  }
  return { size, rows: out };
}

/**
 * Process start-up: `node -e 0` (the floor: Node alone), `tsync --version` (the CLI's own loading) and
 * `tsync status` on an empty pair synced once (a command that opens the index, locks and scans). No
 * `sync` before each run: nothing is written, and the flush would only add noise. Round 0 warms the
 * page cache and is not counted; the order rotates every round.
 */
/** The start-up scenario's `tsync status` run without the code cache (TSYNC_CODE_CACHE=0). */
const STATUS_NO_CODE_CACHE = 'tsync status, TSYNC_CODE_CACHE=0';

function startupScenario() {
  const W = join(WORK, 'startup');
  const [a, b, state] = [join(W, 'A'), join(W, 'B'), join(W, 'state')];
  for (const d of [a, b, state]) mkdirSync(d, { recursive: true });
  run([NODE, TSYNC_BIN, 'sync', a, b, '--state-dir', state]);
  const statusArgv = [NODE, TSYNC_BIN, 'status', a, b, '--state-dir', state];
  const statusOutput = /^last sync: \S+ \(two-way, exit 0, 0 copied, 0 deleted\)\npending: 0 changes towards /;
  /** @type {Array<[string, string[], RegExp, NodeJS.ProcessEnv?]>} */
  const tools = [
    ['node -e 0', [NODE, '-e', '0'], /^$/],
    ['tsync --version', [NODE, TSYNC_BIN, '--version'], /^\d+\.\d+\.\d+\n$/],
    ['tsync status', statusArgv, statusOutput],
    // the same command without the code cache the build keeps for Node 20 (bin/load-bundle.js): what it saves, in this run
    [STATUS_NO_CODE_CACHE, statusArgv, statusOutput, { ...process.env, TSYNC_CODE_CACHE: '0' }],
  ];
  log(`startup: ${tools.map(([t]) => t).join(', ')}; ${REPS.startup} repetitions (+1 warm-up), empty pair synced once`);
  for (let r = 0; r <= REPS.startup; r++) {
    for (const [tool, argv, expected, env] of rotate(tools, r)) {
      if (r === 0) {
        run(argv, { env });
        continue;
      }
      const m = timed('startup', tool, argv, { flush: false, env });
      if (m.status === 0 && !expected.test(m.stdout)) slot('startup', tool).failures.push(`unexpected output: ${JSON.stringify(m.stdout.slice(0, 200))}`);
    }
  }
}

/** The start-up rows: each tsync command as a ratio to `node -e 0` in the same run, against the target. */
function startupTable() {
  const floor = cellOf('startup', 'node -e 0');
  const lines = [`| command | median | \`node -e 0\` median | ratio | target | met? |`, '|---|---|---|---|---|---|'];
  for (const tool of ['tsync --version', 'tsync status']) {
    const t = cellOf('startup', tool);
    const ratio = t.med / floor.med;
    const met = t.slot !== undefined && t.slot.failures.length === 0 && ratio <= STARTUP_TARGET ? 'met' : 'not met';
    const cmd = tool === 'tsync status' ? '`tsync status A B --state-dir S` (empty pair, synced once)' : '`tsync --version`';
    lines.push(`| ${cmd} | ${t.text} | ${floor.text} | ${fmtRatio(t.med, floor.med)} | ≤ ${STARTUP_TARGET}× | ${met} |`);
  }
  const bare = cellOf('startup', STATUS_NO_CODE_CACHE);
  const status = cellOf('startup', 'tsync status');
  if (bare.slot !== undefined)
    lines.push(
      `| the same \`tsync status\` with \`TSYNC_CODE_CACHE=0\` (no code cache; on Node >= 22.1 Node's own cache is used either way) | ${bare.text} | ${floor.text} | ${fmtRatio(bare.med, floor.med)} | (for comparison: the cache saved ${((bare.med - status.med) * 1000).toFixed(0)} ms) | — |`,
    );
  return lines.join('\n');
}

/**
 * Two-way, tsync vs unison: each repetition times a no-op run over trees in sync (`KEY-noop`), then a
 * run after pct% of files changed on each side (`KEY`).
 * @param {SmallTreeManifest} data @param {string} key @param {number} reps @param {'all' | 'sample'} content
 * @returns {Promise<TwoWayOutcome>}
 */
async function twoWayScenario(data, key, reps, content) {
  const W = join(WORK, key);
  mkdirSync(W, { recursive: true });
  const S = data.root;
  const tools = ['tsync', 'unison'];
  // Each tool has its own A/B pair and its own state (tsync index / unison archive), kept across
  // repetitions; before each repetition both trees are restored to the pristine dataset and the tool
  // refreshes its state in an untimed run, as after a real previous sync.
  const pair = (/** @type {string} */ t) => ({ a: join(W, `A-${t}`), b: join(W, `B-${t}`), state: join(W, `state-${t}`) });
  const uenv = { ...process.env, UNISON: pair('unison').state };
  const plan = planTwoWay(data, SPEC.changePct, SEED + 3);
  let tsyncStatus = 'unknown'; // 'available' | 'not-available' | 'failed'
  let tsyncMessage = '';
  log(`${key}: ${data.files.length} files in sync: no-op, then ${plan.a.length} changed on A and ${plan.b.length} on B; ${reps} repetitions`);
  for (const t of tools) {
    cpa(S, pair(t).a);
    cpa(S, pair(t).b);
  }
  await sleep(SETTLE_MS);
  const sync2 = (/** @type {string} */ tool, /** @type {{ allowFail?: boolean }} */ opts = {}) => {
    const p = pair(tool);
    return tool === 'tsync' ? run(tsyncTwoWay(p.a, p.b, p.state), { allowFail: true, ...opts }) : run(unison(p.a, p.b), { env: uenv, allowFail: true, ...opts });
  };
  for (let r = 0; r < reps; r++) {
    for (const tool of rotate(tools, r)) {
      if (tool === 'tsync' && tsyncStatus !== 'unknown' && tsyncStatus !== 'available') continue;
      const p = pair(tool);
      restore(S, p.a);
      restore(S, p.b);
      await sleep(SETTLE_MS);
      let res = sync2(tool); // untimed: builds (first time) or refreshes the state
      if (res.status !== 0 && tool === 'tsync' && /not available/i.test(`${res.stderr}${res.stdout}`)) {
        tsyncStatus = 'not-available';
        tsyncMessage = `${res.stderr}${res.stdout}`.trim();
        commands.set(`${key}/tsync`, template(tsyncTwoWay(p.a, p.b, p.state)));
        log(`  ${key} tsync: 'tsync sync A B' exited ${res.status}: ${tsyncMessage}`);
        continue;
      }
      if (res.status !== 0) {
        log(`  (${tool} state refresh exited ${res.status}; rebuilding it from scratch)`);
        discard(p.state);
        res = sync2(tool);
      }
      if (res.status !== 0) {
        const msg = `${res.stderr}${res.stdout}`.trim().split('\n').slice(-2).join(' / ');
        slot(key, tool).failures.push(`untimed state-building run exited ${res.status}: ${msg}`);
        log(`  ${key} ${tool}: untimed state-building run exited ${res.status}: ${msg}`);
        if (tool === 'tsync') {
          tsyncStatus = 'failed';
          tsyncMessage = msg;
        }
        continue;
      }
      if (tool === 'tsync') tsyncStatus = 'available';
      const argv = tool === 'tsync' ? tsyncTwoWay(p.a, p.b, p.state) : unison(p.a, p.b);
      // Steady state: the trees are in sync and the state is fresh; nothing to do.
      timed(`${key}-noop`, tool, argv, {
        env: tool === 'unison' ? uenv : undefined,
        expectNoop: true,
        verify: () => compareTrees(p.a, p.b, { content: 'none', dirMeta: false }),
      });
      const expA = applyChanges(p.a, { changed: plan.a }, data.pool, SEED + 4, 'twoway-A');
      const expB = applyChanges(p.b, { changed: plan.b }, data.pool, SEED + 5, 'twoway-B');
      await sleep(SETTLE_MS);
      timed(key, tool, argv, {
        env: tool === 'unison' ? uenv : undefined,
        verify: () => {
          // Directory mtimes are not compared: unison does not propagate them.
          const same = compareTrees(p.a, p.b, { content, sampleEvery: 50, dirMeta: false });
          const gotA = checkContents(p.b, expA);
          const gotB = checkContents(p.a, expB);
          return {
            ok: same.ok && gotA.ok && gotB.ok,
            mismatches: same.mismatches + gotA.mismatches + gotB.mismatches,
            problems: [...same.problems, ...gotA.problems, ...gotB.problems],
          };
        },
      });
    }
  }
  return { tsyncStatus, tsyncMessage };
}

/**
 * BENCH_PROFILE=1: one extra tsync run under --cpu-prof; prints where the CPU time went.
 * @param {string} label @param {() => string[]} argvOf
 */
async function profileTsync(label, argvOf) {
  const dir = join(WORK, 'profiles', String(profiles.length));
  mkdirSync(dir, { recursive: true });
  const argv = argvOf();
  const [node, bin, ...rest] = argv;
  const t0 = process.hrtime.bigint();
  run([/** @type {string} */ (node), '--cpu-prof', '--cpu-prof-dir', dir, /** @type {string} */ (bin), ...rest], { allowFail: true });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return;
  const p = summarizeProfile(join(dir, file), { root: ROOT, top: 10 });
  profiles.push({ label, wall, ...p });
  log(`  profile ${label}: ${wall.toFixed(2)} s wall, ${(p.totalMs / 1000).toFixed(2)} s sampled`);
  for (const b of p.buckets) log(`    ${b.pct.toFixed(1).padStart(5)}%  ${b.name}`);
  for (const f of p.functions.slice(0, 6)) log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.name}`);
}

// ---------------------------------------------------------------------------------------------------
// Reporting

/** @param {number} s */
function fmtS(s) {
  if (!Number.isFinite(s)) return 'n/a';
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  if (s < 10) return `${s.toFixed(2)} s`;
  return `${s.toFixed(1)} s`;
}
/** @param {number} b */
function fmtBytes(b) {
  if (b >= MiB) return `${b / MiB} MiB`;
  return `${b / 1024} KiB`;
}
/** @param {number} a @param {number} b */
function fmtRatio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}
/** @param {string} scenario @param {string} tool @param {string} [prefix] */
function cellOf(scenario, tool, prefix = '') {
  const s = results.get(scenario)?.get(tool);
  if (s === undefined) return { text: 'n/a', med: NaN };
  const med = median(s.walls);
  let text = `${prefix}${fmtS(med)}`;
  if (s.wrong > 0) text += ` ✗ WRONG (${s.wrong}/${s.checks} runs)`;
  else if (s.failures.length > 0) text += ` ✗ (${s.failures.length} problem${s.failures.length > 1 ? 's' : ''})`;
  return { text, med, slot: s };
}
/** @param {string} scenario @param {string} tool */
function maxRss(scenario, tool) {
  const s = results.get(scenario)?.get(tool);
  if (s === undefined) return 'n/a';
  const v = Math.max(...s.rss.filter(Number.isFinite));
  return Number.isFinite(v) ? `${(v / 1024).toFixed(0)} MiB` : 'n/a';
}

const fmtCount = (/** @type {number} */ n) => n.toLocaleString('en-US');
/** Peak RSS in MB (10^6 bytes) from GNU time's KiB. */
const kibToMB = (/** @type {number} */ kib) => (kib * 1024) / 1e6;

/**
 * A target row "tsync ≤ limit × peer" from one scenario key: medians of the same run.
 * @param {string} work @param {string} key @param {string} peer @param {string} peerLabel @param {number} limit
 * @param {{ cpSync?: boolean, tool?: string }} [options] tool: the tsync slot (the start-up scenario names its slots by command)
 * @returns {import('./lib/targets.mjs').TargetRow}
 */
function ratioRow(work, key, peer, peerLabel, limit, { cpSync = false, tool = 'tsync' } = {}) {
  const target = `≤ ${limit.toFixed(1)}× ${peerLabel}`;
  const t = cellOf(key, tool);
  const p = cellOf(key, peer);
  if (t.slot === undefined || p.slot === undefined) return notRun(work, target);
  const ratio = t.med / p.med;
  const cs = cpSync ? cellOf(key, 'cp+sync') : null;
  return {
    work,
    tsync: t.text,
    peer: `${peerLabel} ${p.text}${p.slot.failures.length > 0 ? ' (peer had problems)' : ''}`,
    ratio: fmtRatio(t.med, p.med),
    cpSync: cs === null ? undefined : cs.slot === undefined ? 'not run' : `${cs.text}: ${fmtRatio(t.med, cs.med)}`,
    target,
    met: verdict(t.slot.failures.length === 0 && ratio <= limit),
  };
}

/**
 * A peak-RSS row: the largest peak of every tsync one-shot run on trees of this size, and bytes per path.
 * @param {string} work @param {string[]} keys @param {number} files @param {number} limitMB
 * @returns {import('./lib/targets.mjs').TargetRow}
 */
function rssRow(work, keys, files, limitMB) {
  const target = `≤ ${limitMB} MB; bytes per path reported`;
  let peak = NaN;
  let where = '';
  for (const key of keys) {
    const s = results.get(key)?.get('tsync');
    if (s === undefined) continue;
    for (const kib of s.rss) {
      if (Number.isFinite(kib) && !(kib <= peak)) {
        peak = kib;
        where = key;
      }
    }
  }
  if (!Number.isFinite(peak)) return notRun(work, target);
  const mb = kibToMB(peak);
  return {
    work,
    tsync: `${mb.toFixed(0)} MB (${where}), ${((peak * 1024) / files).toFixed(0)} bytes per path`,
    peer: results.get(where)?.has('rsync') ? `rsync ${maxRss(where, 'rsync')}` : '—',
    ratio: '—',
    target,
    met: verdict(mb <= limitMB),
  };
}

/**
 * Every row of issue 11's target table, in its order. A row whose scenario did not run says "not run".
 * @param {Context} ctx
 * @returns {import('./lib/targets.mjs').TargetRow[]}
 */
function targetRows(ctx) {
  const n10k = fmtCount(SPEC.small.files);
  const n100k = fmtCount(SPEC['100k'].files);
  const n1m = fmtCount(SPEC['1m']);
  /** @type {import('./lib/targets.mjs').TargetRow[]} */
  const rows = [];
  for (const [tool, work] of [
    ['tsync --version', '`tsync --version`'],
    ['tsync status', '`tsync status` on an empty pair'],
  ]) {
    rows.push(ratioRow(work, 'startup', 'node -e 0', '`node -e 0`', STARTUP_TARGET, { tool }));
  }
  rows.push(ratioRow(`no-op one-way, ${n10k} files`, 'small-noop', 'rsync', 'rsync', 1.5));
  rows.push(ratioRow(`no-op one-way, ${n100k} files`, '100k-noop', 'rsync', 'rsync', 1.0));
  rows.push(ratioRow(`no-op one-way, ${n1m} empty files (opt-in \`1m\`)`, '1m-noop', 'rsync', 'rsync', 1.0));
  rows.push(ratioRow(`no-op two-way, ${n10k} files`, 'twoway-noop', 'unison', 'unison', 1.5));
  rows.push(ratioRow(`no-op two-way, ${n100k} files`, '100k-twoway-noop', 'unison', 'unison', 0.8));
  rows.push(ratioRow(`incremental one-way, ${n10k} files (${SPEC.changePct}% new, changed, deleted)`, 'small-incr', 'rsync', 'rsync', 1.5));
  rows.push(ratioRow(`incremental one-way, ${n100k} files`, '100k-incr', 'rsync', 'rsync', 1.0));
  rows.push(ratioRow(`incremental two-way, ${n10k} files (${SPEC.changePct}% on each side)`, 'twoway', 'unison', 'unison', 0.8));
  rows.push(ratioRow(`incremental two-way, ${n100k} files`, '100k-twoway', 'unison', 'unison', 0.5));
  rows.push(ratioRow(`initial copy, ${n10k} small files`, 'small-initial', 'cp', 'cp -a', 1.0, { cpSync: true }));
  rows.push(ratioRow(`initial copy, ${n100k} small files`, '100k-initial', 'cp', 'cp -a', 1.0, { cpSync: true }));
  rows.push(ratioRow(`large files, initial copy (${SPEC.large.count} × ${SPEC.large.size / MiB} MiB)`, 'large-initial', 'cp', 'cp -a', 1.1, { cpSync: true }));
  const nX = fmtCount(SPEC.xattrs.files);
  const noMeta = 'tsync --no-owner --no-group --no-xattrs';
  rows.push(ratioRow(`metadata cost (issue 12): initial copy, ${n10k} ordinary files (no xattrs, one owner)`, 'small-initial', 'tsync-nometa', noMeta, 1.1));
  rows.push(ratioRow(`metadata cost (issue 12): no-op one-way, ${n10k} ordinary files`, 'small-noop', 'tsync-nometa', noMeta, 1.1));
  rows.push(ratioRow(`metadata cost (issue 12): initial copy, ${nX} files with xattrs (opt-in \`xattrs\`)`, 'xattrs-initial', 'tsync-nometa', noMeta, 1.1));
  rows.push(ratioRow(`metadata cost (issue 12): no-op one-way, ${nX} files with xattrs (opt-in \`xattrs\`)`, 'xattrs-noop', 'tsync-nometa', noMeta, 1.1));
  rows.push(rssRow(`peak RSS, one-shot sync, ${n100k} files`, ['100k-initial', '100k-first', '100k-noop', '100k-incr', '100k-twoway-noop', '100k-twoway'], SPEC['100k'].files, 150));
  rows.push(rssRow(`peak RSS, one-shot sync, ${n1m} empty files (opt-in \`1m\`)`, ['1m-initial', '1m-noop'], SPEC['1m'], 600));
  rows.push(fiveMRow(ctx));
  rows.push(...watchTargetRows(ctx.watch?.figures ?? null));
  return rows;
}

/** @param {Context} ctx @returns {import('./lib/targets.mjs').TargetRow} */
function fiveMRow(ctx) {
  const work = `${fmtCount(SPEC['5m'])} empty files, one-way no-op (opt-in \`5m\`)`;
  const target = "finishes; RSS ≤ 1.5 GB; time per entry ≤ 1.3× the 100k no-op's";
  const s = results.get('5m-noop')?.get('tsync');
  if (ctx.fiveM === undefined) return notRun(work, target);
  if (s === undefined) return { ...notRun(work, target), tsync: '✗ the initial copy failed (see Problems)', met: 'not met' };
  const t = cellOf('5m-noop', 'tsync');
  const mb = kibToMB(Math.max(...s.rss.filter(Number.isFinite)));
  const per = perEntryUs(t.med, ctx.startup, ctx.fiveM.files);
  const ref = ctx.fiveM.reference;
  const ratio = ref === undefined ? NaN : per / ref.perEntryUs;
  return {
    work,
    tsync: `${t.text}, ${mb.toFixed(0)} MB, ${per.toFixed(1)} µs per entry`,
    peer: ref === undefined ? 'no 100k no-op figure (neither in this run nor in bench/results.md)' : `100k no-op: ${ref.perEntryUs.toFixed(1)} µs per entry (${ref.source})`,
    ratio: Number.isFinite(ratio) ? `${ratio.toFixed(2)}× per entry` : 'n/a',
    target,
    met: verdict(s.failures.length === 0 && mb <= 1500 && ratio <= 1.3),
  };
}

/** @param {Context} ctx */
function buildReport(ctx) {
  const nSmall = SPEC.small.files.toLocaleString('en-US');
  const n100k = SPEC['100k'].files.toLocaleString('en-US');
  const smallMB = ctx.small ? ` (${(ctx.small.bytes / 1e6).toFixed(0)} MB)` : '';
  const pct = SPEC.changePct;
  /** @type {Array<[string, string]>} */
  const rowDefs = [
    ['small-initial', `small: ${nSmall} files${smallMB}, initial copy`],
    ['small-first', `small: first re-sync right after the copy (nothing changed)`],
    ['small-noop', `small: no-op re-sync (steady state)`],
    ['small-incr', `small: incremental (${pct}% changed, ${pct}% added, ${pct}% deleted)¹`],
    ['large-initial', `large: ${SPEC.large.count} × ${SPEC.large.size / MiB} MiB, initial copy`],
    ['100k-initial', `100k: ${n100k} files, initial copy`],
    ['100k-first', `100k: first re-sync right after the copy`],
    ['100k-noop', `100k: no-op re-sync (steady state)`],
    ['100k-incr', `100k: incremental (${pct}% changed, ${pct}% added, ${pct}% deleted)¹`],
    ['1m-initial', `1m: ${SPEC['1m'].toLocaleString('en-US')} empty files, 1,000 per dir, initial copy`],
    ['1m-noop', `1m: no-op re-sync (steady state)`],
    ['5m-initial', `5m: ${SPEC['5m'].toLocaleString('en-US')} empty files, 1,000 per dir, initial copy`],
    ['5m-noop', `5m: no-op re-sync (steady state)`],
  ];
  /** @type {string[]} */
  const lines = [];
  lines.push('| scenario | tsync median | cp -a median | `cp -a; sync` median | rsync median | tsync/cp ratio | tsync/rsync ratio | tsync max RSS |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const [key, label] of rowDefs) {
    if (!results.has(key)) continue;
    const t = cellOf(key, 'tsync');
    const c = cellOf(key, 'cp');
    const cs = cellOf(key, 'cp+sync');
    const r = cellOf(key, 'rsync');
    lines.push(`| ${label} | ${t.text} | ${c.text} | ${cs.text} | ${r.text} | ${fmtRatio(t.med, c.med)} | ${fmtRatio(t.med, r.med)} | ${maxRss(key, 'tsync')} |`);
  }
  /** @type {Array<[TwoWayOutcome | undefined, string, string]>} */
  const twoWays = [
    [ctx.twoway, 'twoway', nSmall],
    [ctx.twoway100k, '100k-twoway', n100k],
  ];
  for (const [outcome, key, n] of twoWays) {
    if (!outcome) continue;
    for (const [k, what] of [
      [`${key}-noop`, 'no-op'],
      [key, `${pct}% changed on each side`],
    ]) {
      const label = `two-way: ${n} files in sync, ${what} (rsync column: unison)²`;
      const u = cellOf(k, 'unison', 'unison ');
      let t;
      if (outcome.tsyncStatus === 'not-available') t = { text: 'tsync two-way not available yet', med: NaN };
      else if (outcome.tsyncStatus === 'failed' && !results.get(k)?.has('tsync')) t = { text: '✗ tsync two-way failed (see below)', med: NaN };
      else t = cellOf(k, 'tsync');
      const rss = outcome.tsyncStatus === 'available' ? maxRss(k, 'tsync') : 'n/a';
      lines.push(`| ${label} | ${t.text} | n/a | n/a | ${u.text} | n/a | ${fmtRatio(t.med, u.med)} | ${rss} |`);
    }
  }
  if (ctx.hash) {
    const one = /** @type {HashOutcome['rows'][number]} */ (ctx.hash.rows.find((r) => r.bufSize === MiB) ?? ctx.hash.rows[0]);
    const best = /** @type {HashOutcome['rows'][number]} */ ([...ctx.hash.rows].sort((a, b) => b.hashed - a.hashed)[0]);
    lines.push(
      `| hash: ${ctx.hash.size / MiB} MiB warm file, tsync hashFile, ${fmtBytes(one.bufSize)} buffer (best: ${fmtBytes(best.bufSize)}, ${best.hashed.toFixed(2)} GB/s)³ | ${one.hashed.toFixed(2)} GB/s${one.wrong ? ' ✗ WRONG DIGEST' : ''} | n/a | n/a | n/a | n/a | n/a | n/a |`,
    );
  }
  // Empty when only scenarios with tables of their own ran (sparse, xattrs): no header without rows.
  const table = lines.length > 2 ? lines.join('\n') : '';

  /** @type {string[]} */
  const foot = [];
  foot.push(
    `¹ cp has no mirror mode; its incremental figure is \`cp -a SRC/. DST/\`, which rewrites every file and cannot delete (the ${pct}% deleted files are expected to remain). Each tool has its own pair of trees, restored to the identical pre-change state (\`rsync -a --delete\` from the pristine dataset) before every repetition; tsync's index is then refreshed by an untimed run, as after a real previous sync.`,
  );
  foot.push(
    `² unison \`-batch -auto -times\` with a throwaway UNISON dir. Each tool has its own A/B pair and state, restored to the identical in-sync trees before every repetition, then refreshed by an untimed run. The two changed sets are disjoint (no conflicts).`,
  );
  foot.push(`³ GB/s = 10⁹ bytes/s, median of ${REPS.hash}; the file is in the page cache (read once beforehand).`);

  let hashTable = '';
  if (ctx.hash) {
    const h = ['| buffer | hashFile (read + xxh64) GB/s | read only GB/s | xxh64 in memory GB/s |', '|---|---|---|---|'];
    for (const r of ctx.hash.rows) h.push(`| ${fmtBytes(r.bufSize)} | ${r.hashed.toFixed(2)}${r.wrong ? ' ✗' : ''} | ${r.readOnly.toFixed(2)} | ${r.inMemory.toFixed(2)} |`);
    hashTable = h.join('\n');
  }

  const d = ['| scenario | tool | runs | median | min | max | max RSS | checks passed |', '|---|---|---|---|---|---|---|---|'];
  for (const [scenario, tools] of results) {
    for (const [tool, s] of tools) {
      const v = s.walls;
      d.push(
        `| ${scenario} | ${tool} | ${v.length} | ${fmtS(median(v))} | ${fmtS(Math.min(...v))} | ${fmtS(Math.max(...v))} | ${maxRss(scenario, tool)} | ${s.checks - s.wrong}/${s.checks} |`,
      );
    }
  }
  const details = d.join('\n');

  /** @type {string[]} */
  const problems = [];
  for (const [scenario, tools] of results) for (const [tool, s] of tools) for (const f of s.failures) problems.push(`- ${scenario} / ${tool}: ${f}`);

  return { targets: targetsTable(targetRows(ctx)), table, foot: foot.join('\n'), hashTable, startup: ctx.startupRows ? startupTable() : '', details, problems };
}

/** @param {string[]} argv @param {(s: string) => string | undefined} [pick] */
function toolVersion(argv, pick = (s) => s.split('\n')[0]) {
  try {
    const r = run(argv, { allowFail: true });
    return pick(`${r.stdout}${r.stderr}`.trim());
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// Main

async function main() {
  for (const cmd of ['cp', 'rsync', 'sync', 'rm', ...(ONLY.has('twoway') || ONLY.has('100k') ? ['unison'] : [])]) {
    if (which(cmd) === null) throw new Error(`${cmd} not found on PATH`);
  }
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} (GNU time) not found`);
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (or `npm run bench`)');
  const broken = verifierSelfTest();
  if (broken.length > 0) throw new Error(`the replica verifier fails its self-test (bench/lib/verify-self-test.mjs):\n  ${broken.join('\n  ')}`);
  const git = gitStamp(ROOT);
  if (git.dirty.length > 0) log(`WARNING: the work tree has uncommitted changes; results are stamped ${git.label}`);
  mkdirSync(WORK, { recursive: true });
  log(
    `work dir ${WORK}; ${QUICK ? 'QUICK smoke run; ' : ''}${TSYNC_FLAGS.length ? `tsync flags ${TSYNC_FLAGS.join(' ')}; ` : ''}scenarios ${[...ONLY].join(',')}; repetitions ${Object.entries(
      REPS,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const ctx = /** @type {Context} */ ({
    loadStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    git,
  });

  // tsync start-up cost, for reading the small figures
  /** @type {number[]} */
  const starts = [];
  for (let i = 0; i < 5; i++) starts.push(measure([NODE, TSYNC_BIN, '--version'], { timeFile: join(WORK, 'time-startup.txt'), flush: false }).wall);
  ctx.startup = median(starts);
  log(`tsync start-up (node bin/tsync.js --version): ${fmtS(ctx.startup)}`);
  if (ONLY.has('startup')) {
    startupScenario();
    ctx.startupRows = true;
  }

  const DATA = join(WORK, 'data');
  if (ONLY.has('small') || ONLY.has('twoway')) {
    log(`generating small dataset: ${SPEC.small.files} files, ${SPEC.small.top}×${SPEC.small.sub} leaf dirs, 0-${SPEC.small.maxSize} B`);
    ctx.small = generateSmallTree(join(DATA, 'small'), { ...SPEC.small, seed: SEED });
    log(`  ${(ctx.small.bytes / 1e6).toFixed(1)} MB in ${ctx.small.dirs.length} dirs`);
  }
  if (ONLY.has('small')) await smallScenario(/** @type {SmallTreeManifest} */ (ctx.small));
  if (ONLY.has('twoway')) ctx.twoway = await twoWayScenario(/** @type {SmallTreeManifest} */ (ctx.small), 'twoway', REPS.twoway, 'all');

  if (ONLY.has('sparse')) ctx.sparse = sparseScenario(generateSparseFile(join(DATA, 'sparse'), { ...SPEC.sparse, seed: SEED }));
  if (ONLY.has('xattrs')) {
    const { ownerEvery, ...shape } = SPEC.xattrs;
    log(`generating xattrs dataset: ${shape.files} files, each with a user.* xattr, 1 in ${ownerEvery} owned by uid ${XATTR_TREE_OWNER.uid}`);
    const t0 = Date.now();
    const data = generateSmallTree(join(DATA, 'xattrs'), { ...shape, seed: SEED + 12 });
    const owned = decorateXattrTree(data, { ownerEvery, seed: SEED + 12 });
    log(`  ${(data.bytes / 1e6).toFixed(1)} MB, ${owned} entries with a non-root owner, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    ctx.xattrs = await xattrsScenario(data);
  }

  let large = null;
  if (ONLY.has('large')) {
    log(`generating large dataset: ${SPEC.large.count} × ${SPEC.large.size / MiB} MiB`);
    large = generateLargeFiles(join(DATA, 'large'), { ...SPEC.large, seed: SEED });
    await largeScenario(large);
  }
  if (ONLY.has('hash')) {
    let file;
    if (large && SPEC.large.size === SPEC.hashFileSize) file = join(large.root, /** @type {import('./lib/data.mjs').FileSpec} */ (large.files[0]).rel);
    else {
      log(`generating a ${SPEC.hashFileSize / MiB} MiB file for the hash test`);
      const h = generateLargeFiles(join(DATA, 'hash'), { count: 1, size: SPEC.hashFileSize, seed: SEED });
      file = join(h.root, /** @type {import('./lib/data.mjs').FileSpec} */ (h.files[0]).rel);
    }
    ctx.hash = await hashScenario(file, SPEC.hashFileSize);
  }

  if (ONLY.has('100k')) {
    log(`generating 100k dataset: ${SPEC['100k'].files} files, ${SPEC['100k'].top}×${SPEC['100k'].sub} leaf dirs, 0-${SPEC['100k'].maxSize} B`);
    const h = generateSmallTree(join(DATA, '100k'), { ...SPEC['100k'], seed: SEED + 100 });
    log(`  ${(h.bytes / 1e6).toFixed(1)} MB in ${h.dirs.length} dirs`);
    await hundredKScenario(h);
    ctx.twoway100k = await twoWayScenario(h, '100k-twoway', REPS['100k-twoway'], 'sample');
  }

  if (ONLY.has('1m')) {
    log(`generating 1m dataset: ${SPEC['1m']} empty files, 1,000 per dir`);
    await millionScenario(generateEmptyFiles(join(DATA, '1m'), SPEC['1m']));
  }

  if (ONLY.has('5m')) {
    log(`generating 5m dataset: ${SPEC['5m']} empty files, 1,000 per dir`);
    const t0 = Date.now();
    const data = generateEmptyFiles(join(DATA, '5m'), SPEC['5m']);
    log(`  generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    ctx.fiveM = await fiveMillionScenario(data, SPEC['5m'], ctx);
  }

  if (ONLY.has('watch')) ctx.watch = watchScenario();

  const rep = buildReport(ctx);
  /** @type {string[]} */
  const out = [];
  out.push(`Targets (issue 11; every tool as its users run it by default; opt-in rows say so and show "not run" unless named in BENCH_ONLY):`, '', rep.targets, '');
  if (ctx.watch?.error) out.push(`watch: ${ctx.watch.error}`, '');
  if (rep.startup) out.push(`Start-up (median of ${REPS.startup}; target: each within ${STARTUP_TARGET}× of \`node -e 0\`):`, '', rep.startup, '');
  if (rep.table) out.push(rep.table, '', rep.foot, '');
  if (rep.hashTable) out.push('Hash throughput by read buffer size (tsync `hashFile`, warm cache):', '', rep.hashTable, '');
  if (ctx.sparse) out.push('Sparse file (holes kept: disk use of the replica):', '', ctx.sparse, '');
  if (ctx.xattrs) out.push('Owners, groups and xattrs kept (issue 12):', '', ctx.xattrs, '');
  out.push(`tsync process start-up (\`node bin/tsync.js --version\`): ${fmtS(ctx.startup)} (included in every tsync figure).`, '');
  if (rep.problems.length > 0) out.push('**Problems (correctness checks / exit codes):**', '', ...rep.problems, '');
  else out.push('All correctness checks passed (replica compared with the source after every run; see details).', '');
  if (ctx.twoway?.tsyncStatus === 'not-available') out.push(`tsync two-way: \`${ctx.twoway.tsyncMessage.split('\n')[0]}\``, '');
  process.stdout.write(`\n${out.join('\n')}\n`);

  if (RESULTS) {
    writeFileSync(RESULTS, resultsMarkdown(ctx, rep));
    log(`wrote ${RESULTS}`);
  }
}

/** @param {Context} ctx @param {Report} rep */
function resultsMarkdown(ctx, rep) {
  const cpu = cpus();
  const cmdLines = [...commands].map(([k, v]) => `- ${k}: \`${v}\``);
  /** @type {string[]} */
  const md = [];
  md.push('# tsync benchmark results', '');
  md.push(`Generated by \`bench/run.mjs\`${QUICK ? ' (BENCH_QUICK=1 smoke run: not representative)' : ''} on ${new Date().toISOString()}.`, '');
  md.push('| | |', '|---|---|');
  md.push(`| node | ${process.version} |`);
  md.push(`| machine | ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${process.platform} ${toolVersion(['uname', '-r'])} |`);
  md.push(`| filesystem | ${toolVersion(['findmnt', '-no', 'FSTYPE', '-T', WORK_ROOT])} (work dir ${WORK_ROOT.replace(ROOT, '.')}) |`);
  md.push(`| tsync | ${toolVersion([NODE, TSYNC_BIN, '--version'])} (git ${ctx.git.label}) |`);
  // which directory listing the scans used (`tsync doctor`'s listing line): the native one, or Node's fs if it was not built
  md.push(
    `| tsync's directory listing | ${toolVersion(
      [NODE, TSYNC_BIN, 'doctor', '--state-dir', join(WORK_ROOT, 'doctor-state')],
      (s) =>
        s
          .split('\n')
          .find((l) => / listing: /.test(l))
          ?.replace(/^\S+\s+listing: /, '') ?? 'unknown',
    )} |`,
  );
  md.push(`| cp | ${toolVersion(['cp', '--version'])} |`);
  md.push(`| rsync | ${toolVersion(['rsync', '--version'])} |`);
  if (ONLY.has('twoway') || ONLY.has('100k')) md.push(`| unison | ${toolVersion(['unison', '-version'])} |`);
  if (TSYNC_FLAGS.length > 0) md.push(`| extra tsync flags | \`${TSYNC_FLAGS.join(' ')}\` (BENCH_TSYNC_FLAGS) |`);
  md.push(
    `| scenarios | ${[...ONLY].join(', ')}; repetitions: ${Object.entries(REPS)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; seed ${SEED} |`,
  );
  md.push(`| environment | ${startupEnvText(STARTUP_ENV_REMOVED)} |`);
  md.push(
    `| load average | ${ctx.loadStart} at start, ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at end (2 cores: anything above ~0 means other processes competed with the benchmark) |`,
  );
  md.push('');
  md.push(
    "Figures are medians of wall-clock time, **warm page cache** (the page cache cannot be dropped reliably here; every dataset was just written or read). `sync` is run, untimed, before each measured run so writeback of earlier writes does not land inside it; the measured run's own writes stay in the page cache (not flushed). Max RSS is from GNU time (`%M`), the maximum over repetitions.",
    '',
  );
  md.push(
    '## Targets (issue 11)',
    '',
    'Each row against its peer in the same run (medians), every tool run as its users run it by default; tsync with its flush, as it ships (the `cp -a; sync` column shows what that durability costs cp). Rows of scenarios that did not run say "not run"; `1m` and `5m` are opt-in (`BENCH_ONLY=1m`, `BENCH_ONLY=5m`). The watch rows come from `bench/watch.mjs` (latency and cycle scenarios; its tables are under "Watch" below).',
    '',
    rep.targets,
    '',
  );
  if (ctx.watch?.error) md.push(`watch: ${ctx.watch.error}`, '');
  if (rep.startup)
    md.push(
      '## Start-up',
      '',
      `Median of ${REPS.startup} runs each, interleaved, no flush before each run; target: within ${STARTUP_TARGET}× of \`node -e 0\` in the same run (issue 11).`,
      '',
      rep.startup,
      '',
    );
  if (rep.table) md.push('## Summary', '', rep.table, '', rep.foot, '');
  if (rep.hashTable) md.push('## Hash throughput by read buffer size', '', rep.hashTable, '');
  if (ctx.sparse) md.push('## Sparse file (holes kept)', '', ctx.sparse, '');
  if (ctx.xattrs) md.push('## Owners, groups and xattrs kept (issue 12)', '', ctx.xattrs, '');
  md.push(`tsync process start-up (\`node bin/tsync.js --version\`, median of 5): ${fmtS(ctx.startup)}; it is included in every tsync figure.`, '');
  if (ctx.twoway?.tsyncStatus === 'not-available') md.push(`tsync two-way said: \`${ctx.twoway.tsyncMessage.split('\n')[0]}\``, '');
  md.push('## Correctness', '');
  if (rep.problems.length > 0) md.push(...rep.problems, '');
  else
    md.push(
      'Every measured run exited 0 and its replica matched the source (file set, kinds, sizes, modes, mtimes; contents of every file, or of 1 in 50 files for the 100k tree; for no-op runs tsync also reported no work).',
      '',
    );
  md.push('## All measurements', '', rep.details, '');
  if (ctx.watch?.body) md.push('## Watch (bench/watch.mjs, tsync columns only)', '', ctx.watch.body.replace(/^### /gm, '### Watch: '), '');
  if (profiles.length > 0) {
    md.push('## CPU profiles (BENCH_PROFILE=1, one extra tsync run each, `node --cpu-prof`)', '');
    for (const p of profiles) {
      md.push(`### ${p.label}: ${p.wall.toFixed(2)} s wall, ${(p.totalMs / 1000).toFixed(2)} s sampled`, '');
      md.push('| self time | bucket |', '|---|---|', ...p.buckets.map((b) => `| ${b.pct.toFixed(1)}% | ${b.name} |`), '');
      md.push('| self time | function |', '|---|---|', ...p.functions.map((f) => `| ${f.pct.toFixed(1)}% | \`${f.name}\` |`), '');
    }
  }
  md.push('## Commands', '', "Each measured command ran as `/usr/bin/time -f '%e %M' -o FILE <command>`; `$WORK` is the work dir.", '', ...cmdLines, '');
  return md.join('\n');
}

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (KEEP) {
    log(`keeping ${WORK} (BENCH_KEEP=1)`);
    return;
  }
  log(`deleting the work dir ${WORK} (slow on this filesystem: ~10 s per 100k files)`);
  const t0 = Date.now();
  rmrf(WORK);
  log(`  deleted in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
process.on('SIGINT', () => {
  log('interrupted; cleaning up');
  cleanup();
  process.exit(130);
});
process.on('SIGTERM', () => {
  cleanup();
  process.exit(143);
});

try {
  await main();
} catch (e) {
  log(`error: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  cleanup();
  log('done');
}
