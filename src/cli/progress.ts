import cliProgress from 'cli-progress';
import type { CycleObserver } from '../sync/cycle.js';

/** Below this much work a bar would only flash: not worth drawing. */
const MIN_ACTIONS = 200;
const MIN_BYTES = 64 << 20;

/**
 * A progress bar on stderr for long runs on a terminal (files and bytes done, rate, ETA), drawn by the
 * maintained cli-progress package. The caller decides whether there is a terminal; without one there
 * is no bar and no control character.
 */
export function progressBar(stream: NodeJS.WriteStream): CycleObserver & { stop(): void } {
  let bar: cliProgress.SingleBar | null = null;
  let bytesDone = 0;
  let bytesTotal = 0;
  let startedMs = Date.now();
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  return {
    onPlan: (actions, bytes) => {
      if (actions < MIN_ACTIONS && bytes < MIN_BYTES) return;
      bytesTotal = bytes;
      startedMs = Date.now();
      bar = new cliProgress.SingleBar(
        { stream, format: '{bar} {percentage}% | {value}/{total} actions | {done} of {all} | {rate}/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(actions, 0, { done: mib(0), all: mib(bytesTotal), rate: mib(0) });
    },
    onOutcome: (_o, bytes) => {
      bytesDone += bytes;
      const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
      bar?.increment(1, { done: mib(bytesDone), all: mib(bytesTotal), rate: mib(bytesDone / secs) });
    },
    stop: () => bar?.stop(),
  };
}
