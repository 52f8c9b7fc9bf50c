import { fstatSync, writeSync } from 'node:fs';

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

/**
 * Writes lines straight to file descriptor `fd` with write(2), each before the call returns. From the first EPIPE on
 * the rest is dropped quietly, as lineWriter does; from any other error on (a full disk under `> file`) too, after
 * `onFailure` is told, so that the command finishes its work and then says so (main.ts: one line on stderr, exit 1)
 * instead of a stack trace in the middle of a step. Why not process.stdout: Node makes that stream on first use, and
 * for a pipe it loads net, stream and their helpers, about 5 ms of a one-shot command's start-up (issue 11: `tsync
 * status` against `node -e 0`). A write waits for a reader that is slow (a stream would queue in memory instead), and
 * an fd set non-blocking by whoever shares it is waited on in 1 ms steps rather than failing with EAGAIN.
 */
export function fdLineWriter(fd: number, onReaderGone: () => void = () => undefined, onFailure: (e: NodeJS.ErrnoException) => void = () => undefined): (line: string) => void {
  let stopped = false;
  return (line) => {
    if (stopped) return;
    try {
      writeAll(fd, Buffer.from(`${line}\n`, 'utf8'));
    } catch (e) {
      stopped = true;
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') onReaderGone();
      else onFailure(e as NodeJS.ErrnoException);
    }
  };
}

/** The first error that kept the process's own output from being written (not a reader gone), with where it went. */
let outputFailure: { readonly stream: 'stdout' | 'stderr'; readonly error: NodeJS.ErrnoException } | null = null;

/**
 * One line naming the error that kept a one-shot command's output from being written, or null when all of it went
 * out (or only to a reader that left). main.ts prints it on stderr when that still works, and exits 1.
 */
export function outputFailureLine(): string | null {
  if (outputFailure === null) return null;
  const { stream, error } = outputFailure;
  return `tsync: error: could not write to ${stream}: ${error.message}`;
}

function failedOutput(stream: 'stdout' | 'stderr'): (e: NodeJS.ErrnoException) => void {
  return (error) => {
    outputFailure ??= { stream, error };
  };
}

/** A 4-byte cell nobody notifies: Atomics.wait on it is a plain sleep of the main thread. */
const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/**
 * Whether fd 2 is a terminal, without making process.stderr where it cannot be one: a pipe or a file (scripts,
 * cron, CI) is not a character device, and asking process.stderr.isTTY there would make the stream for nothing.
 */
export function stderrIsTerminal(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
}

// Made on the first line written: importing this module changes nothing on the process's streams.
let stdout: ((line: string) => void) | null = null;
let stderr: ((line: string) => void) | null = null;
/** Whether lines go through process.stdout and process.stderr (a long-running command) rather than straight to the fds. */
let throughStreams = false;

/**
 * From now on the process's output goes through process.stdout and process.stderr, as it did before one-shot
 * commands wrote straight to the fds: `watch` runs for days, and a reader of its events that stalls must not
 * stall its loop (a stream queues the lines in memory meanwhile). Called before its first line.
 */
export function writeThroughStreams(): void {
  throughStreams = true;
  stdout = null;
  stderr = null;
}

export const processIo: Io = {
  out: (line) => {
    stdout ??= throughStreams ? lineWriter(process.stdout, stdoutGone) : fdLineWriter(1, stdoutGone, failedOutput('stdout'));
    stdout(line);
  },
  err: (line) => {
    stderr ??= throughStreams ? lineWriter(process.stderr) : fdLineWriter(2, () => undefined, failedOutput('stderr'));
    stderr(line);
  },
  env: process.env,
};
