import type { TsyncError } from '../errors.js';

/** The exit codes, the same for every command (README "Exit codes"). */
export const EXIT = {
  ok: 0,
  partial: 1,
  usage: 2,
  conflicts: 3,
  safetyHalt: 4,
  locked: 5,
  remoteLost: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0  done, in sync
  1  done, but some paths failed (partial), or the output could not be written; each is reported on stderr
  2  usage or configuration error (bad option, missing or unusable root, state dir or index unusable)
  3  conflicts left unresolved
  4  a safety guard halted the run (nothing was changed)
  5  another tsync holds the lock on this pair
  6  the remote side could not be reached or was lost
  130  interrupted by Ctrl-C or SIGTERM (sync: what was applied is recorded; run it again to finish)`;

/** The one place where typed errors become exit codes. */
export function exitCodeOf(e: TsyncError): ExitCode {
  switch (e.code) {
    case 'USAGE':
    case 'BAD_ROOT':
    case 'SAME_ROOT':
    case 'NESTED_ROOTS':
    case 'STATE':
      return EXIT.usage;
    case 'SAFETY_HALT':
      return EXIT.safetyHalt;
    case 'LOCKED':
      return EXIT.locked;
    case 'PROTOCOL':
    case 'REMOTE_LOST':
    case 'REMOTE_UNREACHABLE':
      return EXIT.remoteLost;
  }
}
