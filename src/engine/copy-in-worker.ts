import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import type { CopyAction } from '../core/types.js';
import type { WorkerMode } from '../runtime/worker-mode.js';
import { keepYoungGenerationCapped } from '../runtime/young-generation.js';
import type { CopyJob, CopyJobResult, CopyWorkerReply, CopyWorkerSetup } from './copy-worker-protocol.js';
import { SMALL_FILE_MAX } from './copy-file.js';
import { mayBeLinkedTo } from './local-copy.js';

/*
 * A second thread for the small-file copies of a run between two local roots (issue 11). A small copy is a
 * dozen synchronous system calls with little of tsync's own work between them, and one thread makes them one
 * after another: measured (bench/probe-copy-threads.mjs, results-copy-threads-0fd0ba6.md) two threads making the
 * same calls finish 20,000 files in 0.67 of one thread's time, as fast as `cp -a`. The worker takes a share of
 * the copies of fresh files (nothing at the target), the main thread copies the rest and keeps every outcome.
 */

/** The worker module next to this one (both built into dist/engine/, and bundled side by side). */
export const COPY_WORKER_URL = new URL('./copy-worker.js', import.meta.url);

/**
 * The copies from which the worker pays. Starting it (a thread, its modules, the hasher) costs the other core
 * about 100-200 ms, during which the main thread copies on; it then saves about half of the rest.
 */
export const COPY_WORKER_MIN = 2_000;

/**
 * A copy the worker may make: a regular file small enough for the synchronous copy, to a path where the scan
 * found nothing (so nothing is replaced: no trash, no conflict), with no other link to its inode (a later link
 * action may need to find it among the main thread's installed files, local-copy.ts mayBeLinkedTo).
 */
export function worksInCopyWorker(a: CopyAction): boolean {
  const e = a.source.entry;
  return a.expect === null && e.kind === 'file' && e.size <= SMALL_FILE_MAX && !mayBeLinkedTo(a.source);
}

/**
 * TSYNC_COPY_WORKER: `auto` (the default) starts the worker for a run with at least COPY_WORKER_MIN copies it may
 * take; `always` for any (the fault and crash trials, whose trees are small); `never` copies on the main thread.
 */
export function copyWorkerPays(mode: WorkerMode, copies: number): boolean {
  if (copies === 0 || mode === 'never') return false;
  return mode === 'always' || copies >= COPY_WORKER_MIN;
}

/**
 * The worker's young generation, in MB: it allocates little that lives (a chunk's results, posted and dropped), and
 * its RSS adds to the main thread's for the whole copy phase, at the end of which the main thread holds the most
 * (issue 11: a 100k-file first copy must stay within 150 MB). Measured on a 100k-file first copy (GNU time): peak
 * 152,440 KiB with 4 MB, 147,320 and 148,428 KiB with 1 MB, the same time and CPU.
 */
const WORKER_YOUNG_GENERATION_MB = 1;

/**
 * The worker's old generation, in MB, before what its directories add (workerOldGenerationMb). Left to itself V8
 * lets a worker's old generation fill to about 13 MiB before it first collects it, almost all of it garbage: the
 * worker holds its modules, the hasher and one or two chunks of results (about 6 MiB used after a 100k-file first
 * copy with an 8 MB limit). A limit makes V8 collect sooner. Measured on a 100k-file first copy (GNU time, three
 * runs each): peak 149,312-150,788 KiB with no limit, 144,192-146,776 KiB with 16 MB, at the same speed; 24, 32
 * and 64 MB saved nothing. A limit that live data outgrew would end the worker as out of memory: its chunk in
 * hand fails (exit 1, copied by the next run) and the main thread copies the rest, so the limit is kept well above
 * what the worker holds.
 */
const WORKER_OLD_GENERATION_BASE_MB = 16;

/**
 * What the worker keeps per directory it copies into or out of, at most: each root's AncestorGuard remembers the
 * directory's path and inode (about 100 bytes and the path's length), so 1 KiB covers a path of 900 bytes.
 */
const WORKER_BYTES_PER_DIRECTORY = 1024;

