// The near side's copy of the @napi-rs/xattr binary, offered to an agent that runs from its bundle alone: the bundle
// carries no native code (the far side needs nothing but Node), so without this a far side where tsync is not installed
// could not keep extended attributes and ACLs. The binary is the platform package npm installed here
// (`@napi-rs/xattr-<platform>-<arch>[-<libc>]`); it is N-API, so one build serves every Node version. It is of use only
// to a far machine of the same platform and architecture (agent-xattr-addon.ts checks that, and a libc that differs
// fails to load there, which is then the same as having none).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface XattrAddonOffer {
  /** Its file name in the far cache: `xattr-<tag>-<sha256 prefix>.node`. */
  readonly name: string;
  readonly sha256: string;
  /** `process.platform-process.arch` of this machine: the far side must be the same. */
  readonly platform: string;
}

export interface XattrAddon extends XattrAddonOffer {
  readonly bytes: Buffer;
}

/** The far cache's name of an addon: `xattr-` then the package's tag, then 16 hex digits of its sha256. */
export const ADDON_NAME = /^xattr-[a-z0-9-]{1,64}-[0-9a-f]{16}\.node$/;

/** Larger than any build of the library (about 0.5 MB): a bound on what an agent accepts. */
export const MAX_ADDON_BYTES = 8 * 1024 * 1024;

export function platformTag(): string {
  return `${process.platform}-${process.arch}`;
}

let found: XattrAddon | null | undefined;

/** The binary this machine's @napi-rs/xattr loads, read once per process; null where there is none. */
export function localXattrAddon(): XattrAddon | null {
  if (found === undefined) found = findAddon();
  return found;
}

function findAddon(): XattrAddon | null {
  const require = createRequire(import.meta.url);
  // the libc suffix (gnu, musl) is in the package's name on Linux only; npm installed the one that fits this machine
  for (const suffix of ['-gnu', '-musl', '']) {
    const pkg = `@napi-rs/xattr-${platformTag()}${suffix}`;
    try {
      const manifest = require.resolve(`${pkg}/package.json`);
      const { main } = JSON.parse(readFileSync(manifest, 'utf8')) as { main?: unknown };
      if (typeof main !== 'string' || !main.endsWith('.node')) continue;
      const bytes = readFileSync(join(dirname(manifest), main));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      return { name: `xattr-${platformTag()}${suffix}-${sha256.slice(0, 16)}.node`, sha256, platform: platformTag(), bytes };
    } catch {
      // not installed under this name: try the next
    }
  }
  return null;
}
