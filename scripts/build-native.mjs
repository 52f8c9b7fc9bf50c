// `npm install` runs this (the `install` script): it compiles native/list_dir.c, the scan's directory listing
// (src/fs/native-listing.ts), with node-gyp, which npm ships. tsync runs without it: a build that fails prints
// why and leaves the scan on Node's lstat (slower, the same results), and `tsync doctor` says which one runs.
// TSYNC_NATIVE_BUILD=required makes a failed build fail the install (CI, where the tests expect the addon).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// npm names its node-gyp in the scripts it runs; run by hand, the one in npm's own folder beside node
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = [process.env.npm_config_node_gyp, bundled].find((p) => p !== undefined && existsSync(p));
const [command, args] = gyp === undefined ? ['node-gyp', ['rebuild']] : [process.execPath, [gyp, 'rebuild']];
const run = spawnSync(command, args, { stdio: 'inherit' });
if (run.status !== 0) {
  const why = run.error === undefined ? `exit ${run.status ?? run.signal}` : run.error.message;
  if (process.env.TSYNC_NATIVE_BUILD === 'required') {
    console.error(`tsync: the native directory listing failed to build (${why})`);
    process.exit(1);
  }
  console.warn(`tsync: the native directory listing was not built (${why}); scans use Node's lstat instead (slower, same results)`);
}
