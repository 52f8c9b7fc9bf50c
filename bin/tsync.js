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
  });
}
