/** Where a command writes and what environment it reads: the process's by default, a test's otherwise. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Writes lines to `stream` until its reader goes away (`tsync log | head -1`): from the first EPIPE on,
 * the rest is dropped quietly, instead of Node's unhandled 'error' ending the process with a stack trace
 * in the middle of a run. The run itself goes on, records what it applied and exits with its own code
 * (README "Exit codes"). Any other write error is left as it was: a full disk must not pass unnoticed.
 */
export function lineWriter(stream: NodeJS.WritableStream, onReaderGone: () => void = () => undefined): (line: string) => void {
  let readerGone = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') {
      if (!readerGone) onReaderGone();
      readerGone = true;
      return;
    }
    throw e;
  });
  return (line) => {
    if (!readerGone) stream.write(`${line}\n`);
  };
}

let stdoutGone: () => void = () => undefined;
/** Resolves when a write to the process's stdout found its reader gone: `watch` then stops as on Ctrl-C. */
export const stdoutReaderGone = new Promise<void>((resolve) => {
  stdoutGone = resolve;
});

// Made on the first line written: importing this module changes nothing on the process's streams.
let stdout: ((line: string) => void) | null = null;
let stderr: ((line: string) => void) | null = null;

export const processIo: Io = {
  out: (line) => {
    stdout ??= lineWriter(process.stdout, stdoutGone);
    stdout(line);
  },
  err: (line) => {
    stderr ??= lineWriter(process.stderr);
    stderr(line);
  },
  env: process.env,
};
