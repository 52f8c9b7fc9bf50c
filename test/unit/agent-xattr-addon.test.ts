// The agent's cache of the near side's xattr binary (src/remote/agent-xattr-addon.ts), on a real temp directory with
// the real binary npm installed here. The host is passed in: this test process has the library itself, so "the agent
// has none" and "the agent is another platform" are stated, not made (nothing else is stood in for).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentHost, installAddon, takeCachedAddon } from '../../src/remote/agent-xattr-addon.js';
import { localXattrAddon, platformTag, type XattrAddon } from '../../src/remote/xattr-addon.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

let dir: string;
let host: AgentHost;
beforeEach(() => {
  dir = makeTempDir('tsync-addon-');
  host = { hasNative: false, platform: platformTag(), dir: join(dir, 'cache', 'tsync') };
});
afterEach(() => removeTempDir(dir));

function addon(): XattrAddon {
  const a = localXattrAddon();
  if (a === null) throw new Error('no @napi-rs/xattr platform package installed here');
  return a;
}

const offerOf = (a: XattrAddon) => ({ name: a.name, sha256: a.sha256, platform: a.platform });
const cached = (): string[] => {
  try {
    return readdirSync(host.dir);
  } catch {
    return [];
  }
};

describe('the xattr binary an agent without its own library is offered', () => {
  it('is this machine’s platform package, named by its tag and sha256', () => {
    const a = addon();
    expect(a.name).toMatch(new RegExp(`^xattr-${platformTag()}(-gnu|-musl)?-${a.sha256.slice(0, 16)}\\.node$`));
    expect(a.bytes.length).toBeGreaterThan(10_000);
  });

  it('is asked for once, cached privately and whole, then loaded from the cache', () => {
    const a = addon();
    expect(takeCachedAddon(offerOf(a), host)).toBe('needed');
    expect(installAddon(offerOf(a), a.bytes, host)).toBe(true);
    expect(cached()).toEqual([a.name]);
    const path = join(host.dir, a.name);
    expect(readFileSync(path).equals(a.bytes)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(host.dir).mode & 0o777).toBe(0o700);
    expect(takeCachedAddon(offerOf(a), host)).toBe('loaded');
  });

  it('is never loaded when the cached file is not the one offered: it is removed and asked for again', () => {
    const a = addon();
    installAddon(offerOf(a), a.bytes, host);
    const path = join(host.dir, a.name);
    const torn = a.bytes.subarray(0, a.bytes.length >> 1);
    writeFileSync(path, torn);
    expect(takeCachedAddon(offerOf(a), host)).toBe('needed');
    expect(cached()).toEqual([]);
  });

  it('is of no use on another platform, or where the agent has its own library: nothing is written', () => {
    const a = addon();
    const elsewhere = { ...host, platform: 'plan9-mips' };
    expect(takeCachedAddon(offerOf(a), elsewhere)).toBe('unusable');
    expect(installAddon(offerOf(a), a.bytes, elsewhere)).toBe(false);
    expect(takeCachedAddon(offerOf(a), { ...host, hasNative: true })).toBe('native');
    expect(installAddon(offerOf(a), a.bytes, { ...host, hasNative: true })).toBe(true);
    expect(cached()).toEqual([]);
  });

  it('is refused, before anything is written, when its name could leave the cache or its bytes are not the ones offered', () => {
    const a = addon();
    for (const name of ['../xattr-linux-x64-gnu-0123456789abcdef.node', 'xattr-linux-x64-gnu-0123456789abcdef.so', `xattr-x-${'0'.repeat(16)}.node`]) {
      expect(() => takeCachedAddon({ ...offerOf(a), name }, host)).toThrow(/an xattr addon named/);
      expect(() => installAddon({ ...offerOf(a), name }, a.bytes, host)).toThrow(/an xattr addon named/);
    }
    expect(() => installAddon(offerOf(a), Buffer.concat([a.bytes, Buffer.of(0)]), host)).toThrow(/not the one offered/);
    expect(cached()).toEqual([]);
  });

  it('that does not load here (not a library at all) leaves the agent without xattrs, and says so', () => {
    const junk = Buffer.from('not an ELF file\n');
    const sha256 = createHash('sha256').update(junk).digest('hex');
    const offer = { name: `xattr-${platformTag()}-gnu-${sha256.slice(0, 16)}.node`, sha256, platform: platformTag() };
    expect(installAddon(offer, junk, host)).toBe(false);
    expect(takeCachedAddon(offer, host)).toBe('unusable');
  });
});
