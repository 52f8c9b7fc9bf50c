// A far side with nothing but Node keeps extended attributes: the agent, running from its bundle, is sent this
// machine's xattr binary once and caches it (src/remote/xattr-addon.ts, agent-xattr-addon.ts). The built CLI runs
// through the ssh stand-in against a far side whose PATH holds node and no tsync; trees, xattrs and the cache are real.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type CliResult, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { xattrDump } from '../helpers/metadata.js';
import { remoteSide, standinSsh } from '../helpers/remote-side.js';
import { put } from '../helpers/tree.js';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as { setAttributeSync(path: string, name: string, value: Buffer): void };

function sync(env: Record<string, string>, state: string, args: readonly string[]): CliResult {
  const r = runCli(['sync', '--one-way', '--ssh', standinSsh, '--state-dir', state, ...args], { env: { ...env, TSYNC_TIMINGS: '1' }, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const bytesSent = (r: CliResult): number => Number(/remote link: (\d+) bytes sent/.exec(r.stderr)?.[1] ?? Number.NaN);
const addonsIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('xattr-') && n.endsWith('.node'));

describe('a far side without tsync installed', () => {
  it('is sent the xattr binary once, caches it, and keeps xattrs and POSIX ACLs as a local replica does', () => {
    const dir = makeTempDir('tsync-addon-e2e-');
    onTestFinished(() => removeTempDir(dir));
    const side = remoteSide();
    const [near, far, state] = ['near', 'far', 'state'].map((n) => join(dir, n)) as [string, string, string];
    put(near, 'a.txt', 'a\n');
    put(near, 'sub/b.txt', 'b\n');
    xattr.setAttributeSync(join(near, 'a.txt'), 'user.note', Buffer.from('first'));
    xattr.setAttributeSync(join(near, 'sub'), 'user.dir', Buffer.from('on a directory'));
    execFileSync('setfacl', ['-m', 'u:65534:r', join(near, 'sub/b.txt')]);

    const first = sync(side.env, state, [near, `127.0.0.1:${far}`]);
    expect(first.stderr).not.toMatch(/extended attributes are not kept/);
    for (const p of ['a.txt', 'sub', 'sub/b.txt']) expect(xattrDump(join(far, p)), p).toBe(xattrDump(join(near, p)));
    expect(xattrDump(join(far, 'a.txt'))).toContain('user.note');
    expect(xattrDump(join(far, 'sub/b.txt'))).toContain('system.posix_acl_access');
    const [cachedName] = addonsIn(side.agentCache);
    expect(addonsIn(side.agentCache)).toHaveLength(1);
    const cachedAt = statSync(join(side.agentCache, cachedName as string)).mtimeMs;

    // an attribute change alone is a change to sync, and the binary does not travel again
    xattr.setAttributeSync(join(near, 'a.txt'), 'user.note', Buffer.from('second'));
    const second = sync(side.env, state, [near, `127.0.0.1:${far}`]);
    expect(xattrDump(join(far, 'a.txt'))).toBe(xattrDump(join(near, 'a.txt')));
    expect(bytesSent(second)).toBeLessThan(64 * 1024);
    expect(bytesSent(first)).toBeGreaterThan(bytesSent(second) + 100 * 1024);
    expect(statSync(join(side.agentCache, cachedName as string)).mtimeMs).toBe(cachedAt);
  });

  it('is sent nothing with --no-xattrs', () => {
    const dir = makeTempDir('tsync-addon-e2e-');
    onTestFinished(() => removeTempDir(dir));
    const side = remoteSide();
    const [near, far, state] = ['near', 'far', 'state'].map((n) => join(dir, n)) as [string, string, string];
    put(near, 'a.txt', 'a\n');
    xattr.setAttributeSync(join(near, 'a.txt'), 'user.note', Buffer.from('kept here only'));
    const r = sync(side.env, state, ['--no-xattrs', near, `127.0.0.1:${far}`]);
    expect(r.stderr).not.toMatch(/warning/);
    expect(xattrDump(join(far, 'a.txt'))).toBe('');
    expect(addonsIn(side.agentCache)).toEqual([]);
  });
});
