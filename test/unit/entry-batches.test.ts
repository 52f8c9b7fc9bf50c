// A scan's entries cross the wire in length-prefixed batches (remote/entry-batches.ts): any number of them,
// split anywhere by the transport, come back whole and in order; a stream cut inside a batch is refused.
import { describe, expect, it } from 'vitest';
import type { RelPath, ScannedEntry } from '../../src/core/types.js';
import { ENTRY_BATCH, entryBatches, readEntryBatches, streamedEntryBatches } from '../../src/remote/entry-batches.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';

function tree(n: number): Map<RelPath, ScannedEntry> {
  const m = new Map<RelPath, ScannedEntry>();
  for (let i = 0; i < n; i++) {
    m.set(`d${i % 7}/f${i}` as RelPath, {
      entry: { kind: 'file', size: i, mtimeNs: BigInt(i) * 1_000_000_007n, mode: 0o644, hash: null },
      stat: { ino: BigInt(i + 1), ctimeNs: 5n, size: i, mtimeNs: 6n },
      observedAtNs: 7n,
    });
  }
  return m;
}

/** The batches' bytes as a transport might deliver them: re-cut into pieces of `size`. */
async function* recut(batches: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  const all: Buffer[] = [];
  for await (const b of batches) all.push(b);
  const joined = Buffer.concat(all);
  for (let at = 0; at < joined.length; at += size) yield joined.subarray(at, at + size);
}

describe('entry batches', () => {
  it('bring back every entry in order, however the stream is cut', async () => {
    for (const n of [0, 1, ENTRY_BATCH, ENTRY_BATCH * 2 + 17]) {
      for (const cut of [1, 1000, 1 << 20]) {
        if (n > ENTRY_BATCH && cut === 1) continue; // byte by byte is slow and proves nothing more than 1000
        const sent = tree(n);
        const got = new Map<RelPath, ScannedEntry>();
        await readEntryBatches(recut(entryBatches(sent), cut), (path, scanned) => {
          got.set(path, scanned);
        });
        expect([...got.keys()]).toEqual([...sent.keys()]);
        expect(got).toStrictEqual(sent);
        let batches = 0;
        for await (const _ of entryBatches(sent)) batches++;
        expect(batches).toBe(Math.ceil(n / ENTRY_BATCH));
      }
    }
  });

  it('refuses a stream cut inside a batch', async () => {
    const whole: Buffer[] = [];
    for await (const b of entryBatches(tree(10))) whole.push(b);
    const cutShort = Buffer.concat(whole).subarray(0, 40);
    await expect(
      readEntryBatches(
        recut(
          (async function* () {
            yield cutShort;
          })(),
          7,
        ),
        () => undefined,
      ),
    ).rejects.toThrow(ProtocolError);
  });
});

describe('a streamed scan (entries as the walk finds them, then its summary)', () => {
  /** The parts a walk would hand on: the entries cut into uneven slices. */
  async function* slices(entries: Map<RelPath, ScannedEntry>): AsyncGenerator<[RelPath, ScannedEntry][]> {
    const all = [...entries];
    for (let at = 0, size = 1; at < all.length; at += size, size = (size * 7) % 3001) yield all.slice(at, at + size);
  }
  const bytesOf = async (chunks: AsyncIterable<Buffer>): Promise<Buffer> => {
    const all: Buffer[] = [];
    for await (const c of chunks) all.push(c);
    return Buffer.concat(all);
  };
  const once = (b: Buffer): AsyncIterable<Buffer> =>
    (async function* () {
      yield b;
    })();

  it('brings back every entry in order and then the summary, however the stream is cut', async () => {
    for (const n of [0, 5, ENTRY_BATCH * 3 + 1]) {
      const sent = tree(n);
      for (const cut of [3, 1000, 1 << 20]) {
        const got = new Map<RelPath, ScannedEntry>();
        const summary = await readEntryBatches(
          recut(
            streamedEntryBatches(slices(sent), () => ({ count: n, note: 'the end' })),
            cut,
          ),
          (path, scanned) => {
            got.set(path, scanned);
          },
          true,
        );
        expect(got).toStrictEqual(sent);
        expect(summary).toEqual({ count: n, note: 'the end' });
      }
    }
  });

  it('refuses a stream without its summary, and anything after it', async () => {
    const plain = await bytesOf(entryBatches(tree(10)));
    await expect(readEntryBatches(once(plain), () => undefined, true)).rejects.toThrow(/ended without its summary/);
    const streamed = await bytesOf(streamedEntryBatches(slices(tree(10)), () => ({ count: 10 })));
    await expect(readEntryBatches(once(Buffer.concat([streamed, plain.subarray(0, 8)])), () => undefined, true)).rejects.toThrow(ProtocolError);
    // a reader that expects no summary (a rescan's reply) takes the mark for an oversized batch
    await expect(readEntryBatches(once(streamed), () => undefined)).rejects.toThrow(ProtocolError);
  });
});
