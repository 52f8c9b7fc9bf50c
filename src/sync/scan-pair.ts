import { setImmediate } from 'node:timers/promises';
import { displayPath } from '../core/paths.js';
import type { RelPath, Side } from '../core/types.js';
import { dropExcluded } from '../ignore/filter-scan.js';
import { PathFilter } from '../ignore/path-filter.js';
import { type WorkerMode, workerModeFromEnv } from '../runtime/worker-mode.js';
import { vouchedXattrs } from '../core/stat-cache.js';
import { BaseTable } from '../store/base-table.js';
import { vouchFromBase, type ScanResult } from '../scan/scan.js';
import { scanInWorker, SCAN_WORKER_URL } from '../scan/scan-in-worker.js';
import { listsAhead } from '../scan/list-ahead.js';
import { type Endpoint, type ScanRequest, SHARED_THREAD_SLICE_MS } from '../endpoint/endpoint.js';
import type { OpenPair } from './pair.js';
import type { SyncSettings } from './settings.js';

/** A full scan of one side; a missing root is an empty side. The index's stat cache vouches for unchanged files. */
async function scanSide(pair: OpenPair, s: Pick<SyncSettings, 'checksum' | 'keep'>, side: Side, filter: PathFilter): Promise<ScanResult> {
  if (side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing) return { side, entries: new Map(), problems: [], leftoverTemps: [] };
  return pair.endpoints[side].scan(scanRequestOf(pair, s, side, filter));
}

/** What a scan of one side is asked with: the filter, and the index's stat cache vouching for unchanged entries. */
export function scanRequestOf(pair: Pick<OpenPair, 'base' | 'store'>, s: Pick<SyncSettings, 'checksum' | 'keep'>, side: Side, filter: PathFilter): ScanRequest {
  const base = pair.base;
  if (base instanceof BaseTable) {
    // straight from the index's columns: no record built per path asked about (base-table.ts)
    return {
      side,
      filter,
      vouch: s.checksum ? null : (path, stat) => base.vouchedHash(path, side, stat),
      vouchXattrs: (path, stat) => base.vouchedXattrs(path, side, stat),
      sharedPath: (path) => base.sharedPath(path),
      pathSlots: base,
      statCache: base,
      keep: s.keep,
      expectedEntries: base.size,
    };
  }
  const sideRecord = pair.store.sideRecordLookup(base, side);
  return {
    side,
    filter,
    vouch: vouchFromBase(base, sideRecord, s.checksum),
    vouchXattrs: (path, stat) => vouchedXattrs(stat, base.get(path), sideRecord(path)),
    keep: s.keep,
    expectedEntries: base.size,
  };
}

/** Like scanRequestOf, but the base is loaded when the vouch is first asked, not now. */
function lazyScanRequestOf(pair: OpenPair, s: Pick<SyncSettings, 'checksum' | 'keep'>, side: Side, filter: PathFilter): ScanRequest {
  let req: ScanRequest | null = null;
  const real = (): ScanRequest => {
    req ??= scanRequestOf(pair, s, side, filter);
    return req;
  };
  return {
    side,
    filter,
    vouch: s.checksum ? null : (path, stat) => real().vouch?.(path, stat) ?? null,
    vouchXattrs: (path, stat) => real().vouchXattrs?.(path, stat),
    sharedPath: (path) => real().sharedPath?.(path) ?? path,
    // read when the scan's first entry arrives (remote/remote-endpoint.ts), not when the request is sent
    get pathSlots() {
      return real().pathSlots;
    },
    keep: s.keep,
    xattrsAfterWalk: pair.indexedPaths > 0,
  };
}

/** One filter for both sides of a run: the same paths are excluded on each (path-filter.ts). */
export function filterOf(pair: OpenPair, s: Pick<SyncSettings, 'filters'>): PathFilter {
  const roots = (['left', 'right'] as const).filter((side) => pair.remote !== side && !(side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing)).map((side) => pair.root(side));
  return new PathFilter(s.filters, roots);
}

/**
 * How the pair was scanned: one side after the other on the main thread; the second side in a worker
 * thread; or in a worker whose scan was dropped (it failed, or its filter read other ignore rules than
 * the main thread's) and the side scanned again on the main thread.
 */
export type PairScanWay = 'sequential' | 'worker' | 'worker-failed' | 'rules-differed' | 'remote' | 'remote, the local root walked while connecting';

export interface PairScan {
  readonly left: ScanResult;
  readonly right: ScanResult;
  readonly way: PairScanWay;
  /** Why a worker's scan was dropped (for TSYNC_TIMINGS and tests). */
  readonly reason?: string;
  /** A pair with a remote side: the filter holding both sides' rules that judged the scans (a watch's rescans go on with it). */
  readonly judgedBy?: PathFilter;
}

