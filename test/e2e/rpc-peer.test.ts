// The RPC peer (src/remote/rpc-peer.ts) against a real child process: test/e2e/fixtures/rpc-agent.mjs runs
// the BUILT peer (dist/) over its stdin and stdout, as `tsync agent` will over SSH. Run `npm run build` first.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage, MAX_DATA_CHUNK } from '../../src/remote/frame.js';
import { ProtocolError, RemoteLostError } from '../../src/remote/protocol-error.js';
import { RpcPeer, type RpcPeerOptions } from '../../src/remote/rpc-peer.js';
import { encodeValue } from '../../src/remote/value-codec.js';
import { RemoteCallError, type WireError } from '../../src/remote/wire-error.js';
import { projectRoot } from '../helpers/cli.js';

const AGENT = join(projectRoot, 'test', 'e2e', 'fixtures', 'rpc-agent.mjs');
const MiB = 1024 * 1024;

type Agent = ChildProcessByStdio<Writable, Readable, Readable>;

interface Session {
  readonly child: Agent;
  readonly peer: RpcPeer;
  readonly stderr: () => string;
  readonly exited: Promise<void>;
}

const started: Agent[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startAgent(env: Record<string, string> = {}): { child: Agent; stderr: () => string; exited: Promise<void> } {
  const child = spawn(process.execPath, [AGENT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  started.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, stderr: () => err, exited };
}

function connect(options: RpcPeerOptions = {}, env: Record<string, string> = {}): Session {
  const agent = startAgent(env);
  const peer = new RpcPeer(agent.child.stdout, agent.child.stdin, options);
  return { ...agent, peer };
}

async function* randomChunks(total: number, sizes: readonly number[], hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for (let sent = 0, i = 0; sent < total; i++) {
    const chunk = randomBytes(Math.min(sizes[i % sizes.length] as number, total - sent));
    hash.update(chunk);
    sent += chunk.length;
    yield chunk;
  }
}

describe('RPC peer over a child process', () => {
  it('pipelines 1,000 calls, answered in any order, in a handful of writes each way', async () => {
    const { peer } = connect();
    const before = peer.stats.writes;
    const calls = Array.from({ length: 1000 }, (_, i) => peer.call('echo', { i, big: BigInt(i) * 2n ** 40n, name: `n\u00ff${i}` }));
    const results = await Promise.all(calls);
    const parentWrites = peer.stats.writes - before;
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => ({ i, big: BigInt(i) * 2n ** 40n, name: `n\u00ff${i}` })));
    const agentStats = (await peer.call('stats', null)) as { writes: number; framesSent: number };
    console.log(`1,000 pipelined calls: ${parentWrites} write(s) from the caller, ${agentStats.writes} from the agent for ${agentStats.framesSent} frames`);
    expect(parentWrites).toBeLessThanOrEqual(2);
    expect(agentStats.framesSent).toBeGreaterThanOrEqual(1000);
    expect(agentStats.writes).toBeLessThan(50);

    // a slow call does not hold back the replies sent after it
    const order: string[] = [];
    await Promise.all([peer.call('slow', { ms: 300 }).then(() => order.push('slow')), peer.call('echo', 'fast').then(() => order.push('echo'))]);
    expect(order).toEqual(['echo', 'slow']);
    peer.close();
  });

  it('uploads 50 MiB intact, in chunks of any size', async () => {
    const { peer } = connect();
    const hash = createHash('sha256');
    const started = process.hrtime.bigint();
    const result = (await peer.callWithUpload('uploadSum', null, randomChunks(50 * MiB, [MiB + 17, 5, 300_000, 4 * MiB], hash))) as { bytes: number; sha256: string };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`upload of 50 MiB: ${(50 / seconds).toFixed(0)} MiB/s (${seconds.toFixed(2)} s, with random data generation and hashing on both sides)`);
    expect(result).toEqual({ bytes: 50 * MiB, sha256: hash.digest('hex') });
    peer.close();
  });

  it('downloads 50 MiB intact, in data frames no larger than the limit', async () => {
    const { peer } = connect();
    const { result, chunks } = await peer.callWithDownload('download', { bytes: 50 * MiB });
    expect(result).toEqual({ bytes: 50 * MiB });
    const hash = createHash('sha256');
    let bytes = 0;
    let largest = 0;
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.length;
      largest = Math.max(largest, chunk.length);
    }
    expect(bytes).toBe(50 * MiB);
    expect(largest).toBeLessThanOrEqual(MAX_DATA_CHUNK);
    expect(await peer.call('lastDownloadHash', null)).toBe(hash.digest('hex'));
    peer.close();
  });

  it("raises a handler's error on the caller's side, through the pluggable errorFromWire", async () => {
    class StaleTargetError extends Error {
      constructor(readonly wire: WireError) {
        super(wire.message);
      }
    }
    const { peer } = connect({ errorFromWire: (wire, method) => (wire.name === 'StaleTargetError' ? new StaleTargetError(wire) : new RemoteCallError(wire, method)) });
    const stale = await peer.call('throw', { name: 'StaleTargetError', message: 'changed under us', code: 'STALE', errno: -116, kind: 'target' }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleTargetError);
    expect((stale as StaleTargetError).wire).toEqual({ name: 'StaleTargetError', message: 'changed under us', code: 'STALE', errno: -116, kind: 'target' });

    const plain = await peer.call('throw', { name: 'Error', message: 'ENOENT: no such file', code: 'ENOENT', errno: -2, syscall: 'open' }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(RemoteCallError);
    expect(plain).toMatchObject({ remoteName: 'Error', message: 'ENOENT: no such file', code: 'ENOENT', errno: -2, syscall: 'open', method: 'throw' });

    const unknown = await peer.call('noSuchMethod', null).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'UNKNOWN_METHOD', remoteName: 'UnknownMethodError' });
    expect(await peer.call('echo', 'still here')).toBe('still here');
    peer.close();
  });

  it('rejects every pending call with RemoteLostError when the agent is killed mid-call', async () => {
    const { peer, child } = connect();
    expect(await peer.call('echo', 1)).toBe(1);
    const slow = peer.call('slow', { ms: 600_000 }).catch((e: unknown) => e);
    const upload = peer.callWithUpload('uploadSum', null, randomChunks(10_000 * MiB, [MiB], createHash('sha256'))).catch((e: unknown) => e);
    await sleep(100);
    child.kill('SIGKILL');
    expect(await slow).toBeInstanceOf(RemoteLostError);
    expect(await upload).toBeInstanceOf(RemoteLostError);
    expect(await peer.closed).toBeInstanceOf(RemoteLostError);
    await expect(peer.call('echo', 2)).rejects.toBeInstanceOf(RemoteLostError);
  }, 20_000);

  it('declares an agent that stops answering (SIGSTOP) lost by the keepalive', async () => {
    const { peer, child } = connect({ keepaliveIntervalMs: 100, lostAfterMs: 800 });
    expect(await peer.call('echo', 'alive')).toBe('alive');
    await sleep(2000); // idle for longer than lostAfterMs: only the pings and their pongs keep the link up
    expect(await peer.call('echo', 'after idle')).toBe('after idle');
    child.kill('SIGSTOP');
    const lost = await peer.call('echo', 'unanswered').catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(RemoteLostError);
    expect((lost as Error).message).toMatch(/did not answer/);
  }, 20_000);

  it('stops pulling an upload source while the agent does not read (backpressure)', async () => {
    const { peer, child } = connect();
    expect(await peer.call('echo', 1)).toBe(1);
    child.kill('SIGSTOP');
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      const chunk = Buffer.alloc(MiB, 1);
      for (;;) {
        pulled += chunk.length;
        yield chunk;
      }
    }
    const upload = peer.callWithUpload('uploadSum', null, endless()).catch((e: unknown) => e);
    // wait until the source is no longer pulled (or has run far past any buffer)
    let seen = -1;
    while (pulled !== seen && pulled < 256 * MiB) {
      seen = pulled;
      await sleep(300);
    }
    console.log(`backpressure: ${(pulled / MiB).toFixed(0)} MiB pulled while the agent was stopped`);
    expect(pulled).toBeLessThan(16 * MiB);
    child.kill('SIGKILL');
    expect(await upload).toBeInstanceOf(RemoteLostError);
  }, 30_000);
});

