// A remote side's xattrs read after its walk (remote/remote-endpoint.ts, scan/late-xattrs.ts): the agent has no index
// to vouch with, so its walk reads none, and the client asks for the digests its index does not vouch for. The built
// CLI and agent bundle, reached through the ssh stand-in; real trees, real xattrs, a real index.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import type { ScanResult } from '../../src/scan/scan.js';
import { type CliResult, makeTempDir, removeTempDir, runCli, sandbox } from '../helpers/cli.js';
import { KEEP_ALL, NO_RULES, xattrDump, xattrTaggedTree } from '../helpers/metadata.js';
import { remoteSide, standinSsh } from '../helpers/remote-side.js';
import { put } from '../helpers/tree.js';

// the BUILT modules (npm run build first, as for every remote test): the bootstrap sends the bundle beside them, dist/agent
const built = async <M>(path: string): Promise<M> => (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as M;
const { openPair } = await built<typeof import('../../src/sync/pair.js')>('sync/pair.js');
const { filterOf, scanBothSides } = await built<typeof import('../../src/sync/scan-pair.js')>('sync/scan-pair.js');
const { LocalEndpoint } = await built<typeof import('../../src/endpoint/local-endpoint.js')>('endpoint/local-endpoint.js');

function sync(env: Record<string, string>, state: string, args: readonly string[]): CliResult {
  const r = runCli(['sync', '--ssh', standinSsh, '--state-dir', state, ...args], { env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const digests = (scan: ScanResult): Record<string, string | undefined> => Object.fromEntries([...scan.entries].map(([p, e]) => [p, e.entry.kind === 'symlink' ? 'a link' : e.entry.xattrs]));

describe('xattrs of a remote side', () => {
  it('each far entry gets the digest a walk of its own root gives, vouched or read late, before and after the attributes change', async () => {
    const side = remoteSide();
    // the pair opened in this process runs the bootstrap through the stand-in in this environment
    vi.stubEnv('XDG_CACHE_HOME', side.cache);
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const sb = sandbox();
    mkdirSync(sb.dst);
    xattrTaggedTree(sb.src);
    sync(side.env, sb.state, [sb.src, `127.0.0.1:${sb.dst}`]);
    // after the sync the index vouches for every far entry; these two it no longer can (their ctimes moved)
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'changed', `${sb.dst}/d0/f3`]);
    execFileSync('setfattr', ['-n', 'user.added', '-v', 'new', `${sb.dst}/d2/f5`]);
    put(sb.dst, 'd1/fresh', 'no row in the index\n');
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'on a new file', `${sb.dst}/d1/fresh`]);

    // keep (beside the pair's options, as a run's settings carry it): the far side is offered our xattr library
    const options = {
      left: sb.src,
      right: `127.0.0.1:${sb.dst}`,
      mode: 'two-way' as const,
      stateDir: sb.state,
      force: false,
      waitSeconds: 0,
      dryRun: true,
      sshCommand: standinSsh,
      keep: KEEP_ALL,
    };
    const pair = await openPair(options);
    onTestFinished(() => pair.close());
    const s = { checksum: false, filters: NO_RULES, keep: KEEP_ALL };
    const got = await scanBothSides(pair, s, filterOf(pair, s));
    expect(got.way).toBe('remote');
    const own = await new LocalEndpoint(sb.dst as AbsPath).scan({ side: 'right', vouch: null, keep: KEEP_ALL });
    const far = digests(got.right);
    expect(far).toEqual(digests(own));
    expect(far['d0/f3' as RelPath]).not.toBe(digests(got.left)['d0/f3' as RelPath]);
    expect(far['d2/f5' as RelPath]).toMatch(/^[0-9a-f]{16}$/);
    expect(far['d1/fresh' as RelPath]).toMatch(/^[0-9a-f]{16}$/);
    expect(far['d1' as RelPath]).toBe(digests(got.left)['d1' as RelPath]);

    // with an index of no rows (a first sync) the far walk reads them itself: the same digests
    const fresh = await openPair({ ...options, stateDir: `${sb.state}-fresh` });
    onTestFinished(() => fresh.close());
    expect(fresh.indexedPaths).toBe(0);
    expect(digests((await scanBothSides(fresh, s, filterOf(fresh, s))).right)).toEqual(digests(own));
  });

  it('a change to a far file’s xattrs alone reaches the local side in a two-way sync, and the next run is a no-op', () => {
    const dir = makeTempDir('tsync-late-xattrs-');
    onTestFinished(() => removeTempDir(dir));
    const side = remoteSide();
    const [near, far, state] = ['near', 'far', 'state'].map((n) => join(dir, n)) as [string, string, string];
    xattrTaggedTree(near);
    mkdirSync(far);
    sync(side.env, state, [near, `127.0.0.1:${far}`]);
    const before = xattrDump(join(near, 'd0/f3'));
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'changed far away', `${far}/d0/f3`]);
    const second = sync(side.env, state, [near, `127.0.0.1:${far}`]);
    expect(second.stdout).toMatch(/1 metadata update/);
    expect(xattrDump(join(near, 'd0/f3'))).toBe(xattrDump(join(far, 'd0/f3')));
    expect(xattrDump(join(near, 'd0/f3'))).not.toBe(before);
    expect(sync(side.env, state, [near, `127.0.0.1:${far}`]).stdout).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates/);
  });
});
