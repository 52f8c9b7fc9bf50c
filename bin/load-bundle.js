// Loads the CLI's bundle (dist/bundle/main.js) with V8's compiled code for it where Node does not keep that
// itself. Node >= 22.1 has module.enableCompileCache (a cache in the OS temp dir, as TypeScript's tsc uses it).
// Node 20 has none, and compiling the 0.9 MB bundle was the largest part of a short command's own start-up
// (issue 11: `tsync status` on an empty pair 1.9× `node -e 0`). So `npm run build` runs the CLI once over a
// few small trees and keeps what V8 compiled for it (scripts/code-cache.mjs), and this hands that to V8 when it
// compiles the bundle: V8 then skips parsing and compiling every function the cache holds.
//
// V8 checks that the cache comes from its own version and flags and refuses it otherwise (node started with
// other V8 flags compiles as before). It cannot tell a changed bundle of the same length from the one the cache
// was made for, so the cache names the bundle's size and modification time, and a cache made for another bundle
// is not used at all. TSYNC_CODE_CACHE=0 leaves it out (to compare, and for tests that instrument the bundle
// as Node's loader compiles it).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'bundle', 'main.js');
const CODE_CACHE = `${BUNDLE}.cache`;
/** The cache file starts with this, then one line of JSON naming the bundle it was made for, then V8's data. */
const MAGIC = 'tsync-code-cache-1 ';

/**
 * @typedef {{ readonly size: number, readonly mtimeMs: number, readonly node: string }} BundleStamp
 * @typedef {{ readonly exports: { main: (argv: string[]) => Promise<number> }, readonly codeCache: string, readonly script: vm.Script | null }} LoadedBundle
 */

/** @param {fs.Stats} st @returns {BundleStamp} */
function stampOf(st) {
  return { size: st.size, mtimeMs: st.mtimeMs, node: process.version };
}

/** The cache's V8 data if it was made for this bundle under this Node, else why not (for TSYNC_TIMINGS). */
function readCodeCache(/** @type {BundleStamp} */ stamp) {
  let bytes;
  try {
    bytes = fs.readFileSync(CODE_CACHE);
  } catch {
    return { data: undefined, state: 'absent' };
  }
  const end = bytes.indexOf(0x0a);
  if (end < 0 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) return { data: undefined, state: 'unreadable' };
  let made;
  try {
    made = JSON.parse(bytes.toString('utf8', MAGIC.length, end));
  } catch {
    return { data: undefined, state: 'unreadable' };
  }
  if (made?.size !== stamp.size || made?.mtimeMs !== stamp.mtimeMs || made?.node !== stamp.node) return { data: undefined, state: 'made for another bundle or Node' };
  return { data: bytes.subarray(end + 1), state: 'offered' };
}

/**
 * Compiles and runs the bundle as Node's CommonJS loader would (same wrapper, file name, require and module
 * objects), handing V8 the cache when `useCache`.
 * @param {boolean} useCache
 * @returns {LoadedBundle}
 */
function loadWithCodeCache(useCache) {
  const fd = fs.openSync(BUNDLE, 'r');
  let stamp;
  let source;
  try {
    stamp = stampOf(fs.fstatSync(fd));
    // latin1: the bundle is ASCII (scripts/bundle.mjs checks), so this is the same text as utf8 gives, copied
    // into a one-byte string without utf8's validation: about 3 ms less for the 0.6 MB (issue 11)
    source = fs.readFileSync(fd, 'latin1');
  } finally {
    fs.closeSync(fd);
  }
  const cache = useCache ? readCodeCache(stamp) : { data: undefined, state: 'not used' };
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData: cache.data });
  const codeCache = cache.data === undefined ? cache.state : script.cachedDataRejected === true ? 'rejected by V8' : 'used';
  const mod = new Module(BUNDLE);
  mod.filename = BUNDLE;
  const run = script.runInThisContext();
  run.call(mod.exports, mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE));
  mod.loaded = true;
  // anything that asks for the bundle by name gets this copy, as after a require()
  require.cache[BUNDLE] = mod;
  return { exports: mod.exports, codeCache, script };
}

/**
 * The bundle's exports, loaded the cheapest way this Node offers.
 * @param {{ readonly useCache?: boolean }} [o] useCache: false compiles without the cache (scripts/code-cache.mjs makes it so)
 * @returns {LoadedBundle}
 */
function loadBundle(o = {}) {
  // typed by hand: @types/node for Node 20 does not know it
  const enableCompileCache = /** @type {{ enableCompileCache?: () => unknown }} */ (/** @type {unknown} */ (Module)).enableCompileCache;
  if (typeof enableCompileCache === 'function') {
    enableCompileCache();
    return { exports: require(BUNDLE), codeCache: "Node's own compile cache", script: null };
  }
  if (process.env.TSYNC_CODE_CACHE === '0') return { exports: require(BUNDLE), codeCache: 'off (TSYNC_CODE_CACHE=0)', script: null };
  return loadWithCodeCache(o.useCache !== false);
}

/**
 * Writes what V8 has compiled of the bundle so far, for the bundle as it is on disk (temp file, then rename).
 * @param {LoadedBundle} loaded a bundle loaded by loadBundle on Node 20 (script not null)
 */
function writeCodeCache(loaded) {
  if (loaded.script === null) throw new Error(`no code cache to write: ${loaded.codeCache}`);
  const stamp = stampOf(fs.statSync(BUNDLE));
  const temp = `${CODE_CACHE}.${process.pid}.tmp`;
  fs.writeFileSync(temp, Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(stamp)}\n`), loaded.script.createCachedData()]));
  fs.renameSync(temp, CODE_CACHE);
}

module.exports = { loadBundle, writeCodeCache, BUNDLE, CODE_CACHE };
