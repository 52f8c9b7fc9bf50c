#!/usr/bin/env node
// Watch-mode benchmark: `tsync watch` (one-way and two-way) against a bare chokidar copier and lsyncd.
// It reports; it never asserts (targets are marked ✓/✗ in the tables). See bench/README.md.
//
//   npm run bench:watch                      # build, then the default run (~6-10 min on 2 cores)
//   BENCH_QUICK=1 node bench/watch.mjs       # smoke run (~2 min)
//   BENCH_WATCH_ONLY=latency,burst BENCH_WATCH_TOOLS=tsync1,chokidar node bench/watch.mjs
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, writeSync, unlinkSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lsyncdConfig } from './watch-peers/lsyncd-config.mjs';
import { isTsyncOwnEntry } from './lib/verify.mjs';
import { verifierSelfTest } from './lib/verify-self-test.mjs';
import { gitStamp } from './lib/git-stamp.mjs';
import { cpuPerChangeMet, targetsTable, WATCH_TARGETS, watchTargetRows } from './lib/targets.mjs';
import { startupEnvText, withoutStartupEnv } from './lib/env.mjs';

/** Before anything is started: every command below inherits this environment. */
const STARTUP_ENV_REMOVED = withoutStartupEnv();

/** @typedef {{ id: string, label: string, tsync?: boolean, oneWay?: boolean }} Tool */
/** A tsync NDJSON event: `type` names it; the other fields are there for the events that carry them. */
/** @typedef {{ type: string, ms?: number, full?: boolean, code?: string, message?: string, path?: string, resolution?: string }} TsyncEvent */
/** @typedef {{ t: number, stream: 'out' | 'err', text: string, json: TsyncEvent | null }} Line */
/** @typedef {Line & { json: TsyncEvent }} EventLine */
/** @typedef {{ base: string, A: string, B: string, state: string }} Dirs */
/** @typedef {{ kind: string, rel: string, content: Buffer, mkdir?: string }} Op */
/** @typedef {{ i: number, kind: string, t0: number, expect: Buffer | null, latency: number | null, superseded: boolean }} OpRecord */
/** @typedef {{ cmd: string, start: number, end: number }} ChildInterval */
/** @typedef {ReturnType<typeof tsyncEvents>} EventSummary */
/** @typedef {{ title: string, text: string, table: string, after: string }} Section */
/** @typedef {{ sections: Section[], notes: string[], results: Record<string, unknown> }} Report */
/** @typedef {ReturnType<typeof summarizeLatency> & { ev: EventSummary | null, cycles?: string, error?: undefined }} LatencyResult */
/** @typedef {LatencyResult | { error: string }} LatencyOutcome */
/** @typedef {Awaited<ReturnType<typeof burstRun>>} BurstRun */
/** @typedef {Awaited<ReturnType<typeof startupRun>>} StartupRun */
/** @typedef {{ ms: number | null, msAll: number[], hwm: number, watches: number, ownMs: number | null, error?: string }} StartupSummary */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSYNC_BIN = join(ROOT, 'bin', 'tsync.js');
const CHOKIDAR_PEER = join(ROOT, 'bench', 'watch-peers', 'chokidar-copy.mjs');
const LSYNCD = '/usr/bin/lsyncd';
const NODE = process.execPath;
const E = process.env;

// ---------------------------------------------------------------------------------------------------
// Configuration

const QUICK = E.BENCH_QUICK === '1';
const SCENARIOS = ['latency', 'burst', 'startup', 'cycle'];
const ONLY = listEnv('BENCH_WATCH_ONLY', SCENARIOS);
/** @type {Tool[]} */
const ALL_TOOLS = [
  { id: 'chokidar', label: 'chokidar copier' },
  { id: 'lsyncd', label: 'lsyncd (rsync)' },
  { id: 'tsync1', label: 'tsync --one-way', tsync: true, oneWay: true },
  { id: 'tsync2', label: 'tsync two-way', tsync: true, oneWay: false },
];
const TOOLS = ALL_TOOLS.filter((t) =>
  listEnv(
    'BENCH_WATCH_TOOLS',
    ALL_TOOLS.map((x) => x.id),
  ).has(t.id),
);
const CFG = {
  latencyOps: QUICK ? 40 : 200,
  latencyEveryMs: 50,
  /** How long after the last write a change may still arrive; then the trees are compared. */
  graceMs: 10_000,
  /** Overwrites in place write the first half, wait this long, then the second half. */
  partialGapMs: 5,
  /** An overwrite or delete only targets a file untouched for this many operations (1 s). */
  minOpsBetweenTouches: 20,
  burstFiles: QUICK ? 200 : 1000,
  burstReps: QUICK ? 1 : 3,
  burstTimeoutMs: 30_000,
  startup: QUICK
    ? [
        { label: '1k', files: 1000, dirs: 20, reps: 1 },
        { label: '5k', files: 5000, dirs: 100, reps: 1 },
      ]
    : [
        { label: '10k', files: 10_000, dirs: 200, reps: 3 },
        { label: '100k', files: 100_000, dirs: 2000, reps: 1 },
      ],
  /**
   * The cycle scenario (issue 11): a tree of this size, then single-file changes one at a time. 60 changes since
   * 31c5083 (20 before): the idle rate is taken over as long as the changes take, and a full collection of the heap
   * (20-30 ms on the main thread) in either window moved a mean of 20 by 1-1.5 ms; two runs of the same code read 6.0
   * and 4.0 ms one-way (bench/results-watch-cycle-5a1b8a5.md, -31c5083.md).
   */
  cycle: QUICK ? { files: 5000, dirs: 100, changes: 10 } : { files: 100_000, dirs: 2000, changes: 60 },
  /** Each change gets this long (from its write) before the next: room for its cycle and tsync's 1 s persist. */
  cycleGapMs: 1500,
  startupTimeoutMs: 180_000,
  readyTimeoutMs: 60_000,
  /** Pause after a tool reports ready before the first write. */
  settleMs: 300,
  seed: 0x75796e63,
};
/** @type {{ p50: number, p99: number, deleteP50: number, burstMs: number, startup: Record<string, { ms: number, mb: number }> }} */
const TARGETS = {
  p50: 10,
  p99: 50,
  deleteP50: 60,
  burstMs: 1500,
  startup: { '10k': { ms: 1500, mb: 200 }, '100k': { ms: 12_000, mb: 500 } },
};
const WORK_PARENT = resolve(E.BENCH_WATCH_WORK ?? tmpdir());
const KEEP = E.BENCH_KEEP === '1';
const RESULTS = E.BENCH_WATCH_RESULTS ?? (QUICK ? null : join(ROOT, 'bench', 'watch-results.md'));
/** Where to write the issue 11 figures as JSON (bench/run.mjs's `watch` scenario reads them); unset: nowhere. */
const FIGURES_JSON = E.BENCH_WATCH_JSON ?? null;

/** @param {string} name @param {string[]} all */
function listEnv(name, all) {
  const v = E[name];
  if (v === undefined || v.trim() === '') return new Set(all);
  const set = new Set(
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of set) {
    if (!all.includes(s)) {
      console.error(`bench/watch: unknown value "${s}" in ${name} (expected some of ${all.join(',')})`);
      process.exit(2);
    }
  }
  return set;
}

// ---------------------------------------------------------------------------------------------------
// Child processes: each runs in its own process group so it can be killed with its children (rsync,
// sync) even when the benchmark fails.

/** @type {Set<Proc>} */
const live = new Set();
/** @type {string | null} */
let WORK = null;

