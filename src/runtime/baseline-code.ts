import { createRequire } from 'node:module';
import type * as V8 from 'node:v8';

/**
 * A watch runs the same few hundred functions once per change, a second or more apart, and V8 starts each in its
 * interpreter: a function is compiled to baseline code (Sparkplug) only after it has run a while, and code that runs
 * once per change stays interpreted for many changes. `--always-sparkplug` compiles a function to baseline code when
 * it is first called. Measured on the 2-core machine, a 100k-file one-way watch, 40 changes 1.5 s apart, main
 * thread's CPU per change from /proc/PID/task/PID/schedstat, three pairs of runs alternating: 5.29, 5.50 and 4.87 ms
 * without the flag against 4.96, 5.26 and 4.18 ms with it; the other threads' CPU the same (issue 11, a watch cycle's
 * CPU).
 *
 * Only for `watch`: a one-shot command runs most of its code once, and gains nothing (a 10k-file no-op sync, hyperfine,
 * 20 runs each: 299 ms with the flag set after the bundle loaded against 304 ms without, ±21 ms; set before, 401
 * against 341 ms, as V8 then rejects the code cache). It is set once the bundle has been loaded:
 * V8's flags are part of its code cache's key, and the cache is still taken as it is (bin/load-bundle.js).
 * TSYNC_WATCH_SPARKPLUG=0 leaves it off (to compare).
 */
export function compileToBaselineEagerly(env: NodeJS.ProcessEnv = process.env): void {
  if (env.TSYNC_WATCH_SPARKPLUG === '0') return;
  (createRequire(import.meta.url)('node:v8') as typeof V8).setFlagsFromString('--always-sparkplug');
}
