// --compress and --bwlimit below the CLI: the rate parser, the token bucket (its clock given, so no timing
// is measured), deflated data frames (round trip, and hostile ones refused), and two RPC peers joined by
// in-memory streams (real PassThroughs, as in rpc-peer.test.ts) carrying a stream deflated and limited.
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseBandwidth } from '../../src/config/bandwidth.js';
import { UsageError } from '../../src/errors.js';
import { decodeMessage, encodeMessage, FrameDecoder, MAX_DATA_CHUNK, MAX_FRAME } from '../../src/remote/frame.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';
import { RpcPeer, type RpcPeerOptions } from '../../src/remote/rpc-peer.js';
import { TokenBucket } from '../../src/remote/token-bucket.js';

describe('--bwlimit RATE', () => {
  it('reads bytes per second with k/M/G suffixes (powers of 1024)', () => {
    expect(['500K', '4M', '1G', '2048', '1.5m', '4MB', '4M/s'].map(parseBandwidth)).toEqual([512_000, 4 * 1024 ** 2, 1024 ** 3, 2048, 1.5 * 1024 ** 2, 4 * 1024 ** 2, 4 * 1024 ** 2]);
    expect(parseBandwidth(undefined)).toBeNull();
  });

  it('refuses anything else with a usage error', () => {
    for (const bad of ['', 'fast', '4X', '-1M', '0', '100', 'M', '4 M B']) expect(() => parseBandwidth(bad), bad).toThrow(UsageError);
  });
});

describe('token bucket', () => {
  it('lets a burst through, then makes the taker wait what the rate says', () => {
    let now = 0;
    const b = new TokenBucket(1000, 500, () => now);
    expect(b.take(500)).toBe(0);
    expect(b.take(250)).toBe(250);
    now = 250;
    expect(b.take(0)).toBe(0);
    // idle time refills only up to the burst
    now = 100_000;
    expect(b.take(1500)).toBe(1000);
  });
});

describe('deflated data frames', () => {
  const text = Buffer.from('some text that compresses well. '.repeat(4000));

  it('round-trip, smaller than plain, and incompressible chunks go plain', () => {
    const frame = Buffer.concat(encodeMessage({ kind: 'data', id: 3, chunk: text, compress: true }));
    expect(frame.length).toBeLessThan(text.length / 10);
    const [payload] = new FrameDecoder().push(frame);
    const msg = decodeMessage(payload as Buffer);
    expect(msg.kind === 'data' && msg.id === 3 && msg.chunk.equals(text)).toBe(true);
    const noise = randomBytes(4096);
    expect(Buffer.concat(encodeMessage({ kind: 'data', id: 3, chunk: noise, compress: true }))[4]).toBe(6);
  });

  it('a corrupt one, or one that inflates beyond a data chunk, is a ProtocolError', () => {
    const payload = (body: Buffer): Buffer => Buffer.concat([Buffer.from([12, 0, 0, 0, 1]), body]);
    expect(() => decodeMessage(payload(Buffer.from('not deflate at all')))).toThrow(ProtocolError);
    expect(() => decodeMessage(payload(deflateRawSync(Buffer.alloc(MAX_DATA_CHUNK + 1))))).toThrow(ProtocolError);
  });
});

