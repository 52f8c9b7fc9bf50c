// The entry of a copy worker thread (started by copy-in-worker.ts): copies small fresh files between two local
// roots with the very code the main thread copies them with (local-copy.ts), through a run of its own on each root.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { Side } from '../core/types.js';
import { setTempThread } from '../fs/temp-name.js';
import { loadHasher } from '../hash/xxhash.js';
import { ScannedXattrValues } from '../scan/xattr-values.js';
import { errorToFields } from './error-fields.js';
import type { CopyJob, CopyJobResult, CopyWorkerReply, CopyWorkerRequest, CopyWorkerSetup } from './copy-worker-protocol.js';
import { MetaWriter } from './apply-meta.js';
import { DirAnchors } from './dir-anchors.js';
import { AncestorGuard } from './guards.js';
import { copyLocally, type LocalRunSide } from './local-copy.js';

const setup = workerData as CopyWorkerSetup;
setTempThread(threadId);

function post(reply: CopyWorkerReply): void {
  parentPort?.postMessage(reply);
}

/**
 * What the copy needs of a run on each root (local-copy.ts LocalRunSide), as the main thread's endpoints begin
 * theirs (endpoint/local-run.ts), with no trash: the worker only makes files where nothing was (copy-in-worker.ts
 * worksInCopyWorker), so it never replaces anything that would go there. Made here rather than as a LocalRun,
 * whose other writes (deltas, streams, links) would load code this thread never runs: each module loaded is
 * memory for the whole copy. Its descriptors are its own; the xattr values the scan read stay on the main thread,
 * so a source file that has xattrs has them read again here.
 */
interface WorkerRun extends LocalRunSide {
  readonly meta: MetaWriter | null;
  readonly warnings: string[];
}

function runOn(side: Side): WorkerRun {
  const root = setup.roots[side];
  const warnings: string[] = [];
  const none = !setup.keep.owner && !setup.keep.group && !setup.keep.xattrs;
  const meta = none && !setup.chownRefused ? null : new MetaWriter(setup.keep, (m) => warnings.push(m), setup.chownRefused);
  const anchors = new DirAnchors(root, new AncestorGuard(root));
  return { root, anchors, trash: null, meta, racyWindowNs: setup.racyWindowNs[side], installed: new Map(), scannedXattrs: new ScannedXattrValues(), warnings };
}

function endRun(run: WorkerRun): string[] {
  run.anchors.closeAll();
  return run.warnings;
}

async function copyAll(runs: Readonly<Record<Side, WorkerRun>>, jobs: readonly CopyJob[]): Promise<CopyJobResult[]> {
  const results: CopyJobResult[] = [];
  for (const job of jobs) {
    const from: Side = job.to === 'left' ? 'right' : 'left';
    try {
      const r = await copyLocally(runs[from], job.path, job.source, runs[job.to], job.path, null);
      results.push({ ok: { target: r.target, source: r.source, bytes: r.bytes } });
    } catch (e) {
      results.push({ error: errorToFields(e) });
    }
  }
  return results;
}

/**
 * TEST HOOK: TSYNC_TEST_COPY_WORKER_STOP=N ends this thread when it is handed its chunk number N (0: the first),
 * before it copies any of it; `start` makes it fail to start its run. The e2e tests prove with it what a run does
 * when its worker dies (test/e2e/copy-worker.test.ts): a thread cannot be killed from outside the process.
 */
const STOP = process.env.TSYNC_TEST_COPY_WORKER_STOP;

async function serve(): Promise<void> {
  if (STOP === 'start') throw new Error('stopped at start by TSYNC_TEST_COPY_WORKER_STOP');
  await loadHasher();
  const runs = { left: runOn('left'), right: runOn('right') };
  post({ type: 'ready' });
  // one request at a time, in the order they came: a chunk is copied whole before the next is looked at
  let queue = Promise.resolve();
  parentPort?.on('message', (req: CopyWorkerRequest) => {
    queue = queue.then(async () => {
      if (req.type === 'chunk') {
        if (STOP === String(req.id)) process.exit(70);
        post({ type: 'chunk', id: req.id, results: await copyAll(runs, req.jobs) });
        return;
      }
      const warnings = [...endRun(runs.left), ...endRun(runs.right)];
      post({ type: 'ended', warnings });
      parentPort?.close();
    });
  });
}

serve().catch((e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e) }));
