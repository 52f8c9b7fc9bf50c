import { TsyncError } from '../errors.js';
import { EXIT, exitCodeOf, type ExitCode } from './exit-codes.js';

export interface ErrorSink {
  readonly err: (line: string) => void;
}

/** One line on stderr and the documented exit code; anything untyped is a bug and says so. */
export function reportError(e: unknown, io: ErrorSink): ExitCode {
  if (e instanceof TsyncError) {
    io.err(`tsync: ${e.code === 'SAFETY_HALT' ? 'halted' : 'error'}: ${e.message}`);
    return exitCodeOf(e);
  }
  const msg = e instanceof Error ? e.message : String(e);
  io.err(`tsync: internal error: ${msg}`);
  if (process.env.TSYNC_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
  return EXIT.partial;
}
