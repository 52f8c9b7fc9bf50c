import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';

let bindingPath: string | null | undefined;

/**
 * better-sqlite3's options with the path of its compiled addon filled in, when it sits where
 * `npm install` builds it. Without the path, better-sqlite3 finds the addon through the `bindings`
 * package, which loads two more modules and stats a dozen candidate paths on every start-up: part of
 * every command's start-up (issue 11). Anywhere else (a debug build, another layout) the option is left
 * out and better-sqlite3 searches as it always did.
 */
export function withNativeBinding(options: Database.Options): Database.Options {
  if (bindingPath === undefined) bindingPath = builtAddonPath();
  return bindingPath === null ? options : { ...options, nativeBinding: bindingPath };
}

function builtAddonPath(): string | null {
  try {
    const packageDir = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
    const addon = join(packageDir, 'build', 'Release', 'better_sqlite3.node');
    return existsSync(addon) ? addon : null;
  } catch {
    return null;
  }
}
