import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';

let bindingPath: string | null | undefined;

/** Where node-gyp (`npm install`, `npm rebuild`) and prebuild-install put better-sqlite3's compiled addon. */
const ADDON_BUILDS = ['Release', 'Debug'];

/**
 * better-sqlite3's options with the path of its compiled addon filled in. Without the path, better-sqlite3
 * finds the addon through the `bindings` package, which loads two more modules and stats a dozen candidate
 * paths on every start-up (issue 11). The path matters more since the CLI's bundle holds better-sqlite3's
 * JavaScript (scripts/bundle.mjs): `bindings` looks for the addon beside the module that asks for it, and
 * from the bundle that is tsync's own package. So an addon found nowhere here leaves the option out, and
 * opening the index then fails with `bindings`' list of the places it tried.
 */
export function withNativeBinding(options: Database.Options): Database.Options {
  if (bindingPath === undefined) bindingPath = builtAddonPath();
  return bindingPath === null ? options : { ...options, nativeBinding: bindingPath };
}

function builtAddonPath(): string | null {
  try {
    const packageDir = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
    const built = ADDON_BUILDS.map((b) => join(packageDir, 'build', b, 'better_sqlite3.node'));
    return built.find((addon) => existsSync(addon)) ?? null;
  } catch {
    return null;
  }
}
