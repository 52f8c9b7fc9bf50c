// Building blocks of the crash trials: seeded randomness, file writers whose every version is unique
// (a torn mix of two versions hashes to neither), the initial tree (small files in a few directories and
// three big ones), content-hashed snapshots (memoised by inode identity, so re-snapshotting a 200 MiB tree
// is cheap when little changed), and a child process running the built CLI that can be SIGKILLed.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, watch, writeFileSync, writeSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = join(projectRoot, 'bin', 'tsync.js');
export const MIB = 1024 * 1024;

// ---- seeded randomness ------------------------------------------------------------------------------

export interface Rng {
  (): number;
  int(min: number, max: number): number;
  pick<T>(xs: readonly T[]): T;
  shuffle<T>(xs: readonly T[]): T[];
  chance(p: number): boolean;
}

/** mulberry32: small, fast, good enough to pick files and delays reproducibly from a printed seed. */
export function rngFrom(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = next as Rng;
  r.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  r.pick = (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number];
  r.shuffle = (xs) => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]];
    }
    return out;
  };
  r.chance = (p) => next() < p;
  return r;
}

// ---- content ----------------------------------------------------------------------------------------

let versionCounter = 0;

/** A small file whose bytes are unique to this write (a version tag) plus filler. */
export function writeSmall(abs: string, rng: Rng, tag: string, mtimeSec?: number): void {
  const size = rng.int(100, 8192);
  const head = `${tag} v${++versionCounter}\n`;
  const filler = Buffer.alloc(Math.max(0, size - head.length), head.charCodeAt(rng.int(0, head.length - 1)));
  writeFileSync(abs, Buffer.concat([Buffer.from(head), filler]));
  if (mtimeSec !== undefined) utimesSync(abs, mtimeSec, mtimeSec);
}

/**
 * A big file in which every MiB differs (one random MiB, each copy stamped with the version and its
 * index), so a file that holds a prefix of one version and the rest of another hashes to neither.
 */
export function writeBig(abs: string, mib: number, mtimeSec?: number): void {
  const block = randomBytes(MIB);
  const version = ++versionCounter;
  const fd = openSync(abs, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(version, 0);
      block.writeUInt32LE(i, 4);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
  if (mtimeSec !== undefined) utimesSync(abs, mtimeSec, mtimeSec);
}

// ---- snapshots --------------------------------------------------------------------------------------

export interface Item {
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  readonly mode: number;
  /** sha1 of a file's bytes; a symlink's target; null for a directory. */
  readonly sha: string | null;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
}

export type Snap = Map<string, Item>;

const shaMemo = new Map<string, string>();

function shaOf(abs: string, id: string, ctimeNs: bigint): string {
  const hit = shaMemo.get(id);
  if (hit !== undefined) return hit;
  const sha = createHash('sha1').update(readFileSync(abs)).digest('hex');
  // Racily clean (git's term): a write in the same coarse clock tick as this ctime would not move it.
  const racy = ctimeNs > BigInt(Date.now() - 200) * 1_000_000n;
  if (!racy) shaMemo.set(id, sha);
  return sha;
}

/** Walks `root` (no symlinks followed). `.tsync…` names are left out unless `withOwn`. */
export function snap(root: string, withOwn = false): Snap {
  const out: Snap = new Map();
  if (!existsSync(root)) return out;
  const walk = (absDir: string, prefix: string): void => {
    for (const name of readdirSync(absDir)) {
      if (!withOwn && name.startsWith('.tsync')) continue;
      const abs = join(absDir, name);
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const st = lstatSync(abs, { bigint: true });
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      // ctime moves on every write and cannot be set: with dev/ino/size/mtime it vouches for the bytes.
      const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const sha = kind === 'file' ? shaOf(abs, id, st.ctimeNs) : kind === 'symlink' ? readlinkSync(abs) : null;
      out.set(rel, { kind, mode: Number(st.mode & 0o7777n), sha, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino });
      if (kind === 'dir') walk(abs, rel);
    }
  };
  walk(root, '');
  return out;
}

/**
 * Every path below `root` (tsync's own names and the root itself included) with what a write to it
 * would move: inode, size, mode, mtime, ctime. Any create, delete, rename, write or chmod in the tree
 * changes a file's or its directory's entry. A missing root has no entries. Reads move none of these.
 */
export function footprint(root: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(root)) return out;
  const walk = (abs: string, rel: string): void => {
    const st = lstatSync(abs, { bigint: true });
    out.set(rel, `${st.ino}:${st.size}:${st.mode}:${st.mtimeNs}:${st.ctimeNs}`);
    if (st.isDirectory()) for (const name of readdirSync(abs)) walk(join(abs, name), rel === '' ? name : `${rel}/${name}`);
  };
  walk(root, '');
  return out;
}

