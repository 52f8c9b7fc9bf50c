import { parseRescanInterval } from '../../config/options.js';
import { UsageError } from '../../errors.js';
import type { SyncSettings } from '../../sync/settings.js';
import { runWatchLoop } from '../../sync/watch-loop.js';
import { compileToBaselineEagerly } from '../../runtime/baseline-code.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { processIo, stdoutReaderGone, writeThroughStreams, type Io } from '../io.js';
import { reportError } from '../report-error.js';
import type { SyncFlags } from '../sync-options.js';
import { settingsOf } from '../sync-settings.js';
import { watchOutput } from '../watch-output.js';
import { reportFailure } from './sync.js';

export interface WatchFlags extends SyncFlags {
  rescanInterval?: string;
}

/**
 * `tsync watch A B`: the signal wiring and the output; the loop itself is sync/watch-loop.ts. Ctrl-C or
 * SIGTERM asks for a clean stop (exit 0); a second Ctrl-C leaves at once.
 */
export async function watchCommand(left: string, right: string, flags: WatchFlags, io: Io): Promise<ExitCode> {
  // a reader of the events that stalls must not stall the loop (io.ts writeThroughStreams)
  if (io === processIo) writeThroughStreams();
  let settings: SyncSettings;
  let rescanIntervalMs: number;
  try {
    settings = settingsOf(left, right, flags, io);
    if (settings.dryRun) throw new UsageError('--dry-run does not apply to watch; run `tsync sync --dry-run` instead');
    rescanIntervalMs = parseRescanInterval(flags.rescanInterval);
  } catch (e) {
    return reportError(e, io);
  }
  // the loop's code runs once per change: baseline code from its first call (runtime/baseline-code.ts)
  compileToBaselineEagerly();
  const stopRequested = new Promise<void>((resolve) => {
    let asked = false;
    const onSignal = (): void => {
      if (asked) process.exit(130); // a second Ctrl-C: leave at once (temp files are cleaned up next run)
      asked = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const json = flags.json === true;
  const tty = process.stdout.isTTY === true && !json;
  const output = watchOutput(io, { json, quiet: flags.quiet === true, mode: settings.mode, statusLine: tty ? (text) => process.stdout.write(`\r\x1b[2K${text}`) : null });
  try {
    // `tsync watch --json | head -1`: nobody reads the events any more, so stop cleanly as on Ctrl-C
    await runWatchLoop(settings, { rescanIntervalMs, stopRequested: Promise.race([stopRequested, stdoutReaderGone]) }, output);
    return EXIT.ok;
  } catch (e) {
    output.clearStatus();
    return reportFailure(e, json, io);
  }
}
