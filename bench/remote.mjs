#!/usr/bin/env node
// Remote benchmark (issue 15): tsync with one root remote against `rsync -a --delete -e SSH` and Unison with an ssh://
// root, on localhost over real SSH (an sshd of its own on 127.0.0.1, throwaway keys: test/helpers/sshd-server.mjs).
// It reports; it never asserts. It prints issue 15's target table; see bench/README.md for what, how and caveats.
//
//   npm run bench:remote                    # build, then the full run (~6-8 min on 2 quiet cores)
//   BENCH_QUICK=1 node bench/remote.mjs     # small sizes, 1 repetition: a smoke run (no results file)
//   BENCH_REPEAT=5 node bench/remote.mjs    # more repetitions per measurement
//   BENCH_ONLY=delta,watch node bench/remote.mjs   # some scenarios: small (initial + no-op 10k), big (no-op 100k), incremental, twoway, delta, watch
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { applyChanges, generateLargeFiles, generateSmallTree, keystream, planIncremental, planTwoWay, rng } from './lib/data.mjs';
import { checkContents, compareTrees, walk } from './lib/verify.mjs';
import { verifierSelfTest } from './lib/verify-self-test.mjs';
import { gitStamp } from './lib/git-stamp.mjs';
import { judgeRun } from './lib/judge.mjs';
import { onlyScenarios, positiveIntEnv, startupEnvText, withoutStartupEnv } from './lib/env.mjs';
import { GNU_TIME, joinArgs, measure, median, rmrf, run, sleep, which } from './lib/measure.mjs';
import { fmtMs, notRun, targetsTable, verdict } from './lib/targets.mjs';
import { startSshd } from '../test/helpers/sshd-server.mjs';

/** Before anything is started: every command below inherits this environment. */
const STARTUP_ENV_REMOVED = withoutStartupEnv();

/** @typedef {import('./lib/data.mjs').SmallTreeManifest} SmallTreeManifest */
/** @typedef {import('./lib/targets.mjs').TargetRow} TargetRow */
/** @typedef {import('./lib/judge.mjs').Check} Check */
/** @typedef {{ walls: number[], failures: string[], checks: number, wrong: number }} Slot */
/** @typedef {{ up: number, down: number, wall: number, statsSent?: number, ok: boolean, failure?: string }} CountedRun */
/** @typedef {{ p50: number | null, p99: number | null, missed: number, differing: number, ops: number } | { notRun: string }} WatchOutcome */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSYNC_BIN = join(ROOT, 'bin', 'tsync.js');
const SSH_COUNTER = join(ROOT, 'bench', 'lib', 'ssh-count.mjs');
const NODE = process.execPath;
const E = process.env;

// ---------------------------------------------------------------------------------------------------
// Configuration

const QUICK = E.BENCH_QUICK === '1';
const REPS = positiveIntEnv('BENCH_REPEAT', 'bench:remote') ?? (QUICK ? 1 : 3);
const SEED = positiveIntEnv('BENCH_SEED', 'bench:remote') ?? 20240601;
const SCENARIOS = ['small', 'big', 'incremental', 'twoway', 'delta', 'watch'];
/** BENCH_ONLY=a,b: only these scenarios (the other rows say "not run"); all by default. */
const ONLY = onlyScenarios(SCENARIOS, SCENARIOS, 'bench:remote');
const MiB = 1 << 20;
const SPEC = {
  small: QUICK ? { files: 1000, top: 5, sub: 4, maxSize: 16 * 1024 } : { files: 10_000, top: 14, sub: 14, maxSize: 16 * 1024 },
  big: QUICK ? { files: 5000, top: 10, sub: 10, maxSize: 4 * 1024 } : { files: 100_000, top: 45, sub: 44, maxSize: 4 * 1024 },
  large: { size: QUICK ? 32 * MiB : 256 * MiB, edit: MiB },
  changePct: 1,
  watch: { ops: QUICK ? 40 : 200, everyMs: 50, graceMs: 10_000, readyTimeoutMs: 60_000 },
};
/** Issue 15's targets. */
const TARGET = { initial: 1.0, noop: 1.0, incremental: 1.0, twoWay: 0.5, deltaBytes: 1.2, deltaTime: 1.0, watchP50: 30, watchP99: 100 };
const WORK_ROOT = resolve(E.BENCH_WORK ?? join(ROOT, 'bench', '.work'));
const WORK = join(WORK_ROOT, `remote-${process.pid}`);
const KEEP = E.BENCH_KEEP === '1';
const RESULTS = E.BENCH_RESULTS ?? (QUICK ? null : join(ROOT, 'bench', 'results-remote.md'));
/** Pause between preparing a tree and syncing it: longer than tsync's 50 ms racy-ctime window. */
const SETTLE_MS = 150;

