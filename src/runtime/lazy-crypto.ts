import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';

let loaded: typeof Crypto | undefined;

/**
 * `node:crypto`, loaded on first use. Loading it brings OpenSSL's bindings and some twenty internal modules, 7-14 ms
 * of a command's start-up on the 2-core machine (issue 11), and a local sync or `status` needs none of it
 * (hash/sha256.ts names the index, fs/random-hex.ts reads the kernel's random bytes): only an xattr set's digest
 * (fs/xattrs.ts) and the random fallback use it. test/e2e/lazy-modules.test.ts holds runs to not loading it.
 */
export function nodeCrypto(): typeof Crypto {
  loaded ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto;
  return loaded;
}
