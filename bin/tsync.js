#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ and bundled into dist/bundle/ by `npm run build`
// (run by `prepare` on install; scripts/bundle.mjs says why it is bundled).
import module from 'node:module';

// Node >= 22.1 can keep V8's compiled code for our modules between runs (in the OS temp dir), which
// takes most of the module-loading cost off every short command, as TypeScript's tsc does. Node 20 has
// no such cache; there the bundle's lazy chunks are what keeps start-up small.
module.enableCompileCache?.();

const { main } = await import('../dist/bundle/main.js');
process.exitCode = await main(process.argv);
