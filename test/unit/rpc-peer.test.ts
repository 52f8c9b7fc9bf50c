// The RPC peer's stream edge cases, with two peers in this process joined by two in-memory streams (real
// node:stream PassThroughs, not mocks: the same backpressure and drain as a pipe, without a child).
// The child-process tests are in test/e2e/rpc-peer.test.ts.
import { PassThrough } from 'node:stream';
import { reportError } from '../../src/cli/report-error.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError, RemoteLostError } from '../../src/remote/protocol-error.js';
import { RpcPeer, withDownload, type RpcPeerOptions } from '../../src/remote/rpc-peer.js';
import type { CodecValue } from '../../src/remote/value-codec.js';
import { RemoteCallError } from '../../src/remote/wire-error.js';

const MiB = 1024 * 1024;
const open: RpcPeer[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

function pair(options: RpcPeerOptions = {}): { a: RpcPeer; b: RpcPeer; aToB: PassThrough } {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = new RpcPeer(bToA, aToB, options);
  const b = new RpcPeer(aToB, bToA, options);
  open.push(a, b);
  return { a, b, aToB };
}

/** A source that counts what was pulled from it. */
function counted(total: number): { chunks: AsyncGenerator<Buffer>; pulled: () => number; finished: () => boolean } {
  let pulled = 0;
  let finished = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (; pulled < total; ) {
        pulled += MiB;
        yield Buffer.alloc(MiB, pulled / MiB);
      }
    } finally {
      finished = true;
    }
  }
  return { chunks: chunks(), pulled: () => pulled, finished: () => finished };
}

/** Waits until `value` stops changing: the side that produces it is blocked. */
async function settled(value: () => number): Promise<number> {
  let seen = -1;
  while (value() !== seen) {
    seen = value();
    await sleep(100);
  }
  return seen;
}

describe('RPC peer streams', () => {
  it('lets a caller stop a download early; the sender stops and the session goes on', async () => {
    const { a, b } = pair();
    const source = counted(1024 * MiB);
    b.handle('big', () => withDownload('here', source.chunks));
    const { result, chunks } = await a.callWithDownload('big', null);
    expect(result).toBe('here');
    let got = 0;
    for await (const chunk of chunks) {
      got += chunk.length;
      if (got >= 3 * MiB) break;
    }
    await settled(source.pulled);
    expect(source.finished()).toBe(true);
    expect(source.pulled()).toBeLessThan(64 * MiB);
    b.handle('echo', (v) => v);
    expect(await a.call('echo', 'after')).toBe('after');
  });

  it('cancels an upload its handler did not read, and the caller stops sending it', async () => {
    // a small inbound limit: chunks left queued for a handler that is gone would stop the input for good
    const { a, b } = pair({ inboundHighWater: 256 * 1024 });
    b.handle('ignore', () => 'ignored');
    const source = counted(1024 * MiB);
    expect(await a.callWithUpload('ignore', null, source.chunks)).toBe('ignored');
    await settled(source.pulled);
    expect(source.finished()).toBe(true);
    expect(source.pulled()).toBeLessThan(64 * MiB);
    b.handle('echo', (v) => v);
    expect(await a.call('echo', 1n)).toBe(1n);
  });

  it("fails the call with the upload source's own error", async () => {
    const { a, b } = pair();
    b.handle('sum', async (_args, upload) => {
      let n = 0;
      for await (const c of upload ?? []) n += c.length;
      return n;
    });
    const readFailure = new Error('disk read failed');
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(10);
      throw readFailure;
    }
    // the caller's own error, not the handler's report of the aborted stream
    await expect(a.callWithUpload('sum', null, failing())).rejects.toBe(readFailure);
    expect(await a.call('sum', null).catch((e: unknown) => e)).toBe(0);
  });

  it('reports a result that cannot be encoded as the call error, not a dead session', async () => {
    const { a, b } = pair();
    b.handle('bad', () => new Date() as unknown as CodecValue);
    const e = await a.call('bad', null).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteCallError);
    expect((e as Error).message).toMatch(/cannot encode/);
    b.handle('echo', (v) => v);
    expect(await a.call('echo', null)).toBe(null);
  });

  it('stops reading its input while a download waits unread past the inbound limit', async () => {
    const { a, b } = pair({ inboundHighWater: 2 * MiB });
    const source = counted(256 * MiB);
    b.handle('big', () => withDownload(null, source.chunks));
    const { chunks } = await a.callWithDownload('big', null);
    const held = await settled(source.pulled);
    expect(held).toBeLessThan(32 * MiB);
    let got = 0;
    for await (const chunk of chunks) got += chunk.length;
    expect(got).toBe(256 * MiB);
  });

  it('ends both sides when one is closed, and a corrupt frame rejects the pending calls with ProtocolError', async () => {
    const { a, b } = pair();
    b.handle('never', () => new Promise(() => {}));
    const pending = a.call('never', null).catch((e: unknown) => e);
    await sleep(10);
    b.close();
    expect(await pending).toBeInstanceOf(RemoteLostError);
    expect(await a.closed).toBeInstanceOf(RemoteLostError);

    const second = pair();
    second.b.handle('never', () => new Promise(() => {}));
    const waiting = second.a.call('never', null).catch((e: unknown) => e);
    await sleep(10);
    second.aToB.write(Buffer.from([0, 0, 0, 5, 200, 0, 0, 0, 1]));
    expect(await second.b.closed).toBeInstanceOf(ProtocolError);
    // b ended its output: a sees the link end
    expect(await waiting).toBeInstanceOf(RemoteLostError);
  });
});

describe('remote session errors', () => {
  it('map to exit 6 with one line on stderr', () => {
    const lines: string[] = [];
    expect(reportError(new ProtocolError('unknown frame kind 42'), { err: (l) => lines.push(l) })).toBe(6);
    expect(reportError(new RemoteLostError('the remote side closed the connection'), { err: (l) => lines.push(l) })).toBe(6);
    expect(lines).toEqual(['tsync: error: unknown frame kind 42', 'tsync: error: the remote side closed the connection']);
  });
});