/** True when anything in the tree moved between two footprints: the run had written to it. */
export function footprintMoved(before: Map<string, string>, after: Map<string, string>): boolean {
  if (before.size !== after.size) return true;
  for (const [p, f] of before) if (after.get(p) !== f) return true;
  return false;
}

/** tsync names that must not outlive a clean run (temp files); the trash under `.tsync/trash` and the folder's marks are kept on purpose. */
export function ownNamesIn(root: string): string[] {
  return [...snap(root, true).keys()].filter((p) => p !== '.tsync' && !OWN_FOLDER_MARKS.has(p) && !p.startsWith('.tsync/trash') && p.split('/').some((n) => n.startsWith('.tsync')));
}

/** The marks that keep git, tar and backup tools out of `.tsync` (src/engine/own-folder.ts): meant to stay. */
const OWN_FOLDER_MARKS = new Set(['.tsync/.gitignore', '.tsync/CACHEDIR.TAG']);

/** What a root's trash keeps, by the path each version had: `<root>/.tsync/trash/<stamp>/<path>[.~n~]`. */
export function trashIn(root: string): Map<string, Item[]> {
  const out = new Map<string, Item[]>();
  const dir = join(root, '.tsync', 'trash');
  if (!existsSync(dir)) return out;
  for (const [rel, item] of snap(dir, true)) {
    const slash = rel.indexOf('/');
    if (slash < 0 || item.kind === 'dir') continue;
    const path = rel.slice(slash + 1).replace(/\.~\d+~$/, '');
    out.set(path, [...(out.get(path) ?? []), item]);
  }
  return out;
}

/** Same kind and bytes (or link target); for files and dirs also the same mode. */
export function sameItem(a: Item | undefined, b: Item | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.kind === b.kind && a.sha === b.sha && (a.kind === 'symlink' || a.mode === b.mode);
}

export function sameContent(a: Item | undefined, b: Item | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.kind === b.kind && a.sha === b.sha;
}

export function show(i: Item | undefined): string {
  if (i === undefined) return 'absent';
  if (i.kind === 'dir') return `dir 0${i.mode.toString(8)}`;
  if (i.kind === 'symlink') return `symlink -> ${i.sha}`;
  return `${i.kind} ${i.size} B sha1 ${i.sha?.slice(0, 10)} mode 0${i.mode.toString(8)} mtime ${i.mtimeNs}`;
}

const CONFLICT_RE = /^(.+?)\.tsync-conflict-\d{8}-\d{6}-(?:left|right)(?:-\d+)?(.*)$/;

/** For a conflict copy `dir/stem.tsync-conflict-…-side[-n]ext`: the path it is a copy of (`dir/stem.ext`). */
export function conflictOrigin(p: string): string | null {
  const slash = p.lastIndexOf('/');
  const m = CONFLICT_RE.exec(p.slice(slash + 1));
  if (m === null) return null;
  return `${p.slice(0, slash + 1)}${m[1]}${m[2]}`;
}

export function isAtOrBelow(p: string, a: string): boolean {
  return p === a || (p.startsWith(a) && p[a.length] === '/');
}

// ---- the CLI, killed -------------------------------------------------------------------------------

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the SIGKILL landed (the process was still running), or the kill plan's strike killed something. */
  readonly killed: boolean;
  readonly ms: number;
  /** Ms after the spawn of the first change inotify reported in the kill plan's `watchDirs` (null: none seen). */
  readonly firstWriteMs: number | null;
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TSYNC_STATE_DIR;
  delete env.XDG_STATE_HOME;
  return env;
}

export interface KillPlan {
  readonly afterMs: number;
  /**
   * `spawn`: count from the spawn. `write`: count from the run's first change to the trees (the first
   * inotify event in any of `watchDirs`), so that the kill lands among the writes, not in the scan.
   */
  readonly from: 'spawn' | 'write';
  /** Watched for the run's first write (the trigger of a `write` plan; reported for either kind). */
  readonly watchDirs: readonly string[];
  /**
   * What to kill at that moment instead of the CLI itself (a remote trial kills its ssh client or the far
   * side's agent), given the CLI's pid; returns whether it killed anything. The run then ends by itself.
   */
  readonly strike?: (cliPid: number) => boolean;
}