/**
 * When a worker pays. What it saves is the main thread's walk of the second side, and that walk is the
 * cheap one: it runs on code the first side's walk already made hot, while the worker starts a fresh
 * isolate (100-300 ms to be ready) and walks cold. Measured on the 2-core machine this was built on
 * (CPU time, as the machine was shared and busy, so rough): per 10k-entry side a warm walk costs the main
 * thread 120-200 ms, a cold one 350-430 ms, the worker (start-up and cold walk) 490-660 ms, and decoding
 * its columns 30-40 ms (300-400 ms per 100k). So at 10k entries the worker only just keeps up with the
 * main thread's index load and first walk, and saves about what decoding and start-up cost (a quiet
 * run, before the worker stopped reading xattrs: 973 ms against 748 sequential); from a few tens of
 * thousands on it saves the second walk almost whole, given a free core: with the machine's load at 3-4
 * (no core free), a 100k-entry no-op still scanned in 4.9-5.4 s with the worker and 4.5-4.6 s without,
 * so this threshold is an estimate to check on a quiet machine. The index's path count stands in for the
 * entries per side (a first sync has no index, but its copying dwarfs the scan anyway). Where the native addon
 * reads listings ahead (scan/list-ahead.ts), `auto` uses no worker at all (workerPays).
 */
export const WORKER_MIN_BASE = 20_000;

export interface PairScanOptions {
  /** Default: TSYNC_SCAN_WORKER; `auto` uses a worker when the pair is big enough to pay for it. */
  readonly mode?: WorkerMode;
  /** The worker module (tests running from src/ point this at the built one). */
  readonly workerUrl?: URL;
  /** `auto` uses a worker from this many indexed paths on (default WORKER_MIN_BASE; tests use small trees). */
  readonly workerMinBase?: number;
  /** A remote pair: its local root, walked while ssh connected (run-loop.ts), under the same settings. */
  /** A remote pair's local walk, started while ssh connected (sync/pair.ts); null if it failed (then it is walked here). */
  readonly earlyLocal?: Promise<ScanResult | null>;
}

/**
 * Scans both sides with `filter`. On a big enough pair the right side is walked in a worker thread while
 * the main thread walks the left one, so the two scans share the machine's cores. The worker's scan is
 * used only if it is as good as one of our own: otherwise the right side is scanned again here, and a
 * real error (an unreadable root) surfaces from that scan exactly as from a sequential one.
 */
export async function scanBothSides(pair: OpenPair, s: Pick<SyncSettings, 'checksum' | 'filters' | 'keep'>, filter: PathFilter, o: PairScanOptions = {}): Promise<PairScan> {
  if (pair.remote !== null) return scanWithRemote(pair, pair.remote, s, filter, o.earlyLocal);
  const mode = o.mode ?? workerModeFromEnv('TSYNC_SCAN_WORKER');
  if (!workerPays(pair, mode, o.workerMinBase ?? WORKER_MIN_BASE)) {
    const left = await scanSide(pair, s, 'left', filter);
    return { left, right: await scanSide(pair, s, 'right', filter), way: 'sequential' };
  }
  // the index's path count sizes the worker's table (growing-scan-table.ts initialCapacity): taken when the index was opened, without loading the base
  const job = { root: pair.root('right'), side: 'right' as const, rules: s.filters, filterRoots: [pair.roots.left, pair.roots.right], keep: s.keep, expectedEntries: pair.indexedPaths };
  // started before anything reads pair.base: the index loads while the worker walks
  const running = scanInWorker(job, () => scanRequestOf(pair, s, 'right', filter), o.workerUrl ?? SCAN_WORKER_URL);
  let left: ScanResult;
  try {
    left = await scanSide(pair, s, 'left', filter);
  } catch (e) {
    running.cancel();
    throw e;
  }
  const got = await running.outcome;
  if (!got.ok) return { left, right: await scanSide(pair, s, 'right', filter), way: 'worker-failed', reason: got.reason };
  // Both sides must be judged by the same ignore rules, or a path hidden on one side only could be deleted
  // on the other: an ignore file that changed between the two filters' reads voids the worker's scan.
  // The main filter also reads what only the worker's did, so that it holds the rules the right side was
  // judged by: watch mode's later rescans go on with it.
  filter.readRules([...got.rulesRead.keys()].filter((dir) => !filter.rulesRead().has(dir)));
  const differs = firstDisagreement(filter.rulesRead(), got.rulesRead);
  if (differs !== null)
    return {
      left,
      right: await scanSide(pair, s, 'right', filter),
      way: 'rules-differed',
      reason: `the ignore rules of ${differs === '' ? 'the root' : displayPath(differs as RelPath)} changed during the scan`,
    };
  return { left, right: got.scan, way: 'worker' };
}

