import { setV8FlagAtFirstCheck } from '../runtime/young-generation.js';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent. By default
 * V8 picks a factor between 1.1 and 4 from how fast it collects: on a 100k-file initial copy the live heap
 * stayed near 100 MB (heap snapshot at the end of the copy) while the heap grew to 200-300 MB, and that
 * headroom, not live data, was most of the 400 MB peak RSS (issue 11). Fixed at 1.3 it peaked at 258 MB;
 * in one A/B pair on the shared 2-core machine the wall time did not move (25.8 s plain, 24.7 s fixed) and
 * user time rose 13% (11.3 s to 12.8 s: more full collections, mostly on the second core).
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Sets it once, before the heap grows: at the first check of a growing table (runtime/young-generation.ts, after
 * 1,024 rows), when the heap is still a few MB, rather than at start-up, so a command that holds no table loads no
 * node:v8 (4-5 ms). A V8 flag set after start-up: the growing factor is read at each full collection, so it takes
 * effect from the next one (checked on Node 20 by the peak above).
 * TSYNC_HEAP_GROWING_PERCENT=0 leaves V8's own choice (to compare).
 */
export function limitHeapGrowth(env: NodeJS.ProcessEnv = process.env): void {
  const asked = env.TSYNC_HEAP_GROWING_PERCENT;
  const percent = asked === undefined || asked === '' ? HEAP_GROWING_PERCENT : Number(asked);
  if (!Number.isInteger(percent) || percent <= 0) return;
  setV8FlagAtFirstCheck(`--heap-growing-percent=${percent}`);
}
