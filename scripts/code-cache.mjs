#!/usr/bin/env node
// Keeps V8's compiled code for the CLI's bundle in dist/bundle/main.js.cache, for Node versions that keep none
// themselves (bin/load-bundle.js says why and how it is used). Run by `npm run build` after scripts/bundle.mjs.
//
// The code is what V8 compiled while the bundle ran a few commands over small trees in a temp dir (two-way and
// one-way syncs, a no-op, status), in a child process of its own: V8 refuses a cache made under other flags, so
// the child runs without NODE_OPTIONS and without the V8 flags the CLI sets as it runs (heap growth, young
// generation, a sync's interrupt budget: runtime/tier-up.ts), as a plain `node bin/tsync.js` compiles the bundle.
// A cache that cannot be made is left out with a warning: the CLI then compiles as before.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** @type {typeof import('../bin/load-bundle.js')} */
const loader = require('../bin/load-bundle.js');

if (process.argv[2] === '--train') await train(process.argv[3] ?? '');
else make();

function make() {
  rmSync(loader.CODE_CACHE, { force: true });
  if (typeof (/** @type {{ enableCompileCache?: unknown }} */ (require('node:module')).enableCompileCache) === 'function') return; // Node keeps its own
  const dir = mkdtempSync(join(tmpdir(), 'tsync-code-cache-'));
  try {
    /** @type {NodeJS.ProcessEnv} */
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSYNC_') && k !== 'NODE_OPTIONS'));
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--train', dir], {
      env: { ...env, TSYNC_HEAP_GROWING_PERCENT: '0', TSYNC_YOUNG_GENERATION_MB: '0', TSYNC_TIER_UP: 'v8' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      rmSync(loader.CODE_CACHE, { force: true });
      process.stderr.write(`code-cache: no code cache made (the CLI compiles its bundle at each start): ${(r.stderr || String(r.error ?? r.signal)).trim().split('\n')[0]}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {string} dir */
async function train(dir) {
  const loaded = loader.loadBundle({ useCache: false });
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const c = join(dir, 'c');
  const state = join(dir, 'state');
  for (const root of [b, c]) mkdirSync(root);
  for (let i = 0; i < 20; i++) {
    mkdirSync(join(a, `d${i % 4}`), { recursive: true });
    writeFileSync(join(a, `d${i % 4}`, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  }
  /** @param {string[]} args */
  const run = async (...args) => {
    const code = await loaded.exports.main([process.execPath, 'tsync', ...args]);
    if (code !== 0) throw new Error(`tsync ${args.join(' ')} exited ${code}`);
  };
  await run('sync', a, b, '--state-dir', state);
  writeFileSync(join(a, 'd1', 'f1.txt'), 'changed on a\n');
  writeFileSync(join(b, 'new-on-b.txt'), 'new on b\n');
  rmSync(join(b, 'd2', 'f2.txt'));
  await run('sync', a, b, '--state-dir', state);
  await run('sync', a, b, '--state-dir', state);
  await run('sync', '--one-way', a, c, '--state-dir', state);
  await run('status', a, b, '--state-dir', state);
  process.exitCode = 0;
  loader.writeCodeCache(loaded);
}