describe('deflated call and result values', () => {
  // a batch of small files travels as a call's value (engine/batch-copy.ts), not as data frames
  const files = Array.from({ length: 40 }, (_, i) => ({ path: `src/f${i}.ts`, bytes: Buffer.from(`export const line${i} = 'the quick brown fox';\n`.repeat(60)) }));
  const decoded = (frame: Buffer[]): ReturnType<typeof decodeMessage> => decodeMessage(new FrameDecoder().push(Buffer.concat(frame))[0] as Buffer);

  it('round-trip, smaller than plain; small or incompressible values go plain', () => {
    const plain = Buffer.concat(encodeMessage({ kind: 'call', id: 7, method: 'installBatch', args: { items: files }, upload: false }));
    const packed = encodeMessage({ kind: 'call', id: 7, method: 'installBatch', args: { items: files }, upload: false, compress: true });
    expect(Buffer.concat(packed).length).toBeLessThan(plain.length / 10);
    expect(decoded(packed)).toEqual({ kind: 'call', id: 7, method: 'installBatch', args: { items: files }, upload: false });
    const result = encodeMessage({ kind: 'result', id: 9, value: files, download: true, compress: true });
    expect(decoded(result)).toEqual({ kind: 'result', id: 9, value: files, download: true });
    // the kind byte says plain: nothing to inflate
    expect(Buffer.concat(encodeMessage({ kind: 'result', id: 9, value: 'short', download: false, compress: true }))[4]).toBe(3);
    expect(Buffer.concat(encodeMessage({ kind: 'result', id: 9, value: randomBytes(8192), download: false, compress: true }))[4]).toBe(3);
  });

  it('a corrupt one, one that inflates beyond a frame, or the flag on a frame without a value is a ProtocolError', () => {
    const flagged = (kind: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([kind | 0x80, 0, 0, 0, 1]), body]);
    expect(() => decodeMessage(flagged(3, Buffer.from('not deflate at all')))).toThrow(ProtocolError);
    expect(() => decodeMessage(flagged(1, deflateRawSync(Buffer.alloc(MAX_FRAME + 1))))).toThrow(ProtocolError);
    expect(() => decodeMessage(flagged(10, deflateRawSync(Buffer.alloc(0))))).toThrow(/unknown frame kind/);
    expect(() => decodeMessage(flagged(6, deflateRawSync(Buffer.from('x'))))).toThrow(/unknown frame kind/);
  });
});

const open: RpcPeer[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

function pair(options: RpcPeerOptions): { a: RpcPeer; b: RpcPeer } {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = new RpcPeer(bToA, aToB, options);
  const b = new RpcPeer(aToB, bToA, {});
  open.push(a, b);
  return { a, b };
}

async function* repeat(chunk: Buffer, times: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < times; i++) yield chunk;
}

describe('an RPC session with --compress and --bwlimit', () => {
  it('holds a call whose value is over the burst until the rate allows it, as it holds data frames', async () => {
    // fake timers for the wait and the bucket's clock only: the session's own turns (setImmediate) run as usual,
    // so what is checked is whether the call's frame was written, not how long anything took
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { a, b } = pair({ bytesPerSecond: 1024 * 1024 });
    b.handle('size', async (args) => (args instanceof Uint8Array ? args.length : -1));
    const turns = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    // a batch of small files is one call's value: 2 MiB at 1 MiB/s must not leave at once
    const reply = a.call('size', randomBytes(2 * 1024 * 1024));
    await turns(5);
    expect(a.stats.framesSent).toBe(0);
    vi.advanceTimersByTime(2000);
    await turns(5);
    expect(a.stats.framesSent).toBe(1);
    expect(await reply).toBe(2 * 1024 * 1024);
  });

  it('carries an upload exactly, deflated, at a limited rate, and the far side reads it', async () => {
    const { a, b } = pair({ bytesPerSecond: 4 * 1024 * 1024 });
    a.compressData(true);
    const chunk = Buffer.from('0123456789abcdef'.repeat(8192));
    b.handle('sum', async (_args, upload) => {
      const got: Buffer[] = [];
      for await (const c of upload ?? []) got.push(c);
      return Buffer.concat(got).equals(Buffer.concat(Array.from({ length: 16 }, () => chunk)));
    });
    expect(await a.callWithUpload('sum', null, repeat(chunk, 16))).toBe(true);
    // 2 MiB of repetitive text: deflated, far less crossed
    expect(a.stats.bytesSent).toBeLessThan(200 * 1024);
    expect(b.stats.bytesReceived).toBe(a.stats.bytesSent);
  });
});