describe('a hostile or corrupt frame sent to the agent', () => {
  function frame(kind: number, id: number, body: Buffer): Buffer {
    const header = Buffer.alloc(9);
    header.writeUInt32BE(5 + body.length, 0);
    header[4] = kind;
    header.writeUInt32BE(id, 5);
    return Buffer.concat([header, body]);
  }
  const echoCall = encodeValue(['echo', 'x']);
  const hostile: Record<string, Buffer> = {
    'a length over the limit': Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1]),
    'a call whose arguments hold an unknown tag': frame(1, 1, Buffer.concat([echoCall.subarray(0, echoCall.length - 6), Buffer.from([99])])),
    'a call whose arguments are truncated': frame(1, 1, echoCall.subarray(0, echoCall.length - 1)),
    'an unknown frame kind': frame(42, 1, Buffer.alloc(0)),
    "a call under an id marked as the receiver's": frame(1, 0x80000001, echoCall),
    'a result for a call never made': Buffer.concat(encodeMessage({ kind: 'result', id: 0x80000005, value: 1, download: false })),
    'data for a stream never opened': Buffer.concat(encodeMessage({ kind: 'data', id: 7, chunk: Buffer.from('boo') })),
  };

  for (const [what, bytes] of Object.entries(hostile)) {
    it(`${what}: ends the session with a ProtocolError and reaches no handler`, async () => {
      const { child, stderr, exited } = startAgent();
      child.stdin.end(bytes); // the end too: an agent that let the frame pass ends on the end of input, not at a timeout
      await exited;
      expect(stderr()).toMatch(/^session ended: ProtocolError: /m);
      expect(stderr()).not.toMatch(/handler/);
    });
  }

  it('a valid call is answered (the hostile cases fail for their own reason)', async () => {
    const { child, stderr, exited } = startAgent();
    child.stdin.write(frame(1, 1, echoCall));
    child.stdin.end();
    await exited;
    expect(stderr()).toMatch(/^handler echo$/m);
    expect(stderr()).toMatch(/^session ended: RemoteLostError: /m);
  });

  it('ends the caller side too: its pending calls reject with ProtocolError', async () => {
    const { peer, child } = connect();
    const pending = peer.call('slow', { ms: 600_000 }).catch((e: unknown) => e);
    // the agent's stdout is ours to corrupt only by a child that writes garbage: emulate it by feeding the peer's input
    child.stdout.emit('data', Buffer.from([0, 0, 0, 5, 99, 0, 0, 0, 0]));
    expect(await pending).toBeInstanceOf(ProtocolError);
    expect(await peer.closed).toBeInstanceOf(ProtocolError);
  });
});
