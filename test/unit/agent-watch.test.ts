// The agent's watch served in-process (remote/agent-serve.ts) to a RemoteEndpoint over two node:stream
// PassThroughs (the same framing and backpressure as the ssh pipes; only ssh itself is left out, which
// test/remote/remote-watch.test.ts covers): hints arrive batched, and a failure of the far watch travels too.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, Side } from '../../src/core/types.js';
import { serveAgent } from '../../src/remote/agent-serve.js';
import { engineErrorFromWire } from '../../src/remote/engine-errors.js';
import { RemoteEndpoint } from '../../src/remote/remote-endpoint.js';
import { RpcPeer } from '../../src/remote/rpc-peer.js';
import { until } from '../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agentFor(root: string): Promise<{ peer: RpcPeer; endpoint: RemoteEndpoint }> {
  const up = new PassThrough();
  const down = new PassThrough();
  const served = serveAgent(up, down);
  const peer = new RpcPeer(down, up, { errorFromWire: engineErrorFromWire });
  await peer.call('open', { path: root, mayBeMissing: false });
  const endpoint = new RemoteEndpoint(peer, root as AbsPath, async () => peer.close());
  cleanups.push(async () => {
    await endpoint.close();
    await served;
  });
  return { peer, endpoint };
}

describe('the agent watch', () => {
  it('sends a burst of changes as a few batches of hints, not one call per event', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsync-agent-watch-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'd'));
    const { peer, endpoint } = await agentFor(root);
    const hinted = new Set<string>();
    const sides = new Set<Side>();
    const w = await endpoint.watch('right', undefined, {
      onHint: (side, path) => {
        sides.add(side);
        hinted.add(path ?? '');
      },
      onFailure: (_side, message) => {
        throw new Error(`unexpected failure: ${message}`);
      },
    });
    const framesBefore = peer.stats.framesReceived;
    const names = Array.from({ length: 200 }, (_, i) => `d/f${i}`);
    for (const n of names) writeFileSync(join(root, n), n);
    await until(
      () => names.every((n) => hinted.has(n)),
      20_000,
      () => `${names.filter((n) => !hinted.has(n)).length} of ${names.length} files never hinted`,
    );
    // each batch is one call frame from the agent (our replies go the other way); 200 files make 400+ events (fewer
    // than the 256 a directory collapses above, so every name is hinted as itself)
    const calls = peer.stats.framesReceived - framesBefore;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(30);
    expect([...sides]).toEqual(['right']);
    // a directory made after the watch began is watched too: a file in it is hinted
    mkdirSync(join(root, 'later'));
    await until(
      () => hinted.has('later'),
      20_000,
      () => 'the new directory was never hinted',
    );
    expect(await w.adopt(new Set(['d', 'later'] as RelPath[]))).toEqual([]);
    await w.close();
  });

  it('tells the client when the far root goes away', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'tsync-agent-watch-'));
    cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
    const root = join(parent, 'root');
    mkdirSync(root);
    const { endpoint } = await agentFor(root);
    const failures: string[] = [];
    await endpoint.watch('left', undefined, { onHint: () => undefined, onFailure: (_side, message) => failures.push(message) });
    rmSync(root, { recursive: true });
    await until(
      () => failures.length > 0,
      20_000,
      () => 'no failure arrived',
    );
    expect(failures[0]).toMatch(/^remote: the root .* was removed/);
  });
});
