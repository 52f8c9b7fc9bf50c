import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { StateError } from '../errors.js';
import { errCode } from '../fs/stat.js';

let bindingPath: string | undefined;

/** Where node-gyp (`npm install`, `npm rebuild`) and prebuild-install put better-sqlite3's compiled addon, in this order. */
const ADDON_BUILDS = ['Release', 'Debug'];

/**
 * better-sqlite3's options with the path of its compiled addon filled in. Without the path, better-sqlite3 finds the
 * addon through the `bindings` package, which loads two more modules and stats a dozen candidate paths on every
 * start-up (issue 11), and which cannot find it at all from the CLI's bundle, which holds better-sqlite3's JavaScript
 * (scripts/bundle.mjs): `bindings` looks beside the module that asks, and from the bundle that is tsync's own package.
 * So an addon found in neither build folder is a one-line error that says where it looked (exit 2, like any index
 * that cannot be opened), not `bindings`' list of tsync's folders.
 */
export function withNativeBinding(options: Database.Options): Database.Options {
  if (bindingPath === undefined) {
    const packageDir = dirname(betterSqlitePackageJson());
    const found = addonPathIn(packageDir);
    if (found === null)
      throw new StateError(
        `cannot open the index: better-sqlite3's compiled addon is in neither ${join(packageDir, 'build', 'Release')} nor build/Debug (run \`npm rebuild better-sqlite3\`)`,
      );
    bindingPath = found;
  }
  return { ...options, nativeBinding: bindingPath };
}

/** The compiled addon under better-sqlite3's package folder `packageDir`, or null when it has none built. */
export function addonPathIn(packageDir: string): string | null {
  for (const build of ADDON_BUILDS) {
    const addon = join(packageDir, 'build', build, 'better_sqlite3.node');
    if (existsSync(addon)) return addon;
  }
  return null;
}

function betterSqlitePackageJson(): string {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3/package.json');
  } catch (e) {
    throw new StateError(`cannot open the index: better-sqlite3 is not installed beside tsync (${errCode(e)})`);
  }
}
