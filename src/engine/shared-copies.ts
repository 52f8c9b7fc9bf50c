import { setImmediate } from 'node:timers/promises';
import type { Action, CopyAction } from '../core/types.js';
import { checkYoungGeneration } from '../runtime/young-generation.js';
import { type CopyWorker, CopyWorkerStopped } from './copy-in-worker.js';
import type { CopyJobResult } from './copy-worker-protocol.js';
import { monotonicMs } from '../runtime/clock.js';
import { sameDirectoryRun } from './small-copy-batch.js';

/** Copies in one request to the worker: about 10-20 ms of its work, so that a request costs little beside it. */
const CHUNK = 192;
/** Requests the worker holds at once: one being copied, one waiting, so it never idles while the main thread is busy. */
const CHUNKS_AHEAD = 2;
/** The main thread lets the worker's answers in (and sends it more) at least this often. */
const TURN_MS = 5;

export interface SharedCopies {
  readonly worker: CopyWorker;
  /** Copies one action on the main thread, with its outcome (execute.ts run). */
  readonly here: (a: CopyAction) => Promise<void>;
  /**
   * Copies a run of actions (same way, same directory, at most SMALL_BATCH_MAX) on the main thread, with their
   * outcomes (in one batch, small-copy-batch.ts); absent: each goes to `here`.
   */
  readonly hereRun?: (run: readonly CopyAction[]) => Promise<void>;
  /** The worker's result for an action (or why it has none), to be made its outcome. */
  readonly took: (a: CopyAction, r: CopyJobResult | { readonly error: Error }) => void;
  /** A stop was asked for (Ctrl-C): nothing new is started, on either thread. */
  readonly stopping: () => boolean;
}

/** How a list's shared copies went: made here, made by the worker (or, had it stopped, answered for by it). */
export interface CopiesShared {
  readonly here: number;
  readonly worker: number;
}

/**
 * Makes the copies of `list` that `shared` picks (each worksInCopyWorker; the caller makes the others) on two
 * threads: the main thread from the front of the list, the worker in chunks from the back, until they meet; so
 * whichever is faster takes more, and both end together. The main thread turns the event loop every few
 * milliseconds to take the worker's answers and send it the next chunk. Returns once every copy sent to the
 * worker has its result. (The list is walked as it is rather than filtered first: a 100k-file first copy would
 * hold one more array of 100k entries at the peak of its memory.)
 */
export async function shareCopies(list: readonly Action[], shared: (a: Action) => a is CopyAction, s: SharedCopies): Promise<CopiesShared> {
  let here = 0;
  let byWorker = 0;
  let front = 0;
  let back = list.length;
  const inFlight = new Set<Promise<void>>();
  const send = (): void => {
    // a worker that has stopped is sent nothing more: the main thread makes the rest
    while (inFlight.size < CHUNKS_AHEAD && back > front && s.worker.running && !s.stopping()) {
      const chunk: CopyAction[] = [];
      while (back > front && chunk.length < CHUNK) {
        const a = list[--back] as Action;
        if (shared(a)) chunk.push(a);
      }
      if (chunk.length === 0) break;
      const done: Promise<void> = s.worker.copy(chunk).then(
        (results) => {
          // a chunk's answer arrives whole and its objects are made at once: the young generation's cap is checked
          // here too, not only every 1,024 rows of the tables (runtime/young-generation.ts)
          checkYoungGeneration();
          byWorker += chunk.length;
          for (const [i, a] of chunk.entries()) s.took(a, results[i] ?? { error: new Error('the copy worker gave no result') });
        },
        async (e: unknown) => {
          // a worker that never started its run copied nothing: those copies are made here; one that stopped in
          // the middle of a chunk may have installed some, which are then this run's failures (the next run finds
          // them in place, equal, and adopts them)
          if (e instanceof CopyWorkerStopped && e.untouched) {
            here += chunk.length;
            for (const a of chunk) await s.here(a);
          } else {
            byWorker += chunk.length;
            for (const a of chunk) s.took(a, { error: e instanceof Error ? e : new Error(String(e)) });
          }
        },
      );
      const tracked = done.finally(() => {
        inFlight.delete(tracked);
        send();
      });
      inFlight.add(tracked);
    }
  };
  send();
  let turned = monotonicMs();
  while (front < back) {
    if (s.stopping()) break;
    const a = list[front++] as Action;
    if (!shared(a)) continue;
    if (s.hereRun === undefined) {
      here++;
      await s.here(a);
    } else {
      // with the actions after it that go the same way into the same directory
      const { run, next } = sameDirectoryRun(list, front - 1, back, shared, (b) => b.target);
      front = next;
      here += run.length;
      await s.hereRun(run);
    }
    if (monotonicMs() - turned >= TURN_MS) {
      await setImmediate();
      turned = monotonicMs();
    }
  }
  while (inFlight.size > 0) await Promise.all(inFlight);
  return { here, worker: byWorker };
}

/** The actions of `list` that `pick` takes, in runs that each go the same way into one directory (at most SMALL_BATCH_MAX). */
export function* runsOf(list: readonly Action[], pick: (a: Action) => a is CopyAction): Generator<CopyAction[]> {
  let i = 0;
  while (i < list.length) {
    if (!pick(list[i] as Action)) {
      i++;
      continue;
    }
    const { run, next } = sameDirectoryRun(list, i, list.length, pick, (a) => a.target);
    yield run;
    i = next;
  }
}
