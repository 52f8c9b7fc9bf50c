#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from tsc) into dist/bundle/, which bin/tsync.js runs. Why: Node 20
// has no compile cache, and resolving, reading and compiling ~50 small ES modules one by one was the
// largest part of a short command's start-up (bench/results-startup.md).
//
// One CommonJS file per entry point, not ES modules split into chunks (issue 11). Node's ES module loader
// resolves, reads (through fs/promises), links and compiles every chunk on its own, and a chunk that
// imports a CommonJS package has that package's source parsed once more for its export names. Measured on
// the 2-core machine this was built on (hyperfine, both builds in one run): `tsync status` on an empty pair
// 224 ms with the chunks against 194 ms with one CommonJS file, a 10k-file no-op sync 594 against 515 ms. A
// single file is read and compiled in one go (V8 compiles a function's body only when it first runs), and
// esbuild still defers each module reached only through a dynamic import() until that import runs: a local
// sync never runs the remote-root modules nor the watch code (`test/e2e/lazy-modules.test.ts` records which
// modules run), and bin/tsync.js answers `--version` without the bundle. The cost: 3-5 MB more peak RSS, the
// optimizing compiler's scratch memory kept by glibc in V8's background threads' arenas (bench/README.md).
// dist/bundle/package.json says `"type": "commonjs"`, so these .js files are CommonJS although the
// package's own are ES modules; bin/tsync.js is CommonJS the same way (bin/package.json).
//
// better-sqlite3's JavaScript is in the bundle: loaded from node_modules it was 15 small CommonJS files, each
// resolved, read and compiled on its own (about 7 ms of every command that opens the index, issue 11). Its native
// addon is not: store/sqlite-binding.ts hands better-sqlite3 the addon's path in the installed package, and
// `bindings` (better-sqlite3's own addon finder, used only without that path) stays external.
// Left out of the bundle, loaded from node_modules at run time as before:
// - ignore: loaded with require() on the first filter rule (path-filter.ts);
// - @napi-rs/xattr: a native addon (prebuilt, per platform), loaded on the first xattr call (fs/xattrs.ts).
// dist/ itself stays: the tests and the benchmark import its modules directly.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
// Entry points: the CLI, plus every module that is started by file name at run time (a worker thread
// is given a file, not an import), so it exists beside the chunks that import.meta.url points into.
const entryPoints = [join(root, 'dist', 'cli', 'main.js'), join(root, 'dist', 'scan', 'scan-worker.js'), join(root, 'dist', 'engine', 'copy-worker.js')].filter((f) => existsSync(f));

/**
 * commander requires node:child_process when it loads, for executable subcommands (`git-foo` style), which
 * tsync has none of; that require brings net, dgram and a dozen internal modules (about 10 ms of every
 * command's start-up, issue 11). This hands commander an object whose `spawn` loads the module when first
 * read. If commander's source no longer has that line, the bundle is built as it is, with a warning.
 * @returns {import('esbuild').Plugin}
 */
function lazyChildProcessInCommander() {
  const eager = "const childProcess = require('node:child_process');";
  const lazy = "const childProcess = { get spawn() { return require('node:child_process').spawn; } };";
  return {
    name: 'lazy-child-process-in-commander',
    setup(b) {
      b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(eager)) return { contents: source, loader: 'js', warnings: [{ text: `commander's child_process require not found: it stays eager (${args.path})` }] };
        if (/childProcess\.(?!spawn\()/.test(source)) return { contents: source, loader: 'js', warnings: [{ text: 'commander uses more of child_process than spawn: it stays eager' }] };
        return { contents: source.replace(eager, lazy), loader: 'js' };
      });
    },
  };
}

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
await build({
  entryPoints,
  outdir,
  // flat: every entry directly in dist/bundle/, so `new URL('./x.js', import.meta.url)` in any of them finds an
  // entry, and `../../package.json` is the package's from every file
  entryNames: '[name]',
  bundle: true,
  splitting: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['bindings', 'ignore', '@napi-rs/xattr'],
  // A CommonJS file has no import.meta: its URL is the file's own, as import.meta.url was each chunk's. The
  // banner comes before esbuild's own "use strict", so it says it first: the code was written as ES modules,
  // which are always strict, and a directive after a statement is no directive.
  define: { 'import.meta.url': 'tsyncImportMetaUrl' },
  banner: { js: "'use strict';\nvar tsyncImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Whitespace and comments out (0.89 MB to 0.63 MB, better-sqlite3's JavaScript included): every command reads the whole file and V8 scans all of it,
  // about 3 ms of start-up per 0.3 MB on the 2-core machine (issue 11). Names stay as written, so a stack trace
  // still names its functions; esbuild's module markers (`__esm({"dist/x.js"() {`) stay too.
  minifyWhitespace: true,
  plugins: [lazyChildProcessInCommander()],
  logLevel: 'warning',
  legalComments: 'none',
});
assertAscii(join(outdir, 'main.js'));

/**
 * bin/load-bundle.js reads the CLI's bundle as latin1, which is the text itself only while every byte is ASCII.
 * esbuild escapes what is not ASCII in strings, regular expressions and names (its default charset), and the
 * comments that might hold some are gone with the whitespace, so this holds; a build that breaks it stops here.
 * @param {string} file
 */
function assertAscii(file) {
  const bytes = readFileSync(file);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at >= 0) throw new Error(`${file}: byte ${at} is not ASCII, and bin/load-bundle.js reads the bundle as latin1`);
}

// The remote agent (issue 15): ONE self-contained file, sent over ssh to a far side that has only Node and cached there
// (remote/bootstrap.ts). So: no code splitting, no chunk beside it, no package.json to read (the version is put in
// here), and no native addon. better-sqlite3 is refused outright (the index stays on the local side); @napi-rs/xattr
// stays external and optional: fs/xattrs.ts loads it with require() on first use, which fails, as it does today on a
// platform without a prebuilt addon, when the far side has no node_modules.
const agentEntry = join(root, 'dist', 'remote', 'agent-main.js');
const agentOut = join(root, 'dist', 'agent', 'tsync-agent.mjs');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
rmSync(dirname(agentOut), { recursive: true, force: true });
await build({
  entryPoints: [agentEntry],
  outfile: agentOut,
  bundle: true,
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/xattr'],
  define: { TSYNC_BUNDLED_VERSION: JSON.stringify(version) },
  banner: { js: "import { createRequire as tsyncCreateRequire } from 'node:module'; const require = tsyncCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'no-native-in-agent',
      setup(b) {
        b.onResolve({ filter: /^better-sqlite3$/ }, (args) => ({
          errors: [{ text: `the agent bundle must not depend on better-sqlite3 (imported by ${args.importer}): the index stays on the local side` }],
        }));
      },
    },
  ],
  logLevel: 'warning',
  legalComments: 'none',
});