const T0 = Date.now();
/** @param {string} msg */
function log(msg) {
  const s = Math.round((Date.now() - T0) / 1000);
  process.stderr.write(`[bench:remote ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The far side: an sshd of our own; its sessions get a PATH with this node (for the tsync agent bundle) and the
// system's rsync and unison, a bundle cache and a Unison archive dir inside the work dir.

/** @type {import('../test/helpers/sshd-server.mjs').Sshd | null} */
let sshd = null;
/** The --ssh / -e value: the system's ssh with the throwaway key, strict host key check, the sshd's port. */
let SSH = '';
const HOST = '127.0.0.1';

async function startFarSide() {
  const bin = join(WORK, 'far-bin');
  mkdirSync(bin, { recursive: true });
  // node by a link, not by its install dir, which may hold a tsync of its own (npm -g): the far side runs the bundle
  symlinkSync(NODE, join(bin, 'node'));
  sshd = await startSshd({ env: { PATH: `${bin}:/usr/bin:/bin`, XDG_CACHE_HOME: join(WORK, 'far-cache'), UNISON: join(WORK, 'far-unison') } });
  SSH = sshd.sshCommand;
}

const remote = (/** @type {string} */ path) => `${HOST}:${path}`;

// ---------------------------------------------------------------------------------------------------
// Commands (the remote root is always a path on this machine, reached through the sshd)

/** @param {string} src @param {string} dst @param {string} state @param {string} [ssh] */
const tsyncOneWay = (src, dst, state, ssh = SSH) => [NODE, TSYNC_BIN, 'sync', '--one-way', '--ssh', ssh, '--state-dir', state, src, remote(dst)];
/** @param {string} a @param {string} b @param {string} state */
const tsyncTwoWay = (a, b, state) => [NODE, TSYNC_BIN, 'sync', '--ssh', SSH, '--state-dir', state, a, remote(b)];
/** @param {string} src @param {string} dst @param {string} [ssh] */
const rsync = (src, dst, ssh = SSH) => ['rsync', '-a', '--delete', '-e', ssh, `${src}/`, `${remote(dst)}/`];
/** Unison's own ssh options: everything of SSH but the program name. @param {string} a @param {string} b */
const unison = (a, b) => ['unison', a, `ssh://${HOST}/${b}`, '-batch', '-auto', '-times', '-sshargs', SSH.replace(/^ssh /, '')];
/** @param {string} tool @param {string} src @param {string} dst @param {string} state @param {string} [ssh] */
const oneWay = (tool, src, dst, state, ssh) => (tool === 'tsync' ? tsyncOneWay(src, dst, state, ssh) : rsync(src, dst, ssh));

// ---------------------------------------------------------------------------------------------------
// Measurements

/** scenario -> tool -> slot */
/** @type {Map<string, Map<string, Slot>>} */
const results = new Map();
/** "scenario/tool" -> command, for the results file */
/** @type {Map<string, string>} */
const commands = new Map();

/** @param {string} scenario @param {string} tool @returns {Slot} */
function slot(scenario, tool) {
  const m = results.get(scenario) ?? new Map();
  results.set(scenario, m);
  const s = m.get(tool) ?? { walls: [], failures: [], checks: 0, wrong: 0 };
  m.set(tool, s);
  return s;
}

/** Paths relative to the work dir, the ssh options as $SSH, so the commands read cleanly. @param {string[]} argv */
function template(argv) {
  return joinArgs(argv.map((a) => (a === SSH ? '$SSH' : a.replace(SSH.replace(/^ssh /, ''), '$SSH_ARGS').replaceAll(WORK, '$WORK').replace(ROOT, '.').replace(NODE, 'node'))));
}

let timeSeq = 0;
/**
 * One measured run, then its correctness check. A failing command or a wrong replica is recorded (and makes the row
 * "not met"), never thrown.
 * @param {string} scenario @param {string} tool @param {string[]} argv
 * @param {{ verify: () => Check, env?: NodeJS.ProcessEnv, expectNoop?: boolean }} options
 */
function timed(scenario, tool, argv, { verify, env, expectNoop = false }) {
  const s = slot(scenario, tool);
  commands.set(`${scenario}/${tool}`, template(argv));
  const m = measure(argv, { env, timeFile: join(WORK, `time-${timeSeq++}.txt`) });
  s.walls.push(m.wall);
  const tag = judgeRun(s, m, { tsync: tool === 'tsync', expectNoop, verify });
  log(`  ${scenario} ${tool}: ${m.wall.toFixed(3)} s${tag}`);
}

/** Untimed: setting a pair up, refreshing a tool's state. Throws when the command fails. @param {string[]} argv @param {NodeJS.ProcessEnv} [env] */
const prepare = (argv, env) => run(argv, { env });

/** @template T @param {T[]} xs @param {number} r @returns {T[]} */
const rotate = (xs, r) => xs.map((_, i) => /** @type {T} */ (xs[(i + r) % xs.length]));

/** Puts a tree back to the pristine dataset, rewriting only what differs. @param {string} pristine @param {string} tree */
const restore = (pristine, tree) => run(['rsync', '-a', '--delete', `${pristine}/`, `${tree}/`]);

/** @param {Check[]} checks @returns {Check} */
function allOf(...checks) {
  return { ok: checks.every((c) => c.ok), mismatches: checks.reduce((n, c) => n + c.mismatches, 0), problems: checks.flatMap((c) => c.problems) };
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

/** Initial copy of the 10k tree, then no-op re-syncs of it. @param {SmallTreeManifest} data */
async function smallScenario(data) {
  const W = join(WORK, 'small');
  mkdirSync(W, { recursive: true });
  const dst = (/** @type {string} */ t) => join(W, `far-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  log(`initial copy of ${data.files.length} files, ${REPS} repetition(s)`);
  for (let r = 0; r < REPS; r++) {
    for (const tool of rotate(['tsync', 'rsync'], r)) {
      rmrf(dst(tool));
      rmrf(st(tool));
      timed('initial', tool, oneWay(tool, data.root, dst(tool), st(tool)), { verify: () => compareTrees(data.root, dst(tool), { content: 'all' }) });
    }
  }
  await noopRuns('noop-small', data.root, dst, st);
}

/** @param {string} key @param {string} src @param {(t: string) => string} dst @param {(t: string) => string} st */
async function noopRuns(key, src, dst, st) {
  log(`${key}: no-op re-sync, ${REPS} repetition(s)`);
  await sleep(SETTLE_MS);
  // untimed: the first re-sync after a copy may still settle metadata (tsync records the far side's stats)
  for (const tool of ['tsync', 'rsync']) prepare(oneWay(tool, src, dst(tool), st(tool)));
  for (let r = 0; r < REPS; r++) {
    for (const tool of rotate(['tsync', 'rsync'], r)) {
      timed(key, tool, oneWay(tool, src, dst(tool), st(tool)), { verify: () => compareTrees(src, dst(tool), { content: 'none' }), expectNoop: true });
    }
  }
}

/** No-op re-syncs of the 100k tree (each tool's initial copy untimed). @param {SmallTreeManifest} data */
async function bigNoopScenario(data) {
  const W = join(WORK, 'big');
  mkdirSync(W, { recursive: true });
  const dst = (/** @type {string} */ t) => join(W, `far-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  for (const tool of ['tsync', 'rsync']) {
    const t0 = Date.now();
    prepare(oneWay(tool, data.root, dst(tool), st(tool)));
    log(`  ${tool}: untimed initial copy of ${data.files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const v = compareTrees(data.root, dst(tool), { content: 'sample' });
    if (!v.ok) slot('noop-big', tool).failures.push(`initial copy differs: ${v.problems.join('; ')}`);
  }
  await noopRuns('noop-big', data.root, dst, st);
}

/** One-way, 1% changed + 1% added + 1% deleted locally, pushed to the far side. @param {SmallTreeManifest} data */
async function incrementalScenario(data) {
  const W = join(WORK, 'incr');
  mkdirSync(W, { recursive: true });
  const plan = planIncremental(data, SPEC.changePct, SEED + 1);
  log(`incremental one-way: ${plan.changed.length} changed, ${plan.added.length} added, ${plan.deleted.length} deleted; ${REPS} repetition(s)`);
  const pair = (/** @type {string} */ t) => ({ src: join(W, `src-${t}`), dst: join(W, `far-${t}`), state: join(W, `state-${t}`) });
  for (const tool of ['tsync', 'rsync']) {
    const p = pair(tool);
    restore(data.root, p.src);
    prepare(oneWay(tool, p.src, p.dst, p.state)); // untimed initial copy (and tsync's index)
  }
  for (let r = 0; r < REPS; r++) {
    for (const tool of rotate(['tsync', 'rsync'], r)) {
      const p = pair(tool);
      restore(data.root, p.src);
      restore(data.root, p.dst);
      await sleep(SETTLE_MS);
      // brings tsync's index up to date with the restored trees, as after a real previous sync
      if (tool === 'tsync') prepare(oneWay(tool, p.src, p.dst, p.state));
      applyChanges(p.src, plan, data.pool, SEED + 2, 'incremental');
      await sleep(SETTLE_MS);
      timed('incremental', tool, oneWay(tool, p.src, p.dst, p.state), { verify: () => compareTrees(p.src, p.dst, { content: 'all' }) });
    }
  }
}

/** Two-way, 1% changed on each side (disjoint): tsync against Unison. @param {SmallTreeManifest} data */
async function twoWayScenario(data) {
  const W = join(WORK, 'twoway');
  mkdirSync(W, { recursive: true });
  const plan = planTwoWay(data, SPEC.changePct, SEED + 3);
  log(`incremental two-way: ${plan.a.length} changed locally, ${plan.b.length} on the far side; ${REPS} repetition(s)`);
  const pair = (/** @type {string} */ t) => ({ a: join(W, `A-${t}`), b: join(W, `far-B-${t}`), state: join(W, `state-${t}`) });
  const uenv = { ...process.env, UNISON: join(W, 'unison-local') };
  const argv = (/** @type {string} */ tool) => (tool === 'tsync' ? tsyncTwoWay(pair(tool).a, pair(tool).b, pair(tool).state) : unison(pair(tool).a, pair(tool).b));
  const env = (/** @type {string} */ tool) => (tool === 'unison' ? uenv : undefined);
  for (let r = 0; r < REPS; r++) {
    for (const tool of rotate(['tsync', 'unison'], r)) {
      const p = pair(tool);
      restore(data.root, p.a);
      restore(data.root, p.b);
      await sleep(SETTLE_MS);
      prepare(argv(tool), env(tool)); // untimed: builds (first time) or refreshes the tool's state
      const expA = applyChanges(p.a, { changed: plan.a }, data.pool, SEED + 4, 'twoway-A');
      const expB = applyChanges(p.b, { changed: plan.b }, data.pool, SEED + 5, 'twoway-B');
      await sleep(SETTLE_MS);
      timed('twoway', tool, argv(tool), {
        env: env(tool),
        // directory mtimes are not compared: Unison does not propagate them
        verify: () => allOf(compareTrees(p.a, p.b, { content: 'all', dirMeta: false }), checkContents(p.b, expA), checkContents(p.a, expB)),
      });
    }
  }
}

/**
 * A 1 MiB edit in the middle of a large file, pushed to the far side: each repetition rewrites the same 1 MiB region
 * alternately with new bytes and with the original ones (a fresh mtime each time), so every run sends one 1 MiB edit
 * against a far copy that holds the other version. Times with plain ssh; then one more run per tool through the
 * counting relay (bench/lib/ssh-count.mjs) for the bytes sent.
 */
async function deltaScenario() {
  const W = join(WORK, 'delta');
  mkdirSync(W, { recursive: true });
  const { size, edit } = SPEC.large;
  log(`delta: generating a ${size / MiB} MiB file`);
  const data = generateLargeFiles(join(W, 'src'), { count: 1, size, seed: SEED + 7 });
  const file = join(data.root, /** @type {import('./lib/data.mjs').FileSpec} */ (data.files[0]).rel);
  const at = Math.floor(size / 2 - edit / 2);
  const original = Buffer.alloc(edit);
  const fd = openSync(file, 'r');
  readSync(fd, original, 0, edit, at);
  closeSync(fd);
  const edited = keystream(SEED + 7, 'delta-edit')(edit);
  let version = 0;
  const editOnce = () => {
    version++;
    const w = openSync(file, 'r+');
    writeSync(w, version % 2 === 1 ? edited : original, 0, edit, at);
    closeSync(w);
    const t = 1_700_000_000 + 1000 + version;
    utimesSync(file, t, t);
  };
  const dst = (/** @type {string} */ t) => join(W, `far-${t}`);
  const st = (/** @type {string} */ t) => join(W, `state-${t}`);
  for (const tool of ['tsync', 'rsync']) prepare(oneWay(tool, data.root, dst(tool), st(tool)));
  log(`delta: ${edit / MiB} MiB edited in the middle, ${REPS} timed repetition(s) + 1 counted run per tool`);
  for (let r = 0; r < REPS; r++) {
    editOnce();
    await sleep(SETTLE_MS);
    for (const tool of rotate(['tsync', 'rsync'], r))
      timed('delta', tool, oneWay(tool, data.root, dst(tool), st(tool)), { verify: () => compareTrees(data.root, dst(tool), { content: 'all' }) });
  }
  editOnce();
  await sleep(SETTLE_MS);
  /** @type {Record<string, CountedRun>} */
  const counted = {};
  for (const tool of ['tsync', 'rsync']) {
    const countFile = join(W, `count-${tool}.txt`);
    const ssh = `${NODE} ${SSH_COUNTER} ${countFile} ${SSH}`;
    // rsync's own count too (--stats "Total bytes sent"), as a cross-check of the relay's
    const argv = tool === 'rsync' ? ['rsync', '--stats', ...rsync(data.root, dst(tool), ssh).slice(1)] : tsyncOneWay(data.root, dst(tool), st(tool), ssh);
    commands.set(`delta-bytes/${tool}`, template(argv).replace(`${NODE} ${SSH_COUNTER} ${countFile} `, 'node bench/lib/ssh-count.mjs COUNT_FILE '));
    const m = measure(argv, { timeFile: join(WORK, `time-${timeSeq++}.txt`) });
    const lines = existsSync(countFile) ? readFileSync(countFile, 'utf8').trim().split('\n').filter(Boolean) : [];
    const [up, down] = lines.reduce(([u, d], l) => [u + Number(l.split(' ')[0]), d + Number(l.split(' ')[1])], [0, 0]);
    const stats = /Total bytes sent: ([\d,.]+)/.exec(m.stdout);
    const v = m.status === 0 ? compareTrees(data.root, dst(tool), { content: 'all' }) : null;
    counted[tool] = {
      up,
      down,
      wall: m.wall,
      statsSent: stats ? Number(/** @type {string} */ (stats[1]).replace(/[,.]/g, '')) : undefined,
      ok: m.status === 0 && v !== null && v.ok && lines.length > 0,
      failure:
        m.status !== 0
          ? `exit ${m.status}: ${(m.stderr || m.stdout).trim().split('\n').slice(-1)[0]}`
          : v && !v.ok
            ? `replica differs: ${v.problems.join('; ')}`
            : lines.length === 0
              ? 'the relay counted nothing'
              : undefined,
    };
    // the relay is trusted only if it agrees with rsync's own count of what rsync sent (rsync adds a few bytes of its own)
    const own = counted[tool].statsSent;
    if (tool === 'rsync' && counted[tool].ok && (own === undefined || Math.abs(up - own) > 0.02 * own)) {
      counted[tool] = { ...counted[tool], ok: false, failure: `the relay counted ${up} bytes sent, rsync --stats says ${own ?? 'nothing'}: the count is not trusted` };
    }
    log(`  delta-bytes ${tool}: ${up} bytes up, ${down} down, ${m.wall.toFixed(3)} s${counted[tool].ok ? ' ok' : ` ${counted[tool].failure}`}`);
  }
  rmrf(W); // 3 × 256 MiB
  return counted;
}

// ---------------------------------------------------------------------------------------------------
// Watch with a remote side: `tsync watch` two-way between a local root and a remote one; creates, overwrites and
// deletes are made in the remote root, one every 50 ms, and each one's latency is the time until the local root
// holds it (polled every ms), as bench/watch.mjs measures local watch. Anything not there 10 s after the last write
// is missed; then the trees are compared.

/** @param {SmallTreeManifest} data @returns {Promise<WatchOutcome>} */
async function watchScenario(data) {
  const W = join(WORK, 'watch');
  mkdirSync(W, { recursive: true });
  const far = join(W, 'far');
  const near = join(W, 'near');
  const state = join(W, 'state');
  // a small tree to start from: the first leaf directories of the 10k tree
  mkdirSync(far, { recursive: true });
  for (const leaf of data.leaves.slice(0, 4)) run(['cp', '-a', join(data.root, leaf), join(far, leaf.replace('/', '-'))]);
  run(['cp', '-a', far, near]);
  const argv = [NODE, TSYNC_BIN, 'watch', '--json', '--ssh', SSH, '--state-dir', state, near, remote(far)];
  commands.set('watch/tsync', template(argv));
  log(`watch: ${SPEC.watch.ops} operations in the remote root, one every ${SPEC.watch.everyMs} ms`);
  const child = spawn(argv[0] ?? NODE, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (/** @type {string} */ s) => {
    if (stderr.length < 16_384) stderr += s;
  });
  /** @type {Promise<number | null>} */
  const exited = new Promise((res) => child.once('exit', (code) => res(code)));
  const ready = await new Promise((res) => {
    const timer = setTimeout(() => res(false), SPEC.watch.readyTimeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (/"type":"ready"/.test(line)) {
        clearTimeout(timer);
        res(true);
      }
    });
    exited.then(() => {
      clearTimeout(timer);
      res(false);
    });
  });
  if (!ready) {
    child.kill('SIGKILL');
    const code = await exited;
    return {
      notRun: `\`tsync watch A host:B\` ${code === null ? `was not ready within ${SPEC.watch.readyTimeoutMs / 1000} s` : `exited ${code}`}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`,
    };
  }
  try {
    await sleep(300);
    return await latencyRun(far, near);
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    child.kill('SIGKILL');
  }
}

/**
 * The operations and their latencies: a new file (half of them in a fresh directory), an overwrite of a file untouched
 * for a second, or a delete of one.
 * @param {string} far @param {string} near @returns {Promise<WatchOutcome>}
 */
async function latencyRun(far, near) {
  const r = rng(SEED + 9);
  const bytes = keystream(SEED + 9, 'watch');
  /** @type {Array<{ rel: string, expect: Buffer | null, t0: number, latency: number | null }>} */
  const records = [];
  /**
   * rel -> the op that last wrote it (undefined: there from the start): overwrites and deletes pick only files on both
   * sides, so a delete of a file that never arrived cannot count as arrived at once
   * @type {Map<string, { i: number, rec?: (typeof records)[number] }>}
   */
  const files = new Map([...walk(far)].filter(([, st]) => st.isFile()).map(([rel]) => [rel, { i: -Infinity }]));
  /** @type {Map<string, (typeof records)[number]>} */
  const pending = new Map();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const t = performance.now();
      for (const [rel, rec] of pending) {
        const p = join(near, rel);
        const there = rec.expect === null ? !existsSync(p) : existsSync(p) && readFileSync(p).equals(rec.expect);
        if (there) {
          rec.latency = t - rec.t0;
          pending.delete(rel);
        }
      }
      await sleep(1);
    }
  })();
  const tStart = performance.now();
  for (let i = 0; i < SPEC.watch.ops; i++) {
    await sleep(tStart + i * SPEC.watch.everyMs - performance.now());
    const old = [...files].filter(([, f]) => i - f.i >= 20 && (f.rec === undefined || f.rec.latency !== null)).map(([rel]) => rel);
    const pick = r();
    let rel;
    /** @type {Buffer | null} */
    let expect = null;
    if (pick < 0.2 && old.length > 0) {
      rel = /** @type {string} */ (old[r.int(old.length)]);
      expect = bytes(16 + r.int(2048));
      writeFileSync(join(far, rel), expect);
    } else if (pick < 0.35 && old.length > 5) {
      rel = /** @type {string} */ (old[r.int(old.length)]);
      unlinkSync(join(far, rel));
      files.delete(rel);
    } else {
      const dir = pick < 0.5 ? `fresh${i}` : '';
      if (dir !== '') mkdirSync(join(far, dir));
      rel = dir === '' ? `new${i}` : `${dir}/new${i}`;
      expect = bytes(16 + r.int(2048));
      writeFileSync(join(far, rel), expect);
    }
    const rec = { rel, expect, t0: performance.now(), latency: null };
    if (expect !== null) files.set(rel, { i, rec });
    pending.set(rel, rec);
    records.push(rec);
  }
  const tLast = performance.now();
  while (pending.size > 0 && performance.now() < tLast + SPEC.watch.graceMs) await sleep(20);
  polling = false;
  await poll;
  const diff = compareTrees(far, near, { content: 'all', dirMeta: false });
  const lat = records
    .map((x) => x.latency)
    .filter((x) => x !== null)
    .sort((a, b) => a - b);
  const pct = (/** @type {number} */ p) => (lat.length === 0 ? null : /** @type {number} */ (lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)]));
  return { p50: pct(50), p99: pct(99), missed: records.filter((x) => x.latency === null).length, differing: diff.mismatches, ops: records.length };
}