/** Runs `tsync args…`; with a kill plan, SIGKILLs it (by its pid) at that moment; `env` adds to its environment. */
export function runTsync(args: readonly string[], killPlan?: KillPlan, timeoutMs = 300_000, env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const watchers: FSWatcher[] = [];
    let killTimer: NodeJS.Timeout | null = null;
    let firstWriteMs: number | null = null;
    const armKill = (): void => {
      if (killTimer === null && killPlan !== undefined) killTimer = setTimeout(strike, killPlan.afterMs);
    };
    const sawWrite = (): void => {
      firstWriteMs ??= Date.now() - started;
      if (killPlan?.from === 'write') armKill();
    };
    for (const d of killPlan?.watchDirs ?? []) {
      try {
        watchers.push(watch(d, { persistent: false }, sawWrite));
      } catch {
        // a directory that vanished meanwhile: the others will see the run's writes
      }
    }
    const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, env: { ...childEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    let killed = false;
    let struck = false;
    function kill(): void {
      if (!exited) killed = child.kill('SIGKILL');
    }
    function strike(): void {
      if (exited) return;
      if (killPlan?.strike === undefined || child.pid === undefined) kill();
      else struck = killPlan.strike(child.pid);
    }
    if (killPlan?.from === 'spawn') armKill();
    const guard = setTimeout(kill, timeoutMs);
    child.on('error', reject);
    child.on('exit', () => {
      exited = true;
    });
    child.on('close', (code, signal) => {
      if (killTimer !== null) clearTimeout(killTimer);
      clearTimeout(guard);
      for (const w of watchers) w.close();
      resolve({ code, signal, stdout, stderr, killed: (killed && signal === 'SIGKILL') || struck, ms: Date.now() - started, firstWriteMs });
    });
  });
}

// ---- building and editing trees -------------------------------------------------------------------

/** How big a crash trial's tree is: the CI budget uses a small one so that 100+ trials fit in minutes. */
export interface TreeScale {
  readonly dirs: number;
  readonly filesPerDir: number;
  /** Sizes of big/b1..b3 in MiB (each over the 1 MiB small-file limit, so they take the streamed path). */
  readonly bigMiB: readonly [number, number, number];
  /** Range (MiB) of a big file's size when an edit rewrites it. */
  readonly editBigMiB: readonly [number, number];
}

/** `npm run test:faults`: 300 small files, 4-10 MiB big ones. */
export const CI_SCALE: TreeScale = { dirs: 10, filesPerDir: 30, bigMiB: [4, 6, 10], editBigMiB: [3, 12] };
/** TSYNC_FAULTS_BUDGET=long: 3,000 small files, 20-50 MiB big ones. */
export const LONG_SCALE: TreeScale = { dirs: 30, filesPerDir: 100, bigMiB: [20, 30, 50], editBigMiB: [20, 50] };