class Proc {
  /** @param {string} label @param {string} cmd @param {string[]} args */
  constructor(label, cmd, args) {
    this.label = label;
    this.cmd = [cmd, ...args];
    /** @type {Line[]} */
    this.lines = [];
    this.stderr = '';
    /** @type {Set<{ pred: (line: Line) => boolean, resolve: (line: Line | null) => void }>} */
    this.waiters = new Set();
    /** @type {number | null | undefined} undefined while running */
    this.code = undefined;
    /** @type {NodeJS.Signals | null | undefined} */
    this.signal = undefined;
    this.t0 = performance.now();
    this.child = spawn(cmd, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    // spawn failures arrive as an 'error' event, after which nothing uses the pid
    this.pid = /** @type {number} */ (this.child.pid);
    live.add(this);
    /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
    this.exited = new Promise((res) => {
      const done = (/** @type {number | null} */ code, /** @type {NodeJS.Signals | null} */ signal) => {
        if (this.code !== undefined) return;
        this.code = code;
        this.signal = signal;
        live.delete(this);
        for (const w of this.waiters) w.resolve(null);
        this.waiters.clear();
        res({ code, signal });
      };
      this.child.on('exit', done);
      this.child.on('error', (e) => {
        this.stderr += `spawn failed: ${e.message}\n`;
        done(null, null);
      });
    });
    const onLine = (/** @type {'out' | 'err'} */ stream) => (/** @type {string} */ text) => {
      const t = performance.now();
      /** @type {TsyncEvent | null} */
      let json = null;
      if (text.startsWith('{')) {
        try {
          json = JSON.parse(text);
        } catch {
          /* not NDJSON */
        }
      }
      /** @type {Line} */
      const line = { t, stream, text, json };
      this.lines.push(line);
      for (const w of this.waiters) {
        if (w.pred(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
      }
    };
    createInterface({ input: this.child.stdout }).on('line', onLine('out'));
    createInterface({ input: this.child.stderr }).on('line', (text) => {
      if (this.stderr.length < 64 * 1024) this.stderr += `${text}\n`;
      onLine('err')(text);
    });
  }

  get running() {
    return this.code === undefined;
  }

  /**
   * The first line (already seen or still to come) that matches; null on timeout or exit.
   * @param {(line: Line) => boolean} pred @param {number} timeoutMs
   * @returns {Promise<Line | null>}
   */
  waitFor(pred, timeoutMs) {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    if (!this.running) return Promise.resolve(null);
    return new Promise((res) => {
      const w = {
        pred,
        resolve: (/** @type {Line | null} */ v) => {
          clearTimeout(timer);
          res(v);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        res(null);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** SIGTERM to the process itself (a clean stop), then SIGKILL to its whole group. */
  async stop(graceMs = 15_000) {
    if (this.running) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await Promise.race([this.exited, sleep(graceMs)]);
    }
    const clean = !this.running && this.code === 0;
    killGroup(this.pid, 'SIGKILL');
    await Promise.race([this.exited, sleep(2000)]);
    return { clean, code: this.code, signal: this.signal };
  }
}

/** @param {number} pid @param {NodeJS.Signals} sig */
function killGroup(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    /* no such group */
  }
}

function emergencyCleanup() {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
  live.clear();
  if (WORK !== null && !KEEP) {
    try {
      rmSync(WORK, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
    WORK = null;
  }
}
process.on('exit', emergencyCleanup);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    console.error(`bench/watch: ${sig}: killing children, removing ${WORK ?? 'nothing'}`);
    emergencyCleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

/** @param {number} ms @returns {Promise<void>} */
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const now = () => performance.now();
const log = (/** @type {string} */ msg) => console.error(`[watch-bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** @param {number} seed */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randInt = (/** @type {() => number} */ rnd, /** @type {number} */ lo, /** @type {number} */ hi) => lo + Math.floor(rnd() * (hi - lo + 1));
/** @param {() => number} rnd @param {number} n */
function randomBytes(rnd, n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** @param {number[]} sorted @param {number} p @returns {number | null} */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]);
}
const median = (/** @type {number[]} */ xs) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** @param {number | null | undefined} x */
function fmtMs(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (x < 10) return `${x.toFixed(1)} ms`;
  if (x < 10_000) return `${Math.round(x)} ms`;
  return `${(x / 1000).toFixed(1)} s`;
}
const fmtS = (/** @type {number | null | undefined} */ x) => (x === null || x === undefined ? '—' : `${(x / 1000).toFixed(2)} s`);
const fmtMB = (/** @type {number | null | undefined} */ x) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${Math.round(x)} MB`);
const mark = (/** @type {boolean | null} */ ok) => (ok === null ? '' : ok ? ' ✓' : ' ✗');

/** Peak and current RSS of a process, in MB (10^6 bytes). */
/** @param {number} pid @returns {{ hwm: number | null, rss: number | null }} */
function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (/** @type {string} */ k) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    return { hwm: (kb('VmHWM') * 1024) / 1e6, rss: (kb('VmRSS') * 1024) / 1e6 };
  } catch {
    return { hwm: null, rss: null };
  }
}

/** inotify watches held by a process: the `inotify wd:` lines of its inotify descriptors. */
/** @param {number} pid */
function inotifyWatches(pid) {
  let n = 0;
  let fds;
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    let link;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (link !== 'anon_inode:inotify') continue;
    try {
      for (const l of readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n')) if (l.startsWith('inotify')) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

/** @param {string} path @param {Buffer} expect */
function sameContent(path, expect) {
  try {
    return readFileSync(path).equals(expect);
  } catch {
    return false;
  }
}

let dirCounter = 0;
/** @param {string} name @returns {Dirs} */
function freshDirs(name) {
  const base = join(/** @type {string} */ (WORK), `${name}-${++dirCounter}`);
  const d = { base, A: join(base, 'A'), B: join(base, 'B'), state: join(base, 'state') };
  mkdirSync(d.A, { recursive: true });
  mkdirSync(d.B, { recursive: true });
  mkdirSync(d.state, { recursive: true });
  return d;
}

/** Every entry below root except tsync's own `<root>/.tsync/` (see lib/verify.mjs): rel → 'dir' | 'file' | 'other'. */
/** @param {string} root */
function listTree(root) {
  /** @type {Map<string, 'dir' | 'file' | 'other'>} */
  const out = new Map();
  const walk = (/** @type {string} */ rel) => {
    let names;
    try {
      names = readdirSync(join(root, rel));
    } catch {
      return;
    }
    for (const name of names) {
      if (isTsyncOwnEntry(rel, name)) continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      let st;
      try {
        st = lstatSync(join(root, r));
      } catch {
        continue;
      }
      const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      out.set(r, kind);
      if (kind === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}

/** Paths whose kind or content differs between A and B (missing, extra or different). */
/** @param {string} A @param {string} B @param {Set<string>} [ignore] */
function diffTrees(A, B, ignore = new Set()) {
  const a = listTree(A);
  const b = listTree(B);
  for (const rel of ignore) {
    a.delete(rel);
    b.delete(rel);
  }
  /** @type {string[]} */
  const diffs = [];
  for (const [rel, kind] of a) {
    const other = b.get(rel);
    if (other !== kind) diffs.push(`${rel}: ${other === undefined ? 'missing in B' : `${kind} in A, ${other} in B`}`);
    else if (kind === 'file' && !readFileSync(join(A, rel)).equals(readFileSync(join(B, rel)))) diffs.push(`${rel}: content differs`);
  }
  for (const rel of b.keys()) if (!a.has(rel)) diffs.push(`${rel}: extra in B`);
  return diffs;
}

/**
 * Every tool starts from identical trees (B = `cp -a` of A; the bare copier has no initial sync), plus a
 * marker file in A only: lsyncd is ready once its startup rsync has copied it into B.
 */
const MARKER = 'ready-marker';
/** @param {Dirs} d */
function startIdentical(d) {
  const cp = spawnSync('cp', ['-a', `${d.A}/.`, d.B], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -a failed: ${cp.stderr}`);
  writeFileSync(join(d.A, MARKER), 'ready\n');
  return MARKER;
}

// ---------------------------------------------------------------------------------------------------
// Starting and stopping the tools

/** @param {Tool} tool @param {'watch' | 'sync'} cmd @param {Dirs} d */
function tsyncArgs(tool, cmd, d) {
  return [TSYNC_BIN, cmd, ...(tool.oneWay ? ['--one-way'] : []), ...(cmd === 'watch' ? ['--json'] : []), '--state-dir', d.state, d.A, d.B];
}

/** @param {Tool} tool */
function commandOf(tool) {
  if (tool.tsync) return `node bin/tsync.js watch ${tool.oneWay ? '--one-way ' : ''}--json --state-dir STATE A B`;
  if (tool.id === 'chokidar') return 'node bench/watch-peers/chokidar-copy.mjs A B';
  return 'lsyncd CONF';
}

/** @param {Tool} tool @param {Dirs} d */
function spawnTool(tool, d) {
  if (tool.tsync) return new Proc(tool.label, NODE, tsyncArgs(tool, 'watch', d));
  if (tool.id === 'chokidar') return new Proc(tool.label, NODE, [CHOKIDAR_PEER, d.A, d.B]);
  const conf = join(d.base, 'lsyncd.conf.lua');
  writeFileSync(conf, lsyncdConfig(d.A, d.B));
  return new Proc(tool.label, LSYNCD, [conf]);
}

const isReadyEvent = (/** @type {Line} */ l) => l.json !== null && l.json.type === 'ready';
const isLsyncdStartupDone = (/** @type {Line} */ l) => /Startup of .* finished/.test(l.text);

/**
 * Starts a tool on A → B and waits until it is ready: tsync's and the copier's ready event; for lsyncd,
 * until the marker file (written into A beforehand) shows up in B, i.e. its startup rsync ran.
 * @param {Tool} tool @param {Dirs} d @param {string} marker
 */
async function startReady(tool, d, marker) {
  const p = spawnTool(tool, d);
  let ok;
  if (tool.id === 'lsyncd') {
    const deadline = now() + CFG.readyTimeoutMs;
    ok = false;
    while (now() < deadline && p.running) {
      if (existsSync(join(d.B, marker))) {
        ok = true;
        break;
      }
      await sleep(5);
    }
  } else {
    ok = (await p.waitFor(isReadyEvent, CFG.readyTimeoutMs)) !== null;
  }
  if (!ok) {
    const why = p.running ? `not ready within ${CFG.readyTimeoutMs / 1000} s` : `exited with ${p.code ?? p.signal}`;
    await p.stop(3000);
    throw new Error(`${tool.label}: ${why}${p.stderr ? `: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  }
  return p;
}

/**
 * Watches a process's children (sampled from /proc on every poll, ~1 ms): tsync runs `sync -f ROOT` to
 * flush before it records state (every second while watching), and no cycle runs meanwhile.
 */
class ChildSampler {
  /** @param {number} pid */
  constructor(pid) {
    this.pid = pid;
    /** @type {Map<string, { cmd: string, start: number }>} */
    this.open = new Map();
    /** @type {ChildInterval[]} */
    this.intervals = [];
  }

  sample() {
    /** @type {string[]} */
    let kids = [];
    try {
      kids = readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      /* gone */
    }
    const t = now();
    for (const k of kids) {
      if (this.open.has(k)) continue;
      let cmd = '';
      try {
        cmd = /** @type {string} */ (readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0')[0]);
      } catch {
        /* gone already */
      }
      this.open.set(k, { cmd, start: t });
    }
    for (const [k, v] of this.open) {
      if (!kids.includes(k)) {
        this.intervals.push({ ...v, end: t });
        this.open.delete(k);
      }
    }
  }

  done() {
    const t = now();
    for (const v of this.open.values()) this.intervals.push({ ...v, end: t });
    this.open.clear();
    return this.intervals;
  }
}

/**
 * tsync's NDJSON events in a time window: cycles, and anything unusual (halts, problems, warnings).
 * @param {Proc} p @param {number} t0 @param {number} t1
 */
function tsyncEvents(p, t0, t1) {
  const inWin = /** @type {EventLine[]} */ (p.lines.filter((l) => l.json !== null && l.t >= t0 && l.t <= t1));
  const cycles = inWin.filter((l) => l.json.type === 'cycle');
  /** @type {string[]} */
  const odd = [];
  /** @type {Map<string | undefined, number>} */
  const problemCodes = new Map();
  for (const l of p.lines) {
    if (l.json === null) continue;
    const e = l.json.type;
    if (e === 'problem') problemCodes.set(l.json.code, (problemCodes.get(l.json.code) ?? 0) + 1);
    else if (e === 'halted' || e === 'warning') odd.push(`${e}: ${l.json.message}`);
    else if (e === 'conflict') odd.push(`conflict: ${l.json.path} (${l.json.resolution})`);
  }
  if (problemCodes.size > 0) {
    odd.push(
      `reported problem events (informational; the file was picked up again by a later cycle unless a miss is listed): ${[...problemCodes].map(([c, n]) => `${n} × ${c}`).join(', ')}`,
    );
  }
  return {
    cycles: cycles.length,
    full: cycles.filter((l) => l.json.full).length,
    cycleMs: cycles.map((l) => /** @type {number} */ (l.json.ms)), // every cycle event carries its ms
    odd: [...new Set(odd)],
  };
}

/** @param {Tool} tool @param {Proc} p @param {string[]} notes */
async function stopTool(tool, p, notes) {
  const r = await p.stop(tool.tsync ? 20_000 : 5000);
  if (tool.tsync && !r.clean) notes.push(`${tool.label}: did not exit 0 on SIGTERM (code ${r.code}, signal ${r.signal})`);
  if (!tool.tsync && r.code !== 0 && r.code !== null && r.code !== 143) notes.push(`${tool.label}: exited with ${r.code} on SIGTERM`);
}

// ---------------------------------------------------------------------------------------------------
// Scenario 1: latency

/** @param {number} n */
function makeLatencyPlan(n) {
  const rnd = prng(CFG.seed);
  const content = () => randomBytes(rnd, randInt(rnd, 16, 2048));
  /** @type {Map<string, { touched: number, size: number }>} */
  const files = new Map(); // rel → { touched }
  /** @type {Array<{ rel: string, content: Buffer }>} */
  const seedFiles = [];
  for (let i = 0; i < 20; i++) {
    const rel = `seed/s${String(i).padStart(2, '0')}`;
    const c = content();
    seedFiles.push({ rel, content: c });
    files.set(rel, { touched: -Infinity, size: c.length });
  }
  const dirs = ['', 'seed'];
  /** @type {Op[]} */
  const ops = [];
  let fresh = 0;
  for (let i = 0; i < n; i++) {
    const eligible = [...files].filter(([, f]) => i - f.touched >= CFG.minOpsBetweenTouches).map(([rel]) => rel);
    const r = rnd();
    if (r < 0.15 && eligible.length > 0) {
      const rel = eligible[Math.floor(rnd() * eligible.length)];
      const f = /** @type {{ touched: number, size: number }} */ (files.get(rel));
      ops.push({ kind: 'overwrite', rel, content: randomBytes(rnd, f.size) });
      f.touched = i;
    } else if (r < 0.3 && eligible.length > 5) {
      const rel = eligible[Math.floor(rnd() * eligible.length)];
      ops.push(/** @type {Op} */ ({ kind: 'delete', rel })); // a delete carries no content
      files.delete(rel);
    } else if (rnd() < 0.2) {
      fresh++;
      const dir = `n${fresh}/d${fresh}`;
      const c = content();
      ops.push({ kind: 'new in fresh dir', rel: `${dir}/f${i}`, mkdir: dir, content: c });
      files.set(`${dir}/f${i}`, { touched: i, size: c.length });
      dirs.push(dir);
    } else {
      const dir = dirs[Math.floor(rnd() * dirs.length)];
      const rel = dir === '' ? `f${i}` : `${dir}/f${i}`;
      const c = content();
      ops.push({ kind: 'new', rel, content: c });
      files.set(rel, { touched: i, size: c.length });
    }
  }
  return { seedFiles, ops };
}

/** @param {string} A @param {Op} op */
async function applyOp(A, op) {
  const abs = join(A, op.rel);
  if (op.kind === 'delete') {
    unlinkSync(abs);
  } else if (op.kind === 'overwrite') {
    // In place: the first half, a pause (a watcher reacting to the first event sees partial content), the rest.
    const fd = openSync(abs, 'r+');
    const half = Math.floor(op.content.length / 2);
    writeSync(fd, op.content, 0, half, 0);
    await sleep(CFG.partialGapMs);
    writeSync(fd, op.content, half, op.content.length - half, half);
    closeSync(fd);
  } else {
    if (op.mkdir) mkdirSync(join(A, op.mkdir), { recursive: true });
    writeFileSync(abs, op.content);
  }
}

/** @param {Tool} tool @param {ReturnType<typeof makeLatencyPlan>} plan */
async function latencyRun(tool, plan) {
  const d = freshDirs(`latency-${tool.id}`);
  /** @type {string[]} */
  const notes = [];
  mkdirSync(join(d.A, 'seed'));
  for (const f of plan.seedFiles) writeFileSync(join(d.A, f.rel), f.content);
  const marker = startIdentical(d);
  let p = null;
  try {
    p = await startReady(tool, d, marker);
    await sleep(CFG.settleMs);
    /** @type {Map<string, OpRecord>} */
    const pending = new Map(); // rel → op record
    /** @type {OpRecord[]} */
    const records = [];
    let polling = true;
    const flushes = tool.tsync ? new ChildSampler(/** @type {Proc} */ (p).pid) : null;
    const poll = (async () => {
      while (polling) {
        flushes?.sample();
        if (pending.size > 0) {
          const t = now();
          for (const [rel, rec] of pending) {
            const target = join(d.B, rel);
            const ok = rec.expect === null ? !existsSync(target) : sameContent(target, rec.expect);
            if (ok) {
              rec.latency = t - rec.t0;
              pending.delete(rel);
            }
          }
        }
        await sleep(1);
      }
    })();
    const tStart = now();
    for (let i = 0; i < plan.ops.length; i++) {
      await sleep(tStart + i * CFG.latencyEveryMs - now());
      const op = plan.ops[i];
      await applyOp(d.A, op);
      /** @type {OpRecord} */
      const rec = { i, kind: op.kind, t0: now(), expect: op.kind === 'delete' ? null : op.content, latency: null, superseded: false };
      const earlier = pending.get(op.rel);
      if (earlier !== undefined) earlier.superseded = true; // not in B after >= 1 s: counted as missed
      pending.set(op.rel, rec);
      records.push(rec);
    }
    const tLast = records[records.length - 1].t0;
    while (pending.size > 0 && now() < tLast + CFG.graceMs) await sleep(20);
    polling = false;
    await poll;
    flushes?.sample();
    await sleep(tLast + CFG.graceMs - now()); // the tree comparison is at +10 s whatever happened before
    const diffs = diffTrees(d.A, d.B, new Set([marker]));
    const tEnd = now();
    const ev = tool.tsync ? tsyncEvents(p, tStart, tEnd) : null;
    await stopTool(tool, p, notes);
    return { records, diffs, ev, notes, flushes: flushes?.done() ?? null };
  } finally {
    if (p?.running) await p.stop(3000);
    if (!KEEP) rmSync(d.base, { recursive: true, force: true });
  }
}

/** @param {{ records: OpRecord[], diffs: string[] }} run */
function summarizeLatency(run) {
  const lat = (/** @type {OpRecord[]} */ recs) =>
    recs
      .filter((r) => r.latency !== null)
      .map((r) => /** @type {number} */ (r.latency))
      .sort((a, b) => a - b);
  const writes = run.records.filter((r) => r.kind !== 'delete');
  const deletes = run.records.filter((r) => r.kind === 'delete');
  const w = lat(writes);
  const del = lat(deletes);
  /** @type {Record<string, { n: number, p50: number | null, max: number | null, missed: number }>} */
  const byKind = {};
  for (const k of ['new', 'new in fresh dir', 'overwrite', 'delete']) {
    const recs = run.records.filter((r) => r.kind === k);
    byKind[k] = { n: recs.length, p50: percentile(lat(recs), 50), max: percentile(lat(recs), 100), missed: recs.filter((r) => r.latency === null).length };
  }
  return {
    n: run.records.length,
    p50: percentile(w, 50),
    p99: percentile(w, 99),
    max: percentile(w, 100),
    missed: run.records.filter((r) => r.latency === null).length,
    stale: run.diffs.length,
    delP50: percentile(del, 50),
    delMax: percentile(del, 100),
    byKind,
  };
}

/** @param {Report} report */
async function scenarioLatency(report) {
  const plan = makeLatencyPlan(CFG.latencyOps);
  /** @type {Record<string, number>} */
  const counts = {};
  for (const op of plan.ops) counts[op.kind] = (counts[op.kind] ?? 0) + 1;
  log(
    `latency: ${plan.ops.length} operations every ${CFG.latencyEveryMs} ms (${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')})`,
  );
  /** @type {Record<string, LatencyResult>} */
  const res = {};
  for (const tool of TOOLS) {
    log(`latency: ${tool.label}`);
    try {
      const run = await latencyRun(tool, plan);
      res[tool.id] = { ...summarizeLatency(run), ev: run.ev };
      report.notes.push(...run.notes);
      if (run.diffs.length > 0) report.notes.push(`latency, ${tool.label}: ${run.diffs.length} paths differ 10 s after the last write, e.g. ${run.diffs.slice(0, 4).join('; ')}`);
      const missed = run.records.filter((r) => r.latency === null);
      if (missed.length > 0)
        report.notes.push(
          `latency, ${tool.label}: missed ${missed
            .map((r) => `#${r.i} ${r.kind}${r.superseded ? ' (superseded)' : ''}`)
            .slice(0, 8)
            .join(', ')}${missed.length > 8 ? ', …' : ''}`,
        );
      if (run.ev !== null) {
        const cms = [...run.ev.cycleMs].sort((a, b) => a - b);
        res[tool.id].cycles = `${run.ev.cycles} cycles that applied something (${run.ev.full} full), cycle ms p50 ${percentile(cms, 50) ?? '—'} / max ${percentile(cms, 100) ?? '—'}`;
        if (run.flushes !== null) {
          const fl = run.flushes.filter((f) => f.cmd === 'sync' || f.cmd.endsWith('/sync'));
          const fms = fl.map((f) => f.end - f.start).sort((a, b) => a - b);
          const slow = run.records.filter((r) => r.latency === null || r.latency > 20);
          const overlapping = slow.filter((r) => fl.some((f) => f.start <= r.t0 + (r.latency ?? CFG.graceMs) && f.end >= r.t0 - 5));
          res[tool.id].cycles +=
            `; ${fl.length} flushes (\`sync -f\`, persist) lasting p50 ${fmtMs(percentile(fms, 50))} / max ${fmtMs(percentile(fms, 100))}; of the ${slow.length} operations slower than 20 ms, ${overlapping.length} overlapped a flush`;
        }
        for (const o of run.ev.odd) report.notes.push(`latency, ${tool.label}: ${o}`);
      }
      const r = res[tool.id];
      log(`  p50 ${fmtMs(r.p50)} p99 ${fmtMs(r.p99)} max ${fmtMs(r.max)} missed ${r.missed} stale ${r.stale} deletes p50 ${fmtMs(r.delP50)}${r.cycles ? ` · ${r.cycles}` : ''}`);
    } catch (e) {
      res[tool.id] = /** @type {LatencyResult} */ (/** @type {unknown} */ ({ error: /** @type {Error} */ (e).message })); // a failed tool's entry holds only its error
      log(`  failed: ${/** @type {Error} */ (e).message}`);
    }
  }
  const cell = (/** @type {string} */ id, /** @type {(r: LatencyResult) => string} */ f) => (res[id].error ? 'failed' : f(res[id]));
  /** @type {Array<[string, (r: LatencyResult) => string, string, null?]>} */
  const rows = [
    ['operations', (r) => `${r.n}`, '', null],
    ['p50 (creates + overwrites)', (r) => `${fmtMs(r.p50)}${mark(r.p50 !== null && r.p50 <= TARGETS.p50)}`, `≤ ${TARGETS.p50} ms`],
    ['p99', (r) => `${fmtMs(r.p99)}${mark(r.p99 !== null && r.p99 <= TARGETS.p99)}`, `≤ ${TARGETS.p99} ms`],
    ['max', (r) => fmtMs(r.max), ''],
    ['missed ops / paths differing at +10 s', (r) => `${r.missed} / ${r.stale}${mark(r.missed === 0 && r.stale === 0)}`, '0 / 0'],
    ['deletes p50', (r) => `${fmtMs(r.delP50)}${mark(r.delP50 !== null && r.delP50 <= TARGETS.deleteP50)}`, `≤ ${TARGETS.deleteP50} ms`],
    ['deletes max', (r) => fmtMs(r.delMax), ''],
    ...['new', 'new in fresh dir', 'overwrite'].map(
      (k) =>
        /** @type {[string, (r: LatencyResult) => string, string]} */ ([
          `${k}: p50 / max (n)`,
          (/** @type {LatencyResult} */ r) => `${fmtMs(r.byKind[k].p50)} / ${fmtMs(r.byKind[k].max)} (${r.byKind[k].n})`,
          '',
        ]),
    ),
  ];
  const table = mdTable(
    ['', ...TOOLS.map((t) => t.label), 'target'],
    rows.map(([name, f, target]) => [name, ...TOOLS.map((t) => cell(t.id, f)), target]),
  );
  const extra = TOOLS.filter((t) => res[t.id].cycles).map((t) => `- ${t.label}: ${res[t.id].cycles}`);
  report.sections.push({
    title: `Latency: ${plan.ops.length} operations, one every ${CFG.latencyEveryMs} ms`,
    text: `${plan.ops.length} operations (${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}), each timed from the moment it completed in A until B held identical content (B polled every ~1 ms). Overwrites are in place: open 'r+', first half, ${CFG.partialGapMs} ms pause, second half.`,
    table,
    after: extra.length > 0 ? `tsync cycles during the run (from its NDJSON \`cycle\` events):\n\n${extra.join('\n')}` : '',
  });
  report.results.latency = res;
}

// ---------------------------------------------------------------------------------------------------
// Scenario 2: burst

/** @param {Tool} tool @param {number} rep */
async function burstRun(tool, rep) {
  const d = freshDirs(`burst-${tool.id}`);
  mkdirSync(join(d.A, 'burst'));
  const marker = startIdentical(d);
  const rnd = prng(CFG.seed + 1 + rep);
  const files = Array.from({ length: CFG.burstFiles }, (_, i) => ({ name: `f${String(i).padStart(4, '0')}`, content: randomBytes(rnd, randInt(rnd, 16, 2048)) }));
  const expected = new Map(files.map((f) => [f.name, f.content]));
  /** @type {string[]} */
  const notes = [];
  let p = null;
  try {
    p = await startReady(tool, d, marker);
    await sleep(CFG.settleMs);
    const t0 = now();
    for (const f of files) writeFileSync(join(d.A, 'burst', f.name), f.content);
    const writeMs = now() - t0;
    const verified = new Set();
    const bDir = join(d.B, 'burst');
    /** @type {number | null} */
    let tDone = null;
    while (now() - t0 < CFG.burstTimeoutMs) {
      /** @type {string[]} */
      let names = [];
      try {
        names = readdirSync(bDir);
      } catch {
        /* not there yet */
      }
      for (const name of names) {
        if (verified.has(name)) continue;
        const c = expected.get(name);
        if (c !== undefined && sameContent(join(bDir, name), c)) verified.add(name);
      }
      if (verified.size === files.length) {
        tDone = now();
        break;
      }
      await sleep(2);
    }
    const ev = tool.tsync ? tsyncEvents(p, t0, now()) : null;
    await stopTool(tool, p, notes);
    return { ms: tDone === null ? null : tDone - t0, arrived: verified.size, writeMs, ev, notes };
  } finally {
    if (p?.running) await p.stop(3000);
    if (!KEEP) rmSync(d.base, { recursive: true, force: true });
  }
}

/** @param {Report} report */
async function scenarioBurst(report) {
  /** @type {Record<string, { runs: BurstRun[], error?: string }>} */
  const res = {};
  for (const tool of TOOLS) res[tool.id] = { runs: [] };
  for (let rep = 0; rep < CFG.burstReps; rep++) {
    for (const tool of TOOLS) {
      if (res[tool.id].error) continue;
      try {
        const r = await burstRun(tool, rep);
        res[tool.id].runs.push(r);
        report.notes.push(...r.notes);
        log(
          `burst #${rep + 1}: ${tool.label}: ${r.ms === null ? `only ${r.arrived}/${CFG.burstFiles} after ${CFG.burstTimeoutMs / 1000} s` : fmtMs(r.ms)} (writes took ${fmtMs(r.writeMs)})${r.ev ? ` · ${r.ev.cycles} cycles, ms ${r.ev.cycleMs.join(', ')}` : ''}`,
        );
        if (r.ev) for (const o of r.ev.odd) report.notes.push(`burst, ${tool.label}: ${o}`);
      } catch (e) {
        res[tool.id].error = /** @type {Error} */ (e).message;
        log(`burst: ${tool.label} failed: ${/** @type {Error} */ (e).message}`);
      }
    }
  }
  const summary = (/** @type {string} */ id) => {
    const runs = res[id].runs;
    if (res[id].error && runs.length === 0) return null;
    const times = runs.map((r) => (r.ms === null ? Infinity : r.ms));
    return {
      med: median(times),
      min: Math.min(...times),
      max: Math.max(...times),
      all: runs.every((r) => r.ms !== null),
      arrived: Math.min(...runs.map((r) => r.arrived)),
      write: median(runs.map((r) => r.writeMs)),
      ev: /** @type {EventSummary[]} */ (runs.map((r) => r.ev).filter(Boolean)),
    };
  };
  const S = Object.fromEntries(TOOLS.map((t) => [t.id, summary(t.id)]));
  /** @typedef {NonNullable<ReturnType<typeof summary>>} BurstSummary */
  const cell = (/** @type {string} */ id, /** @type {(s: BurstSummary) => string} */ f) => (S[id] === null ? `failed: ${res[id].error}` : f(/** @type {BurstSummary} */ (S[id])));
  const t = (/** @type {number} */ x) => (x === Infinity ? `> ${CFG.burstTimeoutMs / 1000} s` : fmtMs(x));
  /** @type {Array<[string, (s: BurstSummary) => string, string]>} */
  const rows = [
    [
      `all ${CFG.burstFiles} in B, identical (median of ${CFG.burstReps})`,
      (s) => `${t(/** @type {number} */ (s.med))}${mark(/** @type {number} */ (s.med) <= TARGETS.burstMs)}`,
      `≤ ${TARGETS.burstMs / 1000} s`,
    ],
    ['min – max', (s) => `${t(s.min)} – ${t(s.max)}`, ''],
    ['fewest files arrived (a run that timed out)', (s) => `${s.arrived} / ${CFG.burstFiles}`, ''],
    ['writing the burst into A took (median)', (s) => fmtMs(s.write), ''],
  ];
  const table = mdTable(
    ['', ...TOOLS.map((x) => x.label), 'target'],
    rows.map(([name, f, target]) => [name, ...TOOLS.map((x) => cell(x.id, f)), target]),
  );
  const cycles = TOOLS.filter((x) => S[x.id]?.ev?.length).map((x) => `- ${x.label}: ${/** @type {BurstSummary} */ (S[x.id]).ev.map((e) => `[${e.cycleMs.join(', ')}]`).join(' ')} ms`);
  report.sections.push({
    title: `Burst: ${CFG.burstFiles} new files`,
    text: `${CFG.burstFiles} new files of 16–2048 bytes written into an existing directory of A as fast as possible; timed from the first write until every file is in B with identical content (B polled every ~2 ms). ${CFG.burstReps} runs per tool, fresh directories each time.`,
    table,
    after: cycles.length > 0 ? `tsync cycle durations per run (NDJSON \`cycle\` events, \`ms\`):\n\n${cycles.join('\n')}` : '',
  });
  report.results.burst = S;
}

// ---------------------------------------------------------------------------------------------------
// Scenario 3: startup over an already-synced tree

/** @param {string} A @param {number} files @param {number} dirs */
function buildTree(A, files, dirs) {
  const rnd = prng(CFG.seed + files);
  const pool = randomBytes(rnd, 1 << 20);
  const top = Math.max(1, Math.round(Math.sqrt(dirs / 5)));
  const sub = Math.floor((dirs - top) / top);
  /** @type {string[]} */
  const leafDirs = [];
  for (let i = 0; i < top; i++) {
    const t = `t${String(i).padStart(3, '0')}`;
    mkdirSync(join(A, t));
    leafDirs.push(t);
    for (let j = 0; j < sub && leafDirs.length < dirs; j++) {
      const s = `${t}/s${String(j).padStart(3, '0')}`;
      mkdirSync(join(A, s));
      leafDirs.push(s);
    }
  }
  while (leafDirs.length < dirs) {
    const s = `x${leafDirs.length}`;
    mkdirSync(join(A, s));
    leafDirs.push(s);
  }
  for (let i = 0; i < files; i++) {
    const dir = leafDirs[i % leafDirs.length];
    const size = randInt(rnd, 0, 2048);
    const off = randInt(rnd, 0, pool.length - size);
    writeFileSync(join(A, dir, `f${String(i).padStart(6, '0')}`), pool.subarray(off, off + size));
  }
  return leafDirs;
}

/** @param {Tool} tool @param {Dirs} d */
async function startupRun(tool, d) {
  const p = spawnTool(tool, d);
  /** @type {string[]} */
  const notes = [];
  try {
    const pred = tool.id === 'lsyncd' ? isLsyncdStartupDone : isReadyEvent;
    const line = await p.waitFor(pred, CFG.startupTimeoutMs);
    if (line === null) {
      const why = p.running ? `not ready within ${CFG.startupTimeoutMs / 1000} s` : `exited with ${p.code ?? p.signal}: ${p.stderr.trim().split('\n').slice(-2).join(' | ')}`;
      await p.stop(5000);
      return { error: why };
    }
    const mem = procMem(p.pid);
    const watches = inotifyWatches(p.pid);
    const ms = line.t - p.t0;
    const ev = tool.tsync ? p.lines.find(isReadyEvent)?.json : null;
    await stopTool(tool, p, notes);
    return { ms, hwm: mem.hwm, rss: mem.rss, watches, ownMs: ev?.ms ?? null, notes };
  } finally {
    if (p.running) await p.stop(3000);
  }
}

/** @param {Report} report */
async function scenarioStartup(report) {
  for (const size of CFG.startup) {
    const d = freshDirs(`startup-${size.label}`);
    log(`startup ${size.label}: building ${size.files} files in ${size.dirs} directories`);
    let t = now();
    rmSync(d.B, { recursive: true });
    const nDirs = buildTree(d.A, size.files, size.dirs).length;
    const buildMs = now() - t;
    t = now();
    const cp = spawnSync('cp', ['-a', d.A, d.B], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (cp.status !== 0) throw new Error(`cp -a failed: ${cp.stderr}`);
    log(`  built in ${fmtS(buildMs)}, cp -a in ${fmtS(now() - t)}`);
    /** @type {Record<string, StartupRun[]>} */
    const res = {};
    /** @type {Record<string, { ms: number, code: number | null }>} */
    const pre = {};
    for (const tool of TOOLS) {
      res[tool.id] = [];
      if (!tool.tsync) continue;
      const td = { ...d, state: join(d.base, `state-${tool.id}`) };
      mkdirSync(td.state);
      t = now();
      const r = spawnSync(NODE, tsyncArgs(tool, 'sync', td), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      pre[tool.id] = { ms: now() - t, code: r.status };
      log(`  tsync sync ${tool.oneWay ? '--one-way ' : ''}(the prior sync): ${fmtS(pre[tool.id].ms)}, exit ${r.status}`);
      if (r.status !== 0)
        report.notes.push(`startup ${size.label}: the prior \`tsync sync\` (${tool.label}) exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
    }
    await sleep(150); // past tsync's 50 ms racy-ctime window
    for (let rep = 0; rep < size.reps; rep++) {
      for (const tool of TOOLS) {
        const td = tool.tsync ? { ...d, state: join(d.base, `state-${tool.id}`) } : { ...d, base: join(d.base, `run-${tool.id}-${rep}`) };
        if (!tool.tsync) mkdirSync(td.base, { recursive: true });
        const r = await startupRun(tool, td);
        res[tool.id].push(r);
        if (r.notes) report.notes.push(...r.notes);
        log(
          `  #${rep + 1} ${tool.label}: ${r.error ?? `ready in ${fmtS(r.ms)}${r.ownMs !== null ? ` (own ready ms ${r.ownMs})` : ''}, VmHWM ${fmtMB(r.hwm)}, ${r.watches} inotify watches`}`,
        );
      }
    }
    const changed = diffTreesCheap(d.A, d.B, size.files);
    if (changed !== null) report.notes.push(`startup ${size.label}: ${changed}`);
    t = now();
    if (!KEEP) rmSync(d.base, { recursive: true, force: true });
    log(`  removed in ${fmtS(now() - t)}`);

    const target = TARGETS.startup[size.label] ?? null;
    /** @type {Record<string, StartupSummary>} */
    const S = {};
    for (const tool of TOOLS) {
      const ok = /** @type {Array<Extract<StartupRun, { ms: number }>>} */ (res[tool.id].filter((r) => !r.error));
      S[tool.id] =
        ok.length === 0
          ? /** @type {StartupSummary} */ (/** @type {unknown} */ ({ error: res[tool.id][0]?.error ?? 'no run' }))
          : {
              ms: median(ok.map((r) => r.ms)),
              msAll: ok.map((r) => r.ms),
              hwm: Math.max(.../** @type {number[]} */ (ok.map((r) => r.hwm))),
              watches: Math.max(...ok.map((r) => r.watches ?? 0)),
              ownMs: ok[0].ownMs,
            };
    }
    const cell = (/** @type {string} */ id, /** @type {(s: StartupSummary) => string} */ f) => (S[id].error ? `failed: ${S[id].error}` : f(S[id]));
    const reps = size.reps > 1 ? ` (median of ${size.reps})` : '';
    /** @type {Array<[string, ((s: StartupSummary) => string) | null, string]>} */
    const rows = [
      [`ready after spawn${reps}`, (s) => `${fmtS(s.ms)}${target ? mark(/** @type {number} */ (s.ms) <= target.ms) : ''}`, target ? `≤ ${target.ms / 1000} s` : ''],
      ...(size.reps > 1 ? /** @type {Array<[string, (s: StartupSummary) => string, string]>} */ ([['all runs', (s) => s.msAll.map(fmtS).join(', '), '']]) : []),
      ['peak RSS (VmHWM) at ready', (s) => `${fmtMB(s.hwm)}${target ? mark(s.hwm <= target.mb) : ''}`, target ? `≤ ${target.mb} MB` : ''],
      ['inotify watches', (s) => `${s.watches}`, ''],
      ['prior `tsync sync` (not part of startup)', null, ''],
    ];
    const tableRows = rows.map(([name, f, tgt]) => [
      name,
      ...TOOLS.map((tool) => {
        if (f !== null) return cell(tool.id, f);
        return pre[tool.id] ? `${fmtS(pre[tool.id].ms)}${pre[tool.id].code === 0 ? '' : ` (exit ${pre[tool.id].code})`}` : 'n/a';
      }),
      tgt,
    ]);
    report.sections.push({
      title: `Startup: ${size.files.toLocaleString('en-US')} files in ${nDirs.toLocaleString('en-US')} directories, already in sync`,
      text: `A and B identical (B made with \`cp -a\`); tsync had run \`tsync sync\` once before (its own state dir per mode). Time from spawn until ready: tsync's \`ready\` event (after its full startup cycle), the copier's chokidar \`ready\`, lsyncd's "Startup of … finished" log line (after its startup rsync). Peak RSS is the process's VmHWM read right after ready (lsyncd: the lsyncd process, not its rsync children). Inotify watches: lines starting with \`inotify\` in /proc/PID/fdinfo of its inotify descriptors. ${size.reps} run(s) per tool, interleaved, same trees.`,
      table: mdTable(['', ...TOOLS.map((x) => x.label), 'target'], tableRows),
      after: '',
    });
    report.results[`startup-${size.label}`] = S;
  }
}

// ---------------------------------------------------------------------------------------------------
// Scenario 4 (issue 11): watch start-up in a 100k tree, then the CPU and latency of single-file changes

/** Clock ticks per second for /proc/PID/stat (USER_HZ). */
function clockTicks() {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return r.status === 0 && n > 0 ? n : 100;
}

/**
 * CPU time a process has used, in ms: utime + stime, plus cutime + cstime of the children it waited for
 * (tsync's `sync -f` flushes are part of what a change costs).
 * @param {number} pid @param {number} ticks
 */
function cpuMs(pid, ticks) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after "pid (comm) ": state is [0], utime [11], stime [12], cutime [13], cstime [14]
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / ticks;
}

/**
 * The same CPU as cpuMs, split three ways: the main thread (tid = pid), the process's other threads (V8's helper
 * threads, libuv's pool, workers) and the children it waited for. Says where an idle window's CPU went.
 * @param {number} pid @param {number} ticks
 * @returns {{ main: number, threads: number, children: number }}
 */
function cpuSplitMs(pid, ticks) {
  const fieldsOf = (/** @type {string} */ file) => {
    const stat = readFileSync(file, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const own = fieldsOf(`/proc/${pid}/stat`);
  let main = 0;
  let all = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let f;
    try {
      f = fieldsOf(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / ticks;
    all += ms;
    if (tid === String(pid)) main = ms;
  }
  return { main, threads: all - main, children: ((Number(own[13]) + Number(own[14])) * 1000) / ticks };
}

/**
 * The main thread's CPU time in ms, to the nanosecond: the first field of /proc/PID/task/PID/schedstat (time on a CPU,
 * ns), where /proc/PID/stat counts whole clock ticks (10 ms). Over 20 changes ticks left the mean per change good to
 * about 0.5 ms, as wide as the gap between met and not met at aaedeaa (5.5 ms against a 5 ms target). Null where the
 * kernel keeps no schedstat (then the ticks are used).
 * @param {number} pid
 * @returns {number | null}
 */
function mainThreadCpuMs(pid) {
  try {
    const ns = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}

/** @param {{ main: number, threads: number, children: number }} a @param {{ main: number, threads: number, children: number }} b */
function splitText(a, b) {
  return `main thread ${(b.main - a.main).toFixed(0)} ms, other threads ${(b.threads - a.threads).toFixed(0)} ms (of the live ones), reaped children ${(b.children - a.children).toFixed(0)} ms`;
}

/** The cycle scenario's new files after its rewrites (cycleRun). */
const NEW_FILES = 3;

/** How long cycleRun waits at most for a watch to be quiet after ready, and what "quiet" is: this long with at most one tick of CPU. */
const SETTLE_MAX_MS = 90_000;
/**
 * Quiet long enough that V8's memory reducer is done: some seconds after a process stops allocating it runs full
 * collections of the heap, 8 s apart (about 100-200 ms of CPU each on a 100k-file watch's 160 MB heap), and with a
 * 2 s span they landed in the idle window of some runs (at a2fdc66 one-way "idle" read 6.0 ms/s and the figure per
 * change -0.5 ms) and in the changes' window of others (8.5-25 ms a change across runs of the same code).
 */
const QUIET_SPAN_MS = 10_000;

/**
 * Waits until the process has used at most one clock tick of CPU over QUIET_SPAN_MS; false if that did not happen
 * within SETTLE_MAX_MS.
 * @param {number} pid @param {number} ticks
 */
async function settleCpu(pid, ticks) {
  const deadline = now() + SETTLE_MAX_MS;
  while (now() < deadline) {
    const c0 = cpuMs(pid, ticks);
    await sleep(QUIET_SPAN_MS);
    if (cpuMs(pid, ticks) - c0 <= 1000 / ticks) return true;
  }
  return false;
}

/** @param {Tool} tool @param {Dirs} d @param {string[]} leafDirs */
async function cycleRun(tool, d, leafDirs) {
  const ticks = clockTicks();
  const { files, changes } = CFG.cycle;
  const p = spawnTool(tool, d);
  /** @type {string[]} */
  const notes = [];
  try {
    const line = await p.waitFor(isReadyEvent, CFG.startupTimeoutMs);
    if (line === null) {
      const why = p.running ? `not ready within ${CFG.startupTimeoutMs / 1000} s` : `exited with ${p.code ?? p.signal}: ${p.stderr.trim().split('\n').slice(-2).join(' | ')}`;
      return { error: why };
    }
    const readyMs = line.t - p.t0;
    const hwmMB = procMem(p.pid).hwm;
    // Let the start-up's own persist and flush finish before anything is counted: at least two cycle gaps, then until
    // the process has been quiet for a while. The flush a watch owes its prior sync (`sync -f` of a disk that has
    // just taken a 100k-file tree) is counted when its child is reaped, and landed in the idle window in some runs:
    // 8.3 ms/s of "idle" there made the one-way figure read 3.5 ms a change at 4a06209, where runs without it read
    // 13-27 ms.
    await sleep(2 * CFG.cycleGapMs);
    const settled = await settleCpu(p.pid, ticks);
    if (!settled) notes.push(`cycle, ${tool.label}: the process was not quiet within ${SETTLE_MAX_MS / 1000} s of ready; idle measured anyway`);
    // The idle rate over as long as the changes will take: whatever tsync does with nothing to do is not the cost
    // of a change. Until f1e6bbe that was mostly a persist check every second, which also ran
    // among the changes and was subtracted there too; since then a watch's persist is armed by a cycle, so an idle
    // watch reads about 0 and its persist counts with the change that armed it.
    const idleSpan = changes * CFG.cycleGapMs;
    let c0 = cpuMs(p.pid, ticks);
    let t0 = now();
    const idleSplit0 = cpuSplitMs(p.pid, ticks);
    const idleMain0 = mainThreadCpuMs(p.pid);
    await sleep(idleSpan);
    const idleMs = now() - t0;
    const idleCpuMsPerMs = (cpuMs(p.pid, ticks) - c0) / idleMs;
    const idleSplit1 = cpuSplitMs(p.pid, ticks);
    const idleMain1 = mainThreadCpuMs(p.pid);
    const mainInNs = idleMain0 !== null && idleMain1 !== null;
    const idleMainMsPerMs = (mainInNs ? idleMain1 - idleMain0 : idleSplit1.main - idleSplit0.main) / idleMs;
    notes.push(`cycle, ${tool.label}: the idle window's CPU: ${splitText(idleSplit0, idleSplit1)}`);
    // Each tool gets its own contents: the tools share the trees, so a repeat would already be in B.
    const rnd = prng(CFG.seed ^ files ^ (tool.oneWay ? 1 : 2));
    /** @type {number[]} */
    const lat = [];
    c0 = cpuMs(p.pid, ticks);
    t0 = now();
    const changeSplit0 = cpuSplitMs(p.pid, ticks);
    const changeMain0 = mainThreadCpuMs(p.pid);
    /** @type {number[]} each change's own main-thread CPU (ms): how much of the mean a few windows make */
    const perChangeMain = [];
    for (let i = 0; i < changes; i++) {
      // Files far apart in the tree, each changed once: a new, unique content of a new size.
      const k = Math.floor(((i + 0.5) * files) / changes);
      const rel = join(/** @type {string} */ (leafDirs[k % leafDirs.length]), `f${String(k).padStart(6, '0')}`);
      const content = Buffer.concat([Buffer.from(`cycle ${tool.id} ${i}\n`), randomBytes(rnd, randInt(rnd, 16, 2048))]);
      const m0 = mainInNs ? mainThreadCpuMs(p.pid) : null;
      const tw0 = now();
      writeFileSync(join(d.A, rel), content);
      const tw = now();
      let arrived = false;
      while (now() < tw0 + CFG.cycleGapMs) {
        if (sameContent(join(d.B, rel), content)) {
          arrived = true;
          break;
        }
        await sleep(1);
      }
      if (arrived) lat.push(now() - tw);
      else notes.push(`cycle, ${tool.label}: change ${i} (${rel}) not in B within ${CFG.cycleGapMs} ms`);
      await sleep(tw0 + CFG.cycleGapMs - now());
      const m1 = m0 === null ? null : mainThreadCpuMs(p.pid);
      if (m0 !== null && m1 !== null) perChangeMain.push(m1 - m0 - idleMainMsPerMs * (now() - tw0));
    }
    const spent = cpuMs(p.pid, ticks) - c0;
    const span = now() - t0;
    const changeSplit1 = cpuSplitMs(p.pid, ticks);
    const changeMain1 = mainThreadCpuMs(p.pid);
    notes.push(`cycle, ${tool.label}: the changes' CPU: ${splitText(changeSplit0, changeSplit1)}`);
    const changeMainMs = mainInNs && changeMain0 !== null && changeMain1 !== null ? changeMain1 - changeMain0 : changeSplit1.main - changeSplit0.main;
    if (perChangeMain.length > 0) {
      const sortedMain = [...perChangeMain].sort((a, b) => a - b);
      const median = percentile(sortedMain, 50) ?? 0;
      notes.push(
        `cycle, ${tool.label}: the main thread's CPU change by change (each one's ${CFG.cycleGapMs} ms window, idle subtracted; the row's figure is their mean): median ${median.toFixed(1)} ms, p90 ${(percentile(sortedMain, 90) ?? 0).toFixed(1)} ms, max ${(sortedMain[sortedMain.length - 1] ?? 0).toFixed(1)} ms; ${sortedMain.filter((x) => x > 2 * median).length} of ${sortedMain.length} above twice the median (a window that held a full collection of the heap)`,
      );
    }
    notes.push(
      `cycle, ${tool.label}: the main thread's CPU ${mainInNs ? 'from /proc/PID/task/PID/schedstat (ns)' : 'in clock ticks (no schedstat)'}: idle ${(idleMainMsPerMs * 1000).toFixed(2)} ms/s, changes ${changeMainMs.toFixed(1)} ms over ${changes}`,
    );
    const sorted = [...lat].sort((a, b) => a - b);
    // Then new files, one at a time: the first path a watch has never seen costs what its tables must do to take
    // it (a base sized exactly copied all its columns to twice their size), later ones what any change costs.
    /** @type {(number | null)[]} */
    const newLat = [];
    /** @type {number[]} */
    const newCycleMs = [];
    const rssBeforeNew = procMem(p.pid).rss;
    for (let i = 0; i < NEW_FILES; i++) {
      const rel = join(/** @type {string} */ (leafDirs[(i * 7 + 3) % leafDirs.length]), `new-${tool.id}-${i}`);
      const content = Buffer.from(`new ${tool.id} ${i}\n`);
      const tw0 = now();
      writeFileSync(join(d.A, rel), content);
      const tw = now();
      let arrived = null;
      while (now() < tw0 + CFG.cycleGapMs) {
        if (sameContent(join(d.B, rel), content)) {
          arrived = now() - tw;
          break;
        }
        await sleep(1);
      }
      newLat.push(arrived);
      if (arrived === null) notes.push(`cycle, ${tool.label}: new file ${i} (${rel}) not in B within ${CFG.cycleGapMs} ms`);
      await sleep(tw0 + CFG.cycleGapMs - now());
      // the file's copy is in B before its cycle has recorded it (what a new path costs the tables comes after):
      // tsync's own `cycle` events in this file's window say how long its cycles took
      const inWindow = p.lines.filter((l) => l.t >= tw0 && l.json !== null && l.json.type === 'cycle');
      newCycleMs.push(inWindow.reduce((sum, l) => sum + Number(l.json?.ms ?? 0), 0));
    }
    const rssAfterNew = procMem(p.pid).rss;
    await stopTool(tool, p, notes);
    return {
      files,
      readyMs,
      hwmMB,
      changes,
      arrived: lat.length,
      cpuMsPerChange: (spent - idleCpuMsPerMs * span) / changes,
      // the main thread's alone: V8's helper threads collect in bursts that land in either window (cpuPerChangeMet)
      mainCpuMsPerChange: (changeMainMs - idleMainMsPerMs * span) / changes,
      idleCpuMsPerS: idleCpuMsPerMs * 1000,
      tickMs: 1000 / ticks,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      newLatencyMs: newLat,
      newCycleMs,
      newRssGrowthMB: rssBeforeNew === null || rssAfterNew === null ? null : rssAfterNew - rssBeforeNew,
      notes,
    };
  } finally {
    if (p.running) await p.stop(3000);
  }
}

/** @param {Report} report */
async function scenarioCycle(report) {
  const { files, dirs, changes } = CFG.cycle;
  const d = freshDirs('cycle');
  log(`cycle: building ${files} files in ${dirs} directories`);
  rmSync(d.B, { recursive: true });
  const leafDirs = buildTree(d.A, files, dirs);
  const cp = spawnSync('cp', ['-a', d.A, d.B], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (cp.status !== 0) throw new Error(`cp -a failed: ${cp.stderr}`);
  /** @type {Record<string, import('./lib/targets.mjs').CycleFigures>} */
  const res = {};
  for (const tool of TOOLS.filter((t) => t.tsync)) {
    const td = { ...d, state: join(d.base, `state-${tool.id}`) };
    mkdirSync(td.state);
    const t = now();
    const pre = spawnSync(NODE, tsyncArgs(tool, 'sync', td), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    log(`  tsync sync ${tool.oneWay ? '--one-way ' : ''}(the prior sync): ${fmtS(now() - t)}, exit ${pre.status}`);
    if (pre.status !== 0) {
      res[tool.id] = { error: `the prior tsync sync exited ${pre.status}: ${(pre.stderr || pre.stdout).trim().split('\n').slice(-2).join(' | ')}` };
      continue;
    }
    await sleep(150); // past tsync's 50 ms racy-ctime window
    const r = await cycleRun(tool, td, leafDirs);
    if (r.error === undefined) {
      report.notes.push(...r.notes);
      const { notes: _notes, ...figures } = r;
      res[tool.id] = figures;
      log(
        `  ${tool.label}: ready in ${fmtS(r.readyMs)}, VmHWM ${fmtMB(r.hwmMB)}; ${r.arrived}/${changes} changes arrived, p50 ${fmtMs(r.p50)} p99 ${fmtMs(r.p99)}; ${r.cpuMsPerChange.toFixed(1)} ms CPU per change, ${r.mainCpuMsPerChange.toFixed(1)} ms on the main thread (idle ${r.idleCpuMsPerS.toFixed(1)} ms/s)`,
      );
    } else {
      res[tool.id] = { error: r.error };
      log(`  ${tool.label}: ${r.error}`);
    }
  }
  if (!KEEP) rmSync(d.base, { recursive: true, force: true });
  const T = WATCH_TARGETS;
  const tsyncTools = TOOLS.filter((t) => t.tsync);
  const cell = (/** @type {string} */ id, /** @type {(c: Extract<import('./lib/targets.mjs').CycleFigures, { readyMs: number }>) => string} */ f) => {
    const c = res[id];
    return c.error === undefined ? f(c) : `failed: ${c.error}`;
  };
  /** @type {Array<[string, (c: Extract<import('./lib/targets.mjs').CycleFigures, { readyMs: number }>) => string, string]>} */
  const rows = [
    ['ready after spawn', (c) => `${fmtS(c.readyMs)}${mark(c.readyMs <= T.readyMs)}`, `≤ ${T.readyMs / 1000} s`],
    ['peak RSS (VmHWM) at ready', (c) => `${fmtMB(c.hwmMB)}${mark(c.hwmMB !== null && c.hwmMB <= T.hwmMB)}`, `≤ ${T.hwmMB} MB`],
    [
      'CPU per single-file change (idle subtracted)',
      (c) =>
        `${c.cpuMsPerChange.toFixed(1)} ms${c.cpuMsPerChange < 0 ? ' (void: the idle window held work of its own)' : ''}, main thread ${c.mainCpuMsPerChange.toFixed(1)} ms${mark(cpuPerChangeMet(c))}`,
      `≤ ${T.cpuMsPerChange} ms`,
    ],
    ['idle CPU', (c) => `${c.idleCpuMsPerS.toFixed(1)} ms/s`, ''],
    ['changes arrived in B', (c) => `${c.arrived} / ${c.changes}${mark(c.arrived === c.changes)}`, 'all'],
    ['latency p50 / p99 of those changes', (c) => `${fmtMs(c.p50)} / ${fmtMs(c.p99)}`, ''],
    [`then ${NEW_FILES} new files, one at a time: latency of each`, (c) => c.newLatencyMs.map((ms) => (ms === null ? 'missed' : fmtMs(ms))).join(', '), ''],
    ["… and the duration of the cycles each took (tsync's `cycle` events, `ms`)", (c) => c.newCycleMs.map((ms) => `${ms} ms`).join(', '), ''],
    ['RSS growth over those new files', (c) => (c.newRssGrowthMB === null ? '—' : `${c.newRssGrowthMB.toFixed(1)} MB`), ''],
  ];
  report.sections.push({
    title: `Cycle: one changed file at a time in a ${files.toLocaleString('en-US')}-file tree (issue 11)`,
    text: `A and B identical (B made with \`cp -a\`), synced once by \`tsync sync\` beforehand. Ready and peak RSS (VmHWM) as in the startup scenario. Then ${changes} single files far apart in the tree are rewritten one at a time, ${CFG.cycleGapMs} ms apart (room for the cycle and tsync's 1 s persist with its flush); latency is from the write until B holds the content. After them, ${NEW_FILES} new files are created the same way (not in the CPU figure): the first path a watch has not seen shows what its tables pay to take one (after the copy, so in its cycle's duration rather than its latency), and VmRSS is read before and after them. CPU per change is the watch process's utime + stime (plus its waited-for children: the \`sync -f\` flushes) from /proc/PID/stat over the ${changes} changes, minus the idle rate measured over an equally long quiet period just before (which starts once the process has used at most one tick of CPU in ${QUIET_SPAN_MS / 1000} s, so neither the start-up's flush nor the full collections V8's memory reducer makes after it is in either), divided by ${changes} (a figure below zero says the idle window held such work anyway: void, never a pass). Beside it, the main thread's own figure, worked out the same way from its time on a CPU in /proc/PID/task/PID/schedstat, in nanoseconds (where the kernel has none, from /proc/PID/task/PID/stat in ticks; the notes below say which): V8's helper threads collect in bursts that land in the idle window in one run and among the changes in the next (the notes below split each window's CPU by thread), so the row is met only when both figures are; /proc/PID/stat counts in ticks of ${(1000 / clockTicks()).toFixed(0)} ms, so the whole-process mean is good to about ${(1000 / clockTicks() / changes).toFixed(1)} ms.`,
    table: mdTable(
      ['', ...tsyncTools.map((t) => t.label), 'target'],
      rows.map(([name, f, tgt]) => [name, ...tsyncTools.map((t) => cell(t.id, f)), tgt]),
    ),
    after: '',
  });
  report.results.cycle = res;
}

/**
 * Issue 11's figures from this run: the cycle scenario's, and the latency p50/p99 of the tsync columns.
 * @param {Report} report @returns {import('./lib/targets.mjs').WatchFigures}
 */
function issueFigures(report) {
  const lat = /** @type {Record<string, LatencyResult | { error: string }> | undefined} */ (report.results.latency);
  /** @type {import('./lib/targets.mjs').WatchFigures['latency']} */
  const latency = {};
  for (const id of ['tsync1', 'tsync2']) {
    const r = lat?.[id];
    if (r === undefined) continue;
    latency[id] = r.error !== undefined ? { error: r.error } : { p50: r.p50, p99: r.p99, missed: r.missed, stale: r.stale };
  }
  return { quick: QUICK, cycle: /** @type {Record<string, import('./lib/targets.mjs').CycleFigures>} */ (report.results.cycle ?? {}), latency };
}

/** After the startup runs, A and B should still hold the same number of entries (nobody changed anything). */
/** @param {string} A @param {string} B @param {number} files */
function diffTreesCheap(A, B, files) {
  const count = (/** @type {string} */ root) => {
    let n = 0;
    for (const t of readdirSync(root, { withFileTypes: true, recursive: true })) if (t.isFile()) n++;
    return n;
  };
  const a = count(A);
  const b = count(B);
  return a === files && b === files ? null : `file counts after the runs: A ${a}, B ${b} (expected ${files})`;
}

// ---------------------------------------------------------------------------------------------------
// Output

/** @param {string[]} head @param {unknown[][]} rows */
function mdTable(head, rows) {
  const esc = (/** @type {unknown} */ s) => String(s).replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function versions() {
  const v = (/** @type {string} */ cmd, /** @type {string[]} */ args, /** @type {RegExp} */ re) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    return r.status === 0 ? (out.match(re)?.[1] ?? out.split('\n')[0]).trim() : 'not available';
  };
  let chokidar = '?';
  try {
    chokidar = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'chokidar', 'package.json'), 'utf8')).version;
  } catch {
    /* ignore */
  }
  return {
    node: process.version,
    kernel: release(),
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    lsyncd: v(LSYNCD, ['--version'], /Version:\s*(\S+)/),
    rsync: v('rsync', ['--version'], /version\s+(\S+)/),
    chokidar,
    commit: gitStamp(ROOT).label,
  };
}

/** @param {Report} report @param {ReturnType<typeof versions>} _env */
function render(report, _env) {
  /** @type {string[]} */
  const out = [];
  for (const s of report.sections) {
    out.push(`### ${s.title}`, '', s.text, '', s.table, '');
    if (s.after) out.push(s.after, '');
  }
  if (report.notes.length > 0) {
    out.push('### Notes', '', ...[...new Set(report.notes)].map((n) => `- ${n}`), '');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    console.error('bench/watch: dist/ is missing; run `npm run build` (or `npm run bench:watch`)');
    process.exit(2);
  }
  const broken = verifierSelfTest();
  if (broken.length > 0) {
    console.error(`bench/watch: the replica verifier fails its self-test (bench/lib/verify-self-test.mjs):\n  ${broken.join('\n  ')}`);
    process.exit(2);
  }
  /** @type {Report} */
  const report = { sections: [], notes: [], results: {} };
  const lsyncdTool = TOOLS.find((t) => t.id === 'lsyncd');
  if (lsyncdTool) {
    const r = spawnSync(LSYNCD, ['--version'], { encoding: 'utf8' });
    const rs = spawnSync('rsync', ['--version'], { encoding: 'utf8' });
    if (r.status !== 0 || rs.status !== 0) {
      report.notes.push(`lsyncd skipped: ${r.status !== 0 ? `${LSYNCD} does not run (${r.error?.message ?? r.stderr})` : 'rsync is not installed'}`);
      TOOLS.splice(TOOLS.indexOf(lsyncdTool), 1);
    }
  }
  WORK = mkdtempSync(join(WORK_PARENT, 'tsync-watch-bench-'));
  const startedAt = new Date();
  const load0 = loadavg();
  const env = versions();
  log(`work dir ${WORK}; tools: ${TOOLS.map((t) => t.label).join(', ')}; scenarios: ${[...ONLY].join(', ')}${QUICK ? ' (quick)' : ''}; load ${load0.map((x) => x.toFixed(2)).join(' ')}`);
  const t0 = now();
  try {
    if (ONLY.has('latency')) await scenarioLatency(report);
    if (ONLY.has('burst')) await scenarioBurst(report);
    if (ONLY.has('startup')) await scenarioStartup(report);
    if (ONLY.has('cycle')) await scenarioCycle(report);
  } finally {
    for (const p of [...live]) await p.stop(3000);
    if (!KEEP) rmSync(WORK, { recursive: true, force: true });
    else log(`kept ${WORK}`);
    WORK = null;
  }
  const load1 = loadavg();
  const figures = issueFigures(report);
  if (FIGURES_JSON !== null) writeFileSync(FIGURES_JSON, JSON.stringify(figures));
  // The issue 11 rows first; a row whose scenario or tool was not in this run says "not run".
  report.sections.unshift({
    title: 'Targets (issue 11)',
    text: "Start-up and CPU per change from the cycle scenario; latency from the latency scenario, against tsync as it was when issue 11 was filed. `npm run bench` prints these rows with the rest of the issue's table.",
    table: targetsTable(watchTargetRows(figures)),
    after: '',
  });
  const body = render(report, env);
  console.log(body);
  const totalS = (now() - t0) / 1000;
  log(`done in ${totalS.toFixed(0)} s; load ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  if (RESULTS !== null) {
    const header = [
      '# tsync watch-mode benchmark results',
      '',
      `Generated by \`${QUICK ? 'BENCH_QUICK=1 ' : ''}node bench/watch.mjs\` (see bench/README.md, section "Watch mode").`,
      '',
      `- date: ${startedAt.toISOString()}; run took ${totalS.toFixed(0)} s`,
      `- node ${env.node}, Linux ${env.kernel}, ${env.cpus}`,
      `- load average (1, 5, 15 min) at start ${load0.map((x) => x.toFixed(2)).join(', ')}, at end ${load1.map((x) => x.toFixed(2)).join(', ')}`,
      `- tsync commit ${env.commit}; chokidar ${env.chokidar}; lsyncd ${env.lsyncd}; rsync ${env.rsync}`,
      `- environment: ${startupEnvText(STARTUP_ENV_REMOVED)}`,
      `- work dir under ${WORK_PARENT}`,
      '',
      'Commands:',
      '',
      ...ALL_TOOLS.filter((t) => TOOLS.includes(t)).map(
        (t) => `- ${t.label}: \`${commandOf(t)}\`${t.id === 'lsyncd' ? ' with CONF from `node bench/watch-peers/lsyncd-config.mjs A B` (nodaemon, default.rsync, delay = 0)' : ''}`,
      ),
      '- tsync prior sync (startup scenario): `node bin/tsync.js sync [--one-way] --state-dir STATE A B`',
      '',
    ].join('\n');
    writeFileSync(RESULTS, `${header}\n${body}`);
    log(`wrote ${RESULTS}`);
  }
}

main().catch((e) => {
  console.error(`bench/watch: ${e?.stack ?? e}`);
  emergencyCleanup();
  process.exit(1);
});