// ---------------------------------------------------------------------------------------------------
// The report

/** @param {number} s */
function fmtS(s) {
  if (!Number.isFinite(s)) return 'n/a';
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}
/** @param {number} b */
const fmtMiB = (b) => (b >= 10 * MiB ? `${(b / MiB).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
const fmtCount = (/** @type {number} */ n) => n.toLocaleString('en-US');

/**
 * A row comparing medians of one scenario: met when both tools were right every time and the ratio is within target.
 * @param {string} work @param {string} scenario @param {string} peer @param {number} target
 */
function ratioRow(work, scenario, peer, target) {
  const targetText = `≤ ${target.toFixed(1)}× ${peer === 'unison' ? 'Unison' : 'rsync'}`;
  const a = results.get(scenario)?.get('tsync');
  const b = results.get(scenario)?.get(peer);
  if (a === undefined || b === undefined) return notRun(work, targetText);
  const cell = (/** @type {Slot} */ s) =>
    `${fmtS(median(s.walls))}${s.wrong > 0 ? ` ✗ WRONG (${s.wrong}/${s.checks} runs)` : s.failures.length > 0 ? ` ✗ (${s.failures.length} problem(s))` : ''}`;
  const ratio = median(a.walls) / median(b.walls);
  const clean = a.failures.length === 0 && b.failures.length === 0;
  return { work, tsync: cell(a), peer: `${peer} ${cell(b)}`, ratio: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a', target: targetText, met: verdict(clean && ratio <= target) };
}

/** @param {Record<string, CountedRun> | undefined} counted @returns {TargetRow} */
function deltaRow(counted) {
  const work = `a ${SPEC.large.edit / MiB} MiB edit in the middle of a ${SPEC.large.size / MiB} MiB file`;
  const target = `bytes sent ≤ ${TARGET.deltaBytes}× rsync's; time ≤ ${TARGET.deltaTime.toFixed(1)}× rsync`;
  const time = ratioRow(work, 'delta', 'rsync', TARGET.deltaTime);
  const t = counted?.tsync;
  const p = counted?.rsync;
  if (t === undefined || p === undefined || time.met === 'not run') return notRun(work, target);
  const bytesRatio = t.up / p.up;
  const stats = p.statsSent === undefined ? '' : `; --stats "Total bytes sent": ${fmtMiB(p.statsSent)}`;
  return {
    work,
    tsync: `${fmtMiB(t.up)} sent${t.ok ? '' : ` ✗ ${t.failure}`}; ${time.tsync}`,
    peer: `${fmtMiB(p.up)} sent${stats}${p.ok ? '' : ` ✗ ${p.failure}`}; ${time.peer}`,
    ratio: `bytes ${bytesRatio.toFixed(2)}×; time ${time.ratio}`,
    target,
    met: verdict(t.ok && p.ok && bytesRatio <= TARGET.deltaBytes && time.met === 'met'),
  };
}

