#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ and bundled into dist/bundle/main.js by `npm run build`
// (run by `prepare` on install; scripts/bundle.mjs says why it is bundled). CommonJS (bin/package.json), like
// the bundle: Node's ES module loader would cost its own start-up on every command (issue 11).
'use strict';

const args = process.argv.slice(2);
/** Which of process.stdout and process.stderr the command made: only those can hold output still queued. */
/** @type {Set<'stdout' | 'stderr'>} */
const streamsMade = new Set();
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The answer is in package.json: printed without reading or compiling the bundle (src/cli/main.ts answers the
  // same for callers of main(), which are tests)
  const { version } = require('../package.json');
  // straight to fd 1 (src/cli/io.ts fdLineWriter says why not process.stdout), with the same rules as every other
  // command's output: a reader gone before the line is written (`tsync --version | true`) ends nothing badly; any
  // other write error (a full disk under `> file`) is one line on stderr and exit 1 (src/cli/main.ts)
  const fs = require('node:fs');
  try {
    fs.writeSync(1, `${typeof version === 'string' ? version : '0.0.0'}\n`);
  } catch (e) {
    const error = /** @type {NodeJS.ErrnoException} */ (e);
    if (error.code !== 'EPIPE') {
      process.exitCode = 1;
      try {
        fs.writeSync(2, `tsync: error: could not write to stdout: ${error.message}\n`);
      } catch {
        // stderr is gone or full too: the exit code is all that is left to say it
      }
    }
  }
} else {
  noteStreamsWhenMade();
  // the bundle with V8's compiled code for it (load-bundle.js says how and why)
  const loaded = require('./load-bundle.js').loadBundle();
  if (process.env.TSYNC_TIMINGS === '1') process.stderr.write(`tsync timing: code cache: ${loaded.codeCache}\n`);
  loaded.exports.main(process.argv).then((code) => {
    process.exitCode = code;
    setImmediate(exitOnceWritten, code);
  });
}

/**
 * Ends the process once what it printed has left it. Left to end by itself, Node frees every heap page and
 * handle one at a time after the command is done: 10-30 ms of a sync's wall time, more the bigger the tree
 * it held (issue 11). process.exit skips that, but it would also drop output still queued for a pipe (writes
 * to a pipe are asynchronous on Linux): so it is used only when nothing is queued, one turn of the event
 * loop after the command ended (the turn in which the pipe's completed writes are counted off). Otherwise
 * the process ends by itself as before, once the reader has taken the rest. A command resolves only after
 * its own work (the index closed, the lock released, the far side told to close) is done.
 * @param {number} code
 */
function exitOnceWritten(code) {
  for (const name of streamsMade) if (process[name].writableLength !== 0) return;
  process.exit(code);
}

/**
 * Records the first use of process.stdout and process.stderr. Node makes each stream on first use (for a pipe that
 * loads net and stream: about 5 ms), and a one-shot command writes its lines straight to the fds instead
 * (src/cli/io.ts), so asking a stream that was never made whether output is queued would make it just to hear
 * "no". Where Node defines them otherwise than as a getter, both count as made, and are asked as before.
 */
function noteStreamsWhenMade() {
  for (const name of /** @type {const} */ (['stdout', 'stderr'])) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    const get = d?.get;
    if (d === undefined || get === undefined || d.configurable !== true) {
      streamsMade.add(name);
      continue;
    }
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: d.enumerable,
      get() {
        streamsMade.add(name);
        return get.call(process);
      },
    });
  }
}