/** The worker's old-generation limit in MB for copies in (at most) `directories` directories. */
export function workerOldGenerationMb(directories: number): number {
  return WORKER_OLD_GENERATION_BASE_MB + Math.ceil((directories * WORKER_BYTES_PER_DIRECTORY) / (1024 * 1024));
}

/**
 * An upper bound on the number of directories the paths are in, counted in one pass with nothing kept: every
 * change of directory from one path to the next counts, so a directory counts once for each run of its paths
 * (once for a plan, which lists a directory's paths together) and never less than once.
 */
export function directoryRunsOf(paths: Iterable<string>): number {
  let runs = 0;
  let previous: string | null = null;
  for (const p of paths) {
    const dir = p.slice(0, Math.max(0, p.lastIndexOf('/')));
    if (dir !== previous) runs++;
    previous = dir;
  }
  return runs;
}

/** Why the worker's answer for a chunk is missing. */
export class CopyWorkerStopped extends Error {
  constructor(
    message: string,
    /** True when the worker copied nothing of the chunk (it never started its run): the main thread may copy it. */
    readonly untouched: boolean,
  ) {
    super(message);
  }
}

function workerThreads(): typeof import('node:worker_threads') {
  return createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
}

/** The main thread's handle on a copy worker: chunks of copies in, their results out, in the order sent. */
export class CopyWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: readonly CopyJobResult[]) => void; reject: (e: Error) => void }>();
  private ended: ((warnings: readonly string[]) => void) | null = null;
  private stopped: CopyWorkerStopped | null = null;

  /** `directories`: how many directories its copies may be in (directoryRunsOf), which sizes its heap. */
  constructor(setup: CopyWorkerSetup, directories: number, url: URL = COPY_WORKER_URL) {
    const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: workerOldGenerationMb(directories) };
    this.worker = new (workerThreads().Worker)(url, { workerData: setup, resourceLimits });
    this.worker.on('message', (reply: CopyWorkerReply) => this.receive(reply));
    this.worker.once('error', (e) => this.stop(new CopyWorkerStopped(`the copy worker crashed: ${e.message}`, false)));
    this.worker.once('exit', (code) => this.stop(new CopyWorkerStopped(`the copy worker exited (${code})`, false)));
  }

  /** False once the worker has stopped (crashed, exited, could not start, or ended): it takes nothing more. */
  get running(): boolean {
    return this.stopped === null;
  }

  /** Copies `actions` (each worksInCopyWorker) in the worker; resolves with one result per action, in order. */
  copy(actions: readonly CopyAction[]): Promise<readonly CopyJobResult[]> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    const id = this.nextId++;
    // a plan's sources are often rows read through getters (scan-table.ts ScannedRow), which a structured clone
    // would copy as empty objects: what crosses is the plain entry, stat and time they read
    const jobs: CopyJob[] = actions.map((a) => ({ path: a.path, to: a.target, source: { entry: a.source.entry, stat: a.source.stat, observedAtNs: a.source.observedAtNs } }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'chunk', id, jobs });
    });
  }

  /** Ends the worker's run once every chunk sent is done; resolves with its warnings (none if it had stopped). */
  async end(): Promise<readonly string[]> {
    if (this.stopped !== null) return [];
    const warnings = new Promise<readonly string[]>((resolve) => {
      this.ended = resolve;
    });
    this.worker.postMessage({ type: 'end' });
    const got = await warnings;
    await this.worker.terminate();
    return got;
  }

  private receive(reply: CopyWorkerReply): void {
    switch (reply.type) {
      case 'ready':
        // starting a worker thread puts V8's flags back as they were at start-up, the young generation's cap among them
        keepYoungGenerationCapped();
        return;
      case 'chunk': {
        const p = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        p?.resolve(reply.results);
        return;
      }
      case 'ended':
        this.stopped = new CopyWorkerStopped('the copy worker has ended', false);
        this.ended?.(reply.warnings);
        return;
      case 'failed':
        this.stop(new CopyWorkerStopped(`the copy worker could not start: ${reply.message}`, true));
        void this.worker.terminate();
        return;
    }
  }

  private stop(why: CopyWorkerStopped): void {
    if (this.stopped === null) this.stopped = why;
    for (const p of this.pending.values()) p.reject(this.stopped);
    this.pending.clear();
    this.ended?.([]);
  }
}
