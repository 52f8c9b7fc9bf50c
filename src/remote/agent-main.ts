// The entry point of the single-file agent bundle (dist/agent/tsync-agent.mjs, scripts/bundle.mjs), which the
// bootstrap sends to a far side that has no tsync installed:
//   node tsync-agent.mjs agent             print the preamble line, then serve frames on stdin/stdout
//   node tsync-agent.mjs agent --protocol  print the protocol version and exit (what `tsync agent --protocol` prints)
// The bundle sits alone in a cache directory, with no package.json beside it: its version is put in at build time.
import { runAgent } from './agent-run.js';

// Replaced by esbuild's `define` when bundled; undefined when this file runs from dist/ (then package.json is read).
declare const TSYNC_BUNDLED_VERSION: string | undefined;

async function bundledVersion(): Promise<string> {
  if (typeof TSYNC_BUNDLED_VERSION === 'string') return TSYNC_BUNDLED_VERSION;
  const { packageVersion } = await import('../cli/version.js');
  return packageVersion();
}

const args = process.argv.slice(2);
if (args[0] !== 'agent' || args.length > 2 || (args.length === 2 && args[1] !== '--protocol')) {
  process.stderr.write('usage: node tsync-agent.mjs agent [--protocol]\n');
  process.exitCode = 2;
} else {
  process.exitCode = await runAgent({ protocolOnly: args[1] === '--protocol', version: await bundledVersion() });
}