/** @param {WatchOutcome | undefined} w @returns {TargetRow} */
function watchRow(w) {
  const work = 'watch, remote side (changes made in the remote root)';
  const target = `p50 ≤ ${TARGET.watchP50} ms, p99 ≤ ${TARGET.watchP99} ms, 0 missed`;
  if (w === undefined) return notRun(work, target);
  if ('notRun' in w) return { ...notRun(work, target), tsync: `not run: ${w.notRun}` };
  const ok = w.p50 !== null && w.p99 !== null && w.p50 <= TARGET.watchP50 && w.p99 <= TARGET.watchP99 && w.missed === 0 && w.differing === 0;
  return { work, tsync: `p50 ${fmtMs(w.p50)}, p99 ${fmtMs(w.p99)}, ${w.missed}/${w.ops} missed, ${w.differing} differing`, peer: '—', ratio: '—', target, met: verdict(ok) };
}

/** @param {{ small: number, big: number, counted?: Record<string, CountedRun>, watch?: WatchOutcome }} ctx */
function targetRows(ctx) {
  return [
    ratioRow(`initial copy, ${fmtCount(ctx.small)} small files`, 'initial', 'rsync', TARGET.initial),
    ratioRow(`no-op, ${fmtCount(ctx.small)} files`, 'noop-small', 'rsync', TARGET.noop),
    ratioRow(`no-op, ${fmtCount(ctx.big)} files`, 'noop-big', 'rsync', TARGET.noop),
    ratioRow(`incremental one-way, ${SPEC.changePct}% (changed, added, deleted each)`, 'incremental', 'rsync', TARGET.incremental),
    ratioRow(`incremental two-way, ${SPEC.changePct}% changed each side`, 'twoway', 'unison', TARGET.twoWay),
    deltaRow(ctx.counted),
    watchRow(ctx.watch),
  ];
}

