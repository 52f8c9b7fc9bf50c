import { createRequire } from 'node:module';
import type * as V8 from 'node:v8';

/**
 * V8's young generation ("new space", two semispaces) grows from 1 MB to 32 MB while a run allocates, and a
 * sync keeps it at its largest: 32 MB of a 100k-file run's peak RSS of 170-210 MB (issue 11, memory). Capped at
 * 8 MB (4 MB semispaces), the same runs peaked 30 MB lower and took the same time and CPU (measured on the
 * 2-core machine with `--max-semi-space-size=4`: a 100k-file initial copy onto tmpfs 7.06 and 6.50 s against
 * 7.11 and 6.49 s, RSS 180 against 209 MB; a 100k no-op 1.94 against 1.95 s, 140 against 167 MB). Then the
 * cap came down to 4 MB, once the tables had moved into typed columns and the copies into a worker thread: a
 * 100k-file first copy peaked about 3 MiB lower (141.8-142.6 MiB against 144.9-145.6, three runs each,
 * alternating), with user CPU within the runs' own spread (8.90-11.15 s against 8.91-13.27 s), and the 100k
 * no-op took the same wall time. Before those changes a 4 MB young generation had cost the copy about 10% more
 * CPU, because far more of what it allocated then was still alive at each scavenge.
 *
 * That flag is only read when V8 starts, and tsync is started as `node bin/tsync.js` as often as through its bin
 * link, so the cap is reached another way: the young generation's growth factor is read at each growth, and is
 * set to 1 once the young generation has reached the cap. The tables that grow with the tree ask
 * `checkYoungGeneration` every 1,024 rows: a walk's (scan/growing-scan-table.ts) and the index's
 * (store/base-table.ts: the base as it loads, and the records a run will commit as its copies finish). Growth
 * doubles the space only after as many bytes as it holds survived scavenges since the last growth, so a check
 * every thousand rows comes before the next doubling.
 */
export const YOUNG_GENERATION_CAP_MB = 4;

/**
 * `watch` keeps 8 MB. It builds a live state of many small objects that stay (its tables of the tree), which a
 * small young generation copies more often before they are promoted: measured with bench/watch.mjs (cycle
 * scenario, two-way, 100k files, two runs each), 4 MB made it ready in 3.32 and 3.02 s against 2.49 and 2.58 s with
 * 8 MB, and cost 7.5 ms of main-thread CPU per change against 6.0 ms, for 2-10 MB less peak RSS; its RSS target
 * (300 MB) leaves room where a one-shot sync's (150 MB) does not.
 */
export const WATCH_YOUNG_GENERATION_CAP_MB = 8;

let capBytes = 0;

let v8: typeof V8 | null = null;

/**
 * node:v8, loaded at the first check rather than at start-up: it brings the heap_utils, serdes and profiler
 * bindings, 4-5 ms of a command's start-up on the 2-core machine (issue 11), and a command that never holds a
 * table of 1,024 rows (`status` of a small pair) never needs it.
 */
function v8Module(): typeof V8 {
  v8 ??= createRequire(import.meta.url)('node:v8') as typeof V8;
  return v8;
}

/** V8 flags asked for at start-up (cli/heap-growth.ts), set at the first check. */
const flagsAtFirstCheck: string[] = [];

/**
 * Sets a V8 flag at the first check instead of now. For flags V8 reads as the heap grows (at each full collection
 * or scavenge): until a table holds 1,024 rows the heap is a few MB and has not grown, so they take effect before
 * the growth they are about, and a command that holds no table loads no node:v8 for them.
 */
export function setV8FlagAtFirstCheck(flag: string): void {
  flagsAtFirstCheck.push(flag);
}

/**
 * Starts watching (once, at start-up), with a cap of `defaultMb` (the command's). TSYNC_YOUNG_GENERATION_MB=0
 * leaves V8's own growth (to compare); another whole number is the cap in MB, whatever the command.
 */
export function capYoungGeneration(env: NodeJS.ProcessEnv = process.env, defaultMb: number = YOUNG_GENERATION_CAP_MB): void {
  const asked = env.TSYNC_YOUNG_GENERATION_MB;
  const mb = asked === undefined || asked === '' ? defaultMb : Number(asked);
  capBytes = Number.isInteger(mb) && mb > 0 ? mb * 1024 * 1024 : 0;
  // no check now: the young generation starts at 1 MB and has not grown before the first table's 1,024 rows
}

/** Stops the young generation's growth if it has reached the cap; costs about a microsecond, nothing once capped. */
export function checkYoungGeneration(): void {
  if (flagsAtFirstCheck.length > 0) for (const flag of flagsAtFirstCheck.splice(0)) v8Module().setFlagsFromString(flag);
  if (capBytes === 0) return;
  const newSpace = v8Module()
    .getHeapSpaceStatistics()
    .find((s) => s.space_name === 'new_space');
  if (newSpace === undefined) {
    capBytes = 0; // a V8 without this space: nothing to watch
    return;
  }
  if (newSpace.space_size < capBytes) return;
  v8Module().setFlagsFromString('--semi-space-growth-factor=1');
  capBytes = 0;
  capped = true;
}

let capped = false;

/**
 * Sets the growth factor again once the cap was reached. Starting a worker thread puts V8's flags back as they
 * were at start-up (measured: with the copy worker running, the main thread's young generation grew on to 32 MB
 * after the cap had been set); the copy worker's owner calls this once the worker is up.
 */
export function keepYoungGenerationCapped(): void {
  if (capped) v8Module().setFlagsFromString('--semi-space-growth-factor=1');
}
