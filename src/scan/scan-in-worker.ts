import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { decodeScan } from './scan-codec.js';
import type { ScanResult, SharedPath, VouchHash } from './scan.js';
import type { ScanJob, ScanReply } from './worker-protocol.js';
import type { PathSlots } from './scan-table.js';
import { LateXattrs } from './late-xattrs.js';
import type { VouchXattrs } from './read-meta.js';
import type { StatCacheColumns } from '../core/stat-words.js';

/** The worker module next to this one (both built into dist/scan/). */
export const SCAN_WORKER_URL = new URL('./scan-worker.js', import.meta.url);

/**
 * node:worker_threads, loaded when a worker is first started: a small tree is scanned on the main thread
 * (WORKER_MIN_BASE), and loading the module costs every short command some start-up time (issue 11).
 */
function workerThreads(): typeof import('node:worker_threads') {
  return createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
}

export type WorkerScanOutcome =
  | { readonly ok: true; readonly scan: ScanResult; readonly rulesRead: ReadonlyMap<string, string> }
  /** The worker did not start, crashed, failed, or sent what could not be decoded: the caller scans itself. */
  | { readonly ok: false; readonly reason: string };

export interface RunningWorkerScan {
  /** Never rejects: every failure is an outcome. */
  readonly outcome: Promise<WorkerScanOutcome>;
  /** Stops the worker (the caller no longer wants its scan). */
  readonly cancel: () => void;
}

/**
 * The worker's young generation, in MB. Its walk keeps every entry until the end and drops each lstat's
 * result at once, so a large young generation buys it nothing but RSS, and its RSS adds to the main
 * thread's while both scan (issue 11: that overlap was the no-op's peak).
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/** How the main thread vouches for the worker's entries from the index (scan.ts VouchHash, read-meta.ts VouchXattrs). */
export interface WorkerVouching {
  readonly vouch: VouchHash | null;
  readonly vouchXattrs?: VouchXattrs;
  readonly sharedPath?: SharedPath;
  readonly pathSlots?: PathSlots;
  /** The index's stat cache read from its columns, answering as `vouch` and `vouchXattrs` do (core/stat-words.ts). */
  readonly statCache?: StatCacheColumns;
}

/**
 * Starts scanning one side in a worker thread, so the main thread can scan the other side meanwhile.
 * `vouching` is asked for once the worker's scan arrives, and applied here on the main thread while
 * decoding: so the index can load while the worker walks (sync/pair.ts loads it on first use). When the
 * job keeps xattrs the worker reads none: the main thread vouches for them too and reads only those the
 * index cannot vouch for (late-xattrs.ts).
 */
export function scanInWorker(job: ScanJob, vouching: () => WorkerVouching, workerUrl: URL = SCAN_WORKER_URL): RunningWorkerScan {
  let worker: Worker;
  const workerJob: ScanJob = job.keep === undefined ? job : { ...job, keep: { ...job.keep, xattrs: false } };
  try {
    worker = new (workerThreads().Worker)(workerUrl, { workerData: workerJob, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  } catch (e) {
    return { outcome: Promise.resolve({ ok: false, reason: `cannot start the scan worker: ${messageOf(e)}` }), cancel: () => undefined };
  }
  const outcome = new Promise<WorkerScanOutcome>((resolve) => {
    let settled = false;
    const settle = (o: WorkerScanOutcome): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      resolve(o);
    };
    worker.once('message', (reply: ScanReply) => {
      // The reply is here whole: the worker's heap (its scan as objects) is torn down while this one decodes,
      // not after, so that both are never held at once (issue 11: peak RSS). Its exit then finds us settled.
      void worker.terminate();
      if (!reply.ok) return settle({ ok: false, reason: `the scan worker failed: ${reply.message}` });
      let lateXattrs: LateXattrs | null = null;
      try {
        const { vouch, vouchXattrs = noVouch, sharedPath, pathSlots, statCache } = vouching();
        if (job.keep?.xattrs === true) lateXattrs = new LateXattrs(job.root, vouchXattrs);
        const late = lateXattrs;
        const scan = decodeScan(reply.scan, vouch, late === null ? null : (path, stat) => late.digestOf(path, stat), sharedPath, pathSlots, statCache);
        settle({ ok: true, scan, rulesRead: new Map(reply.rulesRead) });
      } catch (e) {
        settle({ ok: false, reason: `cannot decode the worker's scan: ${messageOf(e)}` });
      } finally {
        lateXattrs?.close();
      }
    });
    worker.once('error', (e) => settle({ ok: false, reason: `the scan worker crashed: ${messageOf(e)}` }));
    worker.once('messageerror', (e) => settle({ ok: false, reason: `the scan worker's message did not arrive: ${messageOf(e)}` }));
    worker.once('exit', (code) => settle({ ok: false, reason: `the scan worker exited (${code}) without a scan` }));
  });
  return { outcome, cancel: () => void worker.terminate() };
}

const noVouch: VouchXattrs = () => undefined;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