function details() {
  const d = ['| scenario | tool | runs | median | min | max | checks passed | problems |', '|---|---|---|---|---|---|---|---|'];
  for (const [scenario, tools] of results) {
    for (const [tool, s] of tools) {
      d.push(
        `| ${scenario} | ${tool} | ${s.walls.length} | ${fmtS(median(s.walls))} | ${fmtS(Math.min(...s.walls))} | ${fmtS(Math.max(...s.walls))} | ${s.checks - s.wrong}/${s.checks} | ${s.failures.join('; ').replace(/\|/g, '\\|')} |`,
      );
    }
  }
  return d.join('\n');
}

/** @param {string[]} argv */
function version(argv) {
  const r = run(argv, { allowFail: true });
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? 'unknown';
}

/** @param {{ loadStart: string, git: ReturnType<typeof gitStamp>, table: string }} ctx */
function resultsMarkdown(ctx) {
  const cpu = cpus();
  const md = ['# tsync remote benchmark results (issue 15)', '', `Generated by \`bench/remote.mjs\` on ${new Date().toISOString()}.`, '', '| | |', '|---|---|'];
  md.push(`| tsync | ${version([NODE, TSYNC_BIN, '--version'])} (git ${ctx.git.label}) |`);
  md.push(`| node | ${process.version} (both sides: the far side runs the agent bundle with the same node) |`);
  md.push(`| machine | ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${process.platform} ${version(['uname', '-r'])} |`);
  md.push(`| filesystem | ${version(['findmnt', '-no', 'FSTYPE', '-T', WORK_ROOT])} (both roots: the remote root is a path on this machine, reached over ssh) |`);
  md.push(`| ssh | ${version(['ssh', '-V'])}; sshd on 127.0.0.1 started by the benchmark (throwaway ed25519 keys) |`);
  md.push(`| rsync | ${version(['rsync', '--version'])} |`);
  md.push(`| unison | ${version(['unison', '-version'])} (/usr/bin/unison on both ends) |`);
  md.push(`| scenarios | ${[...ONLY].join(', ')}; ${REPS} repetition(s) per measurement (medians); seed ${SEED} |`);
  md.push(`| environment | ${startupEnvText(STARTUP_ENV_REMOVED)} |`);
  md.push(
    `| load average | ${ctx.loadStart} at start, ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at end |`,
  );
  md.push('', '## Targets (issue 15)', '', ctx.table, '');
  md.push(
    'Times are medians of wall-clock time with a warm page cache; `sync` runs, untimed, before each measured run. Every run is checked: the replica against the source (file set, kinds, sizes, modes, mtimes, contents), for two-way both edits arrived; a wrong replica or a failing exit makes the row "not met". Bytes sent are counted on the pipe into ssh by `bench/lib/ssh-count.mjs`, the same relay for both tools, in one extra run each (the timed runs use plain ssh).',
    '',
  );
  md.push('## All measurements', '', details(), '');
  md.push('## Commands', '', `\`$SSH\` is \`${SSH.replaceAll(WORK, '$WORK').replace(/\/tmp\/tsync-sshd-\w+/g, '$SSHD_DIR')}\`; \`$WORK\` is the work dir.`, '');
  for (const [k, v] of commands) md.push(`- ${k}: \`${v}\``);
  md.push('');
  return md.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Main

async function main() {
  for (const cmd of ['rsync', 'unison', 'ssh', 'ssh-keygen', 'cp', 'sync']) if (which(cmd) === null) throw new Error(`${cmd} not found on PATH`);
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} (GNU time) not found`);
  if (!existsSync(join(ROOT, 'dist', 'agent', 'tsync-agent.mjs'))) throw new Error('dist/ is missing: run `npm run build` first (or `npm run bench:remote`)');
  const broken = verifierSelfTest();
  if (broken.length > 0) throw new Error(`the replica verifier fails its self-test:\n  ${broken.join('\n  ')}`);
  const git = gitStamp(ROOT);
  if (git.dirty.length > 0) log(`WARNING: the work tree has uncommitted changes; results are stamped ${git.label}`);
  const loadStart = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  mkdirSync(WORK, { recursive: true });
  log(`work dir ${WORK}; ${QUICK ? 'QUICK smoke run; ' : ''}${REPS} repetition(s)`);
  await startFarSide();
  log(`sshd on ${HOST}:${sshd?.port}`);
  // the first connection uploads the agent bundle into the far side's cache: untimed, as on any second use
  const warm = join(WORK, 'warm');
  mkdirSync(warm);
  prepare(tsyncOneWay(warm, join(WORK, 'warm-far'), join(WORK, 'warm-state')));

  log(`generating ${SPEC.small.files} files`);
  const small = generateSmallTree(join(WORK, 'data', 'small'), { ...SPEC.small, seed: SEED });
  if (ONLY.has('small')) await smallScenario(small);
  if (ONLY.has('incremental')) await incrementalScenario(small);
  if (ONLY.has('twoway')) await twoWayScenario(small);
  const counted = ONLY.has('delta') ? await deltaScenario() : undefined;
  const watch = ONLY.has('watch') ? await watchScenario(small) : undefined;
  if (ONLY.has('big')) {
    log(`generating ${SPEC.big.files} files`);
    await bigNoopScenario(generateSmallTree(join(WORK, 'data', 'big'), { ...SPEC.big, seed: SEED + 100 }));
  }

  const table = targetsTable(targetRows({ small: SPEC.small.files, big: SPEC.big.files, counted, watch }), { cpSyncColumn: false });
  process.stdout.write(
    `\nTargets (issue 15; tsync with one remote root over ssh to 127.0.0.1; ${QUICK ? 'QUICK smoke run: small sizes, rough' : `medians of ${REPS}`}):\n\n${table}\n\n${details()}\n`,
  );
  if (RESULTS) {
    writeFileSync(RESULTS, resultsMarkdown({ loadStart, git, table }));
    log(`wrote ${RESULTS}`);
  }
}

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await sshd?.stop();
  if (KEEP) log(`keeping ${WORK} (BENCH_KEEP=1)`);
  else rmrf(WORK);
}
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (e) {
  log(`error: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  log('done');
}
