import { setV8FlagAtFirstCheck } from './young-generation.js';

/**
 * V8 hands a function to its optimizing compiler (TurboFan) once it has run a while, and compiles it on background
 * threads. A one-shot sync of a small tree ends before most of that code pays for itself, and on a 2-core machine the
 * compiler's threads take the cores the walk, the listing reader and the copy worker want: `perf record` of a 10k-file
 * first copy put 37% of all CPU samples in those threads (tmpfs, where the kernel's share is small), of a 10k-file
 * two-way no-op 42%. V8's interrupt budget is how much bytecode a function runs between two looks at whether to tier
 * it up; eight times V8's default lets only what stays hot get optimized. Measured on the 2-core machine, Node 20,
 * runs alternating with and without it (medians; wall, then user + system CPU; `/usr/bin/time`):
 * - 10k-file two-way no-op (15 runs each): 160 → 140 ms, CPU 230 → 210 ms;
 * - 10k-file one-way no-op (15): 210 → 200 ms, CPU 310 → 300 ms;
 * - 10k-file first copy on tmpfs (8): 860 → 770 ms, CPU 1.40 → 1.18 s;
 * - 100k-file one-way no-op (8): 775 → 680 ms; two-way (6): 745 → 740 ms;
 * - 100k-file first copy on tmpfs (4): 4.92 → 4.68 s;
 * - 1% incremental runs, trees restored before each as the benchmark does: 10k-file one-way (10) 390 → 336 ms,
 *   two-way (10) 398 → 343 ms; 100k-file one-way (6) 1.75 → 1.82 s (within its spread: 1.43-1.95 s against
 *   1.69-1.93 s), two-way (5) 1.90 → 1.76 s.
 * Sixteen times was better still at 10k files but worse at 100k (a two-way no-op 745 → 870 ms, a first copy 4.92 →
 * 5.36 s); 64 times, 650 → 915 ms for the 100k one-way no-op.
 *
 * Set after the bundle has been loaded, since V8's flags are part of its code cache's key (bin/load-bundle.js): at the
 * first check of the young generation (runtime/young-generation.ts), once a table holds 1,024 rows, as the heap's
 * flags are, so that a sync of a few files loads no node:v8 for it (test/e2e/lazy-modules.test.ts). A function's
 * budget is set anew each time it runs out, so what ran before takes the new one too. Only on the V8 it was
 * measured on (Node 20's 11.x; Node 22 and later add the Maglev tier between the two, with budgets of their own, and
 * an unknown flag would be reported on stderr). Not for `watch`, which runs on for hours: its code should be at its
 * fastest by its first change (runtime/baseline-code.ts). TSYNC_TIER_UP=v8 leaves V8's default (to compare).
 */
const V8_DEFAULT_BUDGET = 66 * 1024;
export const ONE_SHOT_BUDGET = 8 * V8_DEFAULT_BUDGET;

/** Whether `delayTierUp` sets the budget under this V8 and environment. */
export function delaysTierUp(env: NodeJS.ProcessEnv = process.env, v8Version: string = process.versions.v8): boolean {
  return env.TSYNC_TIER_UP !== 'v8' && /^11\./.test(v8Version);
}

/** Raises V8's interrupt budget for the rest of this one-shot process, from its first table of 1,024 rows on; true if it will. */
export function delayTierUp(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!delaysTierUp(env)) return false;
  setV8FlagAtFirstCheck(`--interrupt-budget=${ONE_SHOT_BUDGET}`);
  return true;
}
