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
import { copyRun, sameDirectoryRun, SmallCopyBatcher } from './small-copy-batch.js';

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

/** Copies one job the usual way (copyLocally). */
async function copyOne(runs: Readonly<Record<Side, WorkerRun>>, job: CopyJob): Promise<CopyJobResult> {
  const from: Side = job.to === 'left' ? 'right' : 'left';
  try {
    const r = await copyLocally(runs[from], job.path, job.source, runs[job.to], job.path, null);
    return { ok: { target: r.target, source: r.source, bytes: r.bytes } };
  } catch (e) {
    return { error: errorToFields(e) };
  }
}

/** Every job of a chunk is the worker's to batch (copy-in-worker.ts worksInCopyWorker chose them). */
const anyJob = (_job: CopyJob): _job is CopyJob => true;

/** Copies a chunk's jobs: each directory's run of them in batches where it can (small-copy-batch.ts), the rest the usual way. */
async function copyAll(runs: Readonly<Record<Side, WorkerRun>>, jobs: readonly CopyJob[]): Promise<CopyJobResult[]> {
  const results: CopyJobResult[] = [];
  // by the job's index in the chunk: a batch answers its jobs in its own order
  const usual = async (i: number): Promise<void> => {
    results[i] = await copyOne(runs, jobs[i] as CopyJob);
  };
  let start = 0;
  while (start < jobs.length) {
    const first = jobs[start] as CopyJob;
    if (batcher === null) {
      await usual(start++);
      continue;
    }
    const end = sameDirectoryRun(jobs, start, jobs.length, anyJob, (j) => j.to).next;
    const sides = { src: runs[first.to === 'left' ? 'right' : 'left'], dst: runs[first.to] };
    const indices = Array.from({ length: end - start }, (_, k) => start + k);
    await copyRun(
      batcher,
      sides,
      indices,
      (i) => jobs[i] as CopyJob,
      usual,
      (i, r) => {
        results[i] = 'ok' in r ? { ok: r.ok } : { error: errorToFields(r.error) };
      },
    );
    start = end;
  }
  return jobs.map((_, i) => results[i] ?? { error: errorToFields(new Error('the copy worker gave a job no result')) });
}

/**
 * TEST HOOK: TSYNC_TEST_COPY_WORKER_STOP=N ends this thread when it is handed its chunk number N (0: the first),
 * before it copies any of it; `start` makes it fail to start its run. The e2e tests prove with it what a run does
 * when its worker dies (test/e2e/copy-worker.test.ts): a thread cannot be killed from outside the process.
 */
const STOP = process.env.TSYNC_TEST_COPY_WORKER_STOP;

/** The batched copies (small-copy-batch.ts), or null where the addon is not in use. */
let batcher: SmallCopyBatcher | null = null;

async function serve(): Promise<void> {
  if (STOP === 'start') throw new Error('stopped at start by TSYNC_TEST_COPY_WORKER_STOP');
  await loadHasher();
  batcher = SmallCopyBatcher.create();
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
