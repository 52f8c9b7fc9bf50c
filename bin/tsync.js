#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ and bundled into dist/bundle/main.js by `npm run build`
// (run by `prepare` on install; scripts/bundle.mjs says why it is bundled). CommonJS (bin/package.json), like
// the bundle: Node's ES module loader would cost its own start-up on every command (issue 11).
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The answer is in package.json: printed without reading or compiling the bundle (src/cli/main.ts answers the
  // same for callers of main(), which are tests)
  const { version } = require('../package.json');
  // a reader gone before the line is written (`tsync --version | true`) ends nothing badly: the same rule as
  // every other command's output (lineWriter, src/cli/io.ts); any other write error stays an error
  process.stdout.on('error', (e) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
  process.stdout.write(`${typeof version === 'string' ? version : '0.0.0'}\n`);
} else {
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
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
}