/**
 * A pair with a remote side: the agent scans its root on its machine while this one scans the local root.
 * Neither can read the other's ignore files while it walks, so both walk without applying them (reading
 * their own), and one filter holding both sides' rules drops what either side's files exclude, from both
 * scans (ignore/filter-scan.ts): a path is never seen on one side and hidden on the other. The local root
 * may have been walked already, while ssh connected (`early`, sync/pair.ts): then only the far side is.
 */
async function scanWithRemote(pair: OpenPair, remote: Side, s: Pick<SyncSettings, 'checksum' | 'keep'>, filter: PathFilter, earlyWalk?: Promise<ScanResult | null>): Promise<PairScan> {
  const local: Side = remote === 'left' ? 'right' : 'left';
  const localRoots = isMissing(pair, local) ? [] : [pair.root(local)];
  // sent first, before the base is loaded (the vouch needs it only once the entries are back): the far side walks while this one loads and walks
  const remoteScan = isMissing(pair, remote) ? scanSide(pair, s, remote, filter) : pair.endpoints[remote].scan(lazyScanRequestOf(pair, s, remote, filter));
  // the session writes its queued frames in the next turn (rpc-peer.ts), and the local walk holds the thread
  // until it is done: without this turn the request would leave only after the local walk, and the far walk
  // would start then instead of beside it (measured: 3-4 s of a 100k-entry no-op spent waiting)
  await setImmediate();
  const early = (await earlyWalk) ?? undefined;
  const localScan = early ?? (await scanLocalBesideRemote(pair, { ...s, filters: filter.rules }, local, pair.endpoints[local]));
  const farScan = await remoteScan;
  const both = new PathFilter(filter.rules, localRoots, { texts: farScan.rulesRead ?? new Map() });
  for (const scan of [localScan, farScan]) dropExcluded(scan.entries, scan.problems, both);
  both.closeDirs();
  const way: PairScanWay = early === undefined ? 'remote' : 'remote, the local root walked while connecting';
  return remote === 'right' ? { left: localScan, right: farScan, way, judgedBy: both } : { left: farScan, right: localScan, way, judgedBy: both };
}

/** What the walk of a remote pair's local root needs of the pair: it also runs before the far side has answered (pair.ts). */
export type LocalSideOfRemotePair = Pick<OpenPair, 'base' | 'store' | 'roots' | 'root'>;

/**
 * The local root of a remote pair, walked with the rules but without ignore files (scanWithRemote applies
 * both sides' afterwards), the index's stat cache vouching for unchanged files. A missing root is empty.
 */
export async function scanLocalBesideRemote(pair: LocalSideOfRemotePair, s: Pick<SyncSettings, 'checksum' | 'keep' | 'filters'>, local: Side, endpoint: Endpoint): Promise<ScanResult> {
  if (isMissing(pair, local)) return { side: local, entries: new Map(), problems: [], leftoverTemps: [] };
  const collecting = new PathFilter(s.filters, [pair.root(local)], { applyIgnoreFiles: false });
  return endpoint.scan({ ...scanRequestOf(pair, s, local, collecting), sliceMs: SHARED_THREAD_SLICE_MS });
}

function isMissing(pair: Pick<OpenPair, 'roots'>, side: Side): boolean {
  return side === 'left' ? pair.roots.leftMissing : pair.roots.rightMissing;
}

function workerPays(pair: OpenPair, mode: WorkerMode, minBase: number): boolean {
  // the worker walks a local root; a remote side scans on its own machine
  if (!pair.endpoints.left.isLocal || !pair.endpoints.right.isLocal) return false;
  if (mode === 'never' || pair.roots.leftMissing || pair.roots.rightMissing) return false;
  if (mode === 'always') return true;
  // Where the addon reads listings ahead on a thread of its own (scan/list-ahead.ts), the walk uses the second core
  // already, without the worker's start-up, its own JIT warm-up and the decoding of its columns: on a 100k no-op
  // one-way, 806 ms sequential with the reader against 949 ms with the worker in one hour (hyperfine, 12 runs each),
  // 905 against 889 ms in another (ten alternating runs), and 97 MiB of peak RSS against 104 MiB each time.
  if (listsAhead()) return false;
  // the count taken when the index was opened: pair.base would load the whole base before the worker starts
  return pair.indexedPaths >= minBase;
}

/** A directory the worker's filter read other ignore rules for than the main one (which has read them all); null when none. */
function firstDisagreement(main: ReadonlyMap<string, string>, worker: ReadonlyMap<string, string>): string | null {
  for (const [dir, text] of worker) if (main.get(dir) !== text) return dir;
  return null;
}
