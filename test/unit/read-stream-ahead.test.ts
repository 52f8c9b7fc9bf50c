// openReadStream reads the next chunk while the consumer holds the last one. The read calls are counted
// with a spy on FileHandle.prototype.read that calls through (the file and its reads are real): the order
// of issued reads is not otherwise observable.
import { randomBytes } from 'node:crypto';
import { lstatSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ScannedEntry } from '../../src/core/types.js';
import { openReadStream, STREAM_CHUNK } from '../../src/engine/stream-copy.js';
import { statIdOf } from '../../src/fs/stat.js';
import { hashBytes, loadHasher } from '../../src/hash/xxhash.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

beforeAll(loadHasher);
const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) removeTempDir(d);
});

function scanned(abs: string): ScannedEntry {
  const st = lstatSync(abs, { bigint: true });
  return { entry: { kind: 'file', size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode) & 0o7777, hash: null }, stat: statIdOf(st), observedAtNs: 0n };
}

describe('read stream', () => {
  it('has the next chunk asked for before the consumer takes the last, and yields the file exactly', async () => {
    const dir = makeTempDir('tsync-read-ahead-');
    dirs.push(dir);
    const path = join(dir, 'f');
    const data = randomBytes(2 * STREAM_CHUNK + 999);
    writeFileSync(path, data);
    const probe = await open(path, 'r');
    const proto = Object.getPrototypeOf(probe) as { read: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const reads: number[] = [];
    const real = proto.read;
    vi.spyOn(proto, 'read').mockImplementation(function (this: unknown, ...args: unknown[]) {
      reads.push(args[3] as number);
      return real.apply(this, args);
    });
    const stream = openReadStream(Buffer.from(path), scanned(path), 'f', 0n);
    const it = stream.chunks[Symbol.asyncIterator]();
    const first = await it.next();
    expect(reads).toEqual([0, STREAM_CHUNK]);
    const out = [first.value as Buffer];
    for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value);
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect((await stream.done).hash).toBe(hashBytes(data));
  });
});
