// A scan's entries cross the wire in length-prefixed batches (remote/entry-batches.ts): any number of them,
// split anywhere by the transport, come back whole and in order; a stream cut inside a batch is refused.
import { describe, expect, it } from 'vitest';
import type { RelPath, ScannedEntry } from '../../src/core/types.js';
import { ENTRY_BATCH, entryBatches, readEntryBatches } from '../../src/remote/entry-batches.js';
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
