// The entry of a scan worker thread (started by scan-in-worker.ts): walks one side and posts it back.
import { parentPort, workerData } from 'node:worker_threads';
import { PathFilter } from '../ignore/path-filter.js';
import { encodeScan } from './scan-codec.js';
import { noListAheadInThisThread } from './list-ahead.js';
import { walkTree } from './scan.js';
import type { ScanJob, ScanReply } from './worker-protocol.js';

function post(reply: ScanReply, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(reply, transfer);
}

// the addon's reader is the main thread's, which walks the other side meanwhile (list-ahead.ts)
noListAheadInThisThread();
const job = workerData as ScanJob;
try {
  // A filter of its own, from the same rules and roots; the main thread compares what both read.
  const filter = new PathFilter(job.rules, job.filterRoots);
  // No hash vouching here: the index lives in the main thread, which vouches when it decodes.
  const scan = walkTree({ root: job.root, side: job.side, filter, vouch: null, keep: job.keep, keyed: false, expectedEntries: job.expectedEntries });
  const { encoded, transfer } = encodeScan(scan);
  post({ ok: true, scan: encoded, rulesRead: [...filter.rulesRead()] }, transfer);
} catch (e) {
  // The main thread scans this side again itself, so a real error (an unreadable root) surfaces there as usual.
  post({ ok: false, message: e instanceof Error ? e.message : String(e) });
}
