import type * as FsPromises from 'node:fs/promises';
import { createRequire } from 'node:module';

let loaded: typeof FsPromises | undefined;

/**
 * `node:fs/promises`, loaded on first use. Node loads it with readline's interface and a dozen stream modules
 * (for FileHandle.readLines and streams), 2-3 ms of a command's start-up on the 2-core machine (issue 11), and
 * only some runs use it: hashing a file whose stat changed, a large file's copy, a flush, a leftover temp file.
 * A no-op run and `tsync status` do not. Each call reads the module's property then, so a test layer that wraps
 * the module's functions (test/faults/fault-layer.mjs) is met exactly as by a static import.
 */
export function fsPromises(): typeof FsPromises {
  loaded ??= createRequire(import.meta.url)('node:fs/promises') as typeof FsPromises;
  return loaded;
}
