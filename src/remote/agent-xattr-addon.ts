// The far side of xattr-addon.ts: an agent running from its bundle alone takes the near side's @napi-rs/xattr binary,
// keeps it in the cache beside the bundle (`${XDG_CACHE_HOME:-~/.cache}/tsync/`), and loads it. Like the bundle, a
// cached file is checked against its sha256 before it is used (a torn or altered file is removed, never loaded) and
// written as a private temp file renamed into place, so concurrent agents see no file or the whole one.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { useXattrAddonAt, xattrsAvailable } from '../fs/xattrs.js';
import { ProtocolError } from './protocol-error.js';
import { ADDON_NAME, MAX_ADDON_BYTES, platformTag, type XattrAddonOffer } from './xattr-addon.js';

/**
 * What the agent's xattrs stand on after an offer: its own library ('native': a tsync installed there), the offered
 * binary from its cache ('loaded'), none yet but the binary would be of use ('needed': the client then sends it), or
 * none ('unusable': another platform, or a binary that does not load here).
 */
export type AddonState = 'native' | 'loaded' | 'needed' | 'unusable';

/** What the agent's machine is, as far as the offer goes (passed in by the tests, which run where the library is). */
export interface AgentHost {
  /** Its own xattr library loads (a tsync is installed there). */
  readonly hasNative: boolean;
  readonly platform: string;
  /** The cache directory the bundle is kept in. */
  readonly dir: string;
}

export function thisHost(): AgentHost {
  const base = process.env.XDG_CACHE_HOME;
  return { hasNative: xattrsAvailable(), platform: platformTag(), dir: join(base !== undefined && base !== '' ? base : join(homedir(), '.cache'), 'tsync') };
}

function checkOffer(offer: XattrAddonOffer): void {
  if (!ADDON_NAME.test(offer.name) || !/^[0-9a-f]{64}$/.test(offer.sha256) || !offer.name.endsWith(`-${offer.sha256.slice(0, 16)}.node`))
    throw new ProtocolError(`an xattr addon named ${JSON.stringify(offer.name)} with sha256 ${JSON.stringify(offer.sha256)}`);
}

const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Uses the offered binary if it is cached here and whole; says whether it is needed otherwise. */
export function takeCachedAddon(offer: XattrAddonOffer, host: AgentHost = thisHost()): AddonState {
  checkOffer(offer);
  if (host.hasNative) return 'native';
  if (offer.platform !== host.platform) return 'unusable';
  const path = join(host.dir, offer.name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return 'needed';
  }
  if (sha256Of(bytes) !== offer.sha256) {
    // torn or altered: never loaded; the client sends it again (and the rename replaces it if this unlink could not)
    try {
      unlinkSync(path);
    } catch {}
    return 'needed';
  }
  return useXattrAddonAt(path) ? 'loaded' : 'unusable';
}

/** Caches the binary the client sent (after checking it is the one offered) and loads it; true if xattrs now work. */
export function installAddon(offer: XattrAddonOffer, bytes: Buffer, host: AgentHost = thisHost()): boolean {
  checkOffer(offer);
  if (bytes.length > MAX_ADDON_BYTES) throw new ProtocolError(`an xattr addon of ${bytes.length} bytes`);
  if (sha256Of(bytes) !== offer.sha256) throw new ProtocolError('the xattr addon sent is not the one offered (sha256)');
  if (host.hasNative) return true;
  if (offer.platform !== host.platform) return false;
  const dir = host.dir;
  const path = join(dir, offer.name);
  const tmp = `${path}.tmp-${process.pid}`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return useXattrAddonAt(path);
}