/** `scale.dirs` directories of small files, and big/b1..b3. */
export function buildTree(root: string, rng: Rng, scale: TreeScale): void {
  mkdirSync(root, { recursive: true });
  for (let d = 0; d < scale.dirs; d++) {
    const dir = join(root, `s${String(d).padStart(2, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < scale.filesPerDir; f++) writeSmall(join(dir, `f${String(f).padStart(3, '0')}.txt`), rng, `init ${d}/${f}`, 1_600_000_000 + rng.int(0, 10_000_000));
  }
  mkdirSync(join(root, 'big'));
  for (const [i, mib] of scale.bigMiB.entries()) writeBig(join(root, 'big', `b${i + 1}.bin`), mib, 1_600_000_000);
}

/** Removes a path (rm -rf). */
export function remove(abs: string): void {
  rmSync(abs, { recursive: true, force: true });
}

// ---- injected faults ---------------------------------------------------------------------------------

/** The test-only fault layer (fault-layer.mjs), for `node --import`. */
export const FAULT_LAYER = pathToFileURL(join(projectRoot, 'test', 'faults', 'fault-layer.mjs')).href;

/**
 * Calls the fault layer can fail, the errors each could really return, and the latest call of its kind
 * a fault may wait for: about as many as a trial's run makes (a fault drawn beyond that never fires, and
 * the trial is drawn again). The trees hold no symlinks, so symlink() is not drawn.
 */
const FAULTS: Readonly<Record<string, { readonly errors: readonly string[]; readonly maxNth: number }>> = {
  'open-read': { errors: ['EACCES', 'EIO', 'EMFILE'], maxNth: 300 },
  'open-write': { errors: ['EACCES', 'ENOSPC', 'EMFILE', 'EROFS'], maxNth: 40 },
  read: { errors: ['EIO'], maxNth: 300 },
  write: { errors: ['ENOSPC', 'EIO', 'EDQUOT'], maxNth: 100 },
  rename: { errors: ['EXDEV', 'EIO', 'EACCES', 'ENOSPC'], maxNth: 40 },
  unlink: { errors: ['EIO', 'EACCES', 'EBUSY'], maxNth: 3 },
  rmdir: { errors: ['ENOTEMPTY', 'EBUSY', 'EIO'], maxNth: 2 },
  mkdir: { errors: ['EACCES', 'ENOSPC'], maxNth: 4 },
  fchmod: { errors: ['EPERM', 'EIO'], maxNth: 40 },
  futimes: { errors: ['EPERM', 'EIO'], maxNth: 40 },
  readdir: { errors: ['EIO', 'EACCES'], maxNth: 12 },
  lstat: { errors: ['EIO', 'EACCES'], maxNth: 400 },
  link: { errors: ['ENOSPC', 'EMLINK', 'EIO'], maxNth: 30 },
};
export interface FaultPlan {
  readonly label: string;
  readonly env: Record<string, string>;
  /** What the layer reported, once the run is over: whether it was loaded, and how many faults landed. */
  readonly report: () => FaultReport;
}

export interface FaultReport {
  /** The layer was loaded into the run (it says so when it starts). */
  readonly loaded: boolean;
  /** Index of the rule of each fault that fired, in order. */
  readonly fired: readonly number[];
  /** The thread each of those fired in (worker_threads threadId; 0: the main thread), in the same order. */
  readonly threads: readonly number[];
}

/** Reads the log fault-layer.mjs writes to $TSYNC_FAULT_LOG. */
export function readFaultLog(logFile: string): FaultReport {
  const lines = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { loaded?: number; rule?: number; thread?: number })
    : [];
  const faults = lines.filter((l) => typeof l.rule === 'number');
  return { loaded: lines.some((l) => typeof l.loaded === 'number'), fired: faults.map((l) => l.rule ?? -1), threads: faults.map((l) => l.thread ?? -1) };
}

/**
 * One to three random errno faults on calls inside the trees (never the state dir), at random moments. Half the
 * runs walk the second root in the scan worker thread, and half share their small copies of new files with the copy
 * worker thread (TSYNC_SCAN_WORKER / TSYNC_COPY_WORKER=always: the trials' trees are below the sizes from which
 * `auto` starts them), so that faults land in the workers too (the layer counts across threads).
 */
export function randomFaults(rng: Rng, roots: readonly string[], logFile: string): FaultPlan {
  const rules = Array.from({ length: rng.int(1, 3) }, () => {
    const op = rng.pick(Object.keys(FAULTS));
    const fault = FAULTS[op] ?? { errors: ['EIO'], maxNth: 1 };
    return { op, path: `${rng.pick(roots)}/`, nth: rng.int(1, fault.maxNth), times: rng.pick([1, 1, 1, 3, 1000]), error: rng.pick(fault.errors) };
  });
  const scanWorker = rng.pick(['auto', 'always'] as const);
  const copyWorker = rng.pick(['auto', 'always'] as const);
  const faults = rules.map((r) => `${r.op} #${r.nth}${r.times > 1 ? `(x${r.times})` : ''} ${r.error} in ${r.path.endsWith('/A/') ? 'A' : 'B'}`).join(', ');
  const workers = [scanWorker === 'always' ? 'the scan worker' : null, copyWorker === 'always' ? 'the copy worker' : null].filter((w) => w !== null);
  return {
    label: workers.length === 0 ? faults : `${faults}, ${workers.join(' and ')} on`,
    env: { NODE_OPTIONS: `--import=${FAULT_LAYER}`, TSYNC_FAULT_PLAN: JSON.stringify(rules), TSYNC_FAULT_LOG: logFile, TSYNC_SCAN_WORKER: scanWorker, TSYNC_COPY_WORKER: copyWorker },
    report: () => readFaultLog(logFile),
  };
}
