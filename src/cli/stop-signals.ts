import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';

/** What a one-shot run gets from the signal wiring. */
export interface StopSignals {
  /** Aborted by the first Ctrl-C or SIGTERM once armed: the run starts no new action. */
  readonly signal: AbortSignal;
  /** The run is about to write: from now on a first signal stops it cleanly instead of at once. */
  readonly arm: () => void;
  /** Removes the handlers (the run is over). */
  readonly dispose: () => void;
}

/**
 * Ctrl-C and SIGTERM during `tsync sync`, as `watch` handles them: the first asks for a clean stop, a
 * second one leaves at once. Before the run is armed (open, scan, hash, plan) nothing it could leave
 * half-done has started and nothing is worth recording, so a signal ends the process at once. Once
 * armed, the first signal says so on stderr and aborts `signal`: the actions in flight finish, what was
 * applied is recorded in the index, and the run exits 130. A second signal exits at once; a copy cut
 * short leaves only a temp file, which the next run removes.
 */
export function stopOnSignals(io: Io): StopSignals {
  const controller = new AbortController();
  let armed = false;
  const onSignal = (): void => {
    if (!armed || controller.signal.aborted) process.exit(EXIT.interrupted);
    io.err('tsync: interrupted: finishing the actions in flight and recording what was done (Ctrl-C again to stop at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    arm: () => {
      armed = true;
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
