// A pair with a remote side scans both roots at once: the far walk runs in the agent while this process walks the
// local root. The local walk is synchronous and holds the thread until it is done, so the scan request must already
// be on the wire when it starts, or the far walk would only begin after it. Real agent (the built bundle, reached
// through the ssh stand-in), real trees, real index; what is observed is the session's own count of bytes written.
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { RelPath } from '../../src/core/types.js';
import type { Endpoint } from '../../src/endpoint/endpoint.js';
import { makeTempDir, removeTempDir, sandbox } from '../helpers/cli.js';
import { standinSsh } from '../helpers/remote-side.js';
import { put } from '../helpers/tree.js';

// the BUILT modules (npm run build first, as for every remote test): the bootstrap sends the bundle beside them, dist/agent
const built = async <M>(path: string): Promise<M> => (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as M;
const { openPair } = await built<typeof import('../../src/sync/pair.js')>('sync/pair.js');
const { filterOf, scanBothSides } = await built<typeof import('../../src/sync/scan-pair.js')>('sync/scan-pair.js');
const { RemoteEndpoint } = await built<typeof import('../../src/remote/remote-endpoint.js')>('remote/remote-endpoint.js');

const settings = { checksum: false, filters: { exclude: [], include: [] } };

describe('scanning a pair with a remote side', () => {
  it('has sent the far scan request before the local walk starts', async () => {
    const cache = makeTempDir('tsync-overlap-cache-');
    onTestFinished(() => removeTempDir(cache));
    // the stand-in runs the bootstrap in this environment: its bundle cache goes to a temp dir
    vi.stubEnv('XDG_CACHE_HOME', cache);
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const sb = sandbox();
    for (let i = 0; i < 30; i++) {
      put(sb.src, `d${i % 3}/f${i}.txt`, `near ${i}\n`);
      put(sb.dst, `d${i % 3}/g${i}.txt`, `far ${i}\n`);
    }
    const pair = await openPair({ left: sb.src, right: `127.0.0.1:${sb.dst}`, mode: 'two-way', stateDir: sb.state, force: false, waitSeconds: 0, dryRun: true, sshCommand: standinSsh });
    onTestFinished(() => pair.close());
    const far = pair.endpoints.right;
    if (!(far instanceof RemoteEndpoint)) throw new Error('the right side should be remote');
    const near = pair.endpoints.left;
    const sentBeforeScan = far.linkStats.bytesSent;
    let sentWhenLocalWalkStarted = -1;
    const watchedNear: Endpoint = Object.create(near, {
      scan: {
        value: (...args: Parameters<Endpoint['scan']>) => {
          sentWhenLocalWalkStarted = far.linkStats.bytesSent;
          return near.scan(...args);
        },
      },
    });
    const watchedPair = Object.create(pair, { endpoints: { value: { left: watchedNear, right: far } } }) as typeof pair;
    const got = await scanBothSides(watchedPair, settings, filterOf(watchedPair, settings));
    expect(got.way).toBe('remote');
    expect(sentWhenLocalWalkStarted).toBeGreaterThan(sentBeforeScan);
    expect([...got.left.entries.keys()].filter((p) => p.endsWith('.txt')).length).toBe(30);
    expect(got.right.entries.has('d0/g0.txt' as RelPath)).toBe(true);
  });
});
