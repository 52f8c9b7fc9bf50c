// LocalEndpoint's delta methods on a real temp dir (no mocks): the signature of the file in place, the
// delta of a new version against it (openDelta), and installDelta rebuilding it. The checks that make a
// delta safe are held here where the scan gave no hash to fall back on: the rebuilt file must hash to what
// the delta's end op says before it is renamed, and a basis that changed since the scan is a stale target.
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, Expectation, RelPath, ScannedEntry } from '../../src/core/types.js';
import { DeltaMatcher } from '../../src/delta/delta-match.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { SourceChangedError } from '../../src/engine/copy-file.js';
import { StaleTargetError } from '../../src/engine/guards.js';
import { statIdOf } from '../../src/fs/stat.js';
import { hashBytes, loadHasher } from '../../src/hash/xxhash.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

const BLOCK = 4096;
const dirs: string[] = [];
const endpoints: LocalEndpoint[] = [];
beforeAll(loadHasher);
afterEach(async () => {
  for (const ep of endpoints.splice(0)) await ep.endRun();
  for (const d of dirs.splice(0)) removeTempDir(d);
});

async function side(): Promise<{ root: string; ep: LocalEndpoint }> {
  const root = makeTempDir('tsync-delta-unit-');
  dirs.push(root);
  const ep = new LocalEndpoint(root as AbsPath);
  await ep.beginRun({ trashStamp: null, keep: { owner: false, group: false, xattrs: false }, chownRefused: false, racyWindowNs: 0n });
  endpoints.push(ep);
  return { root, ep };
}

function scanned(abs: string, hash: string | null): ScannedEntry {
  const st = lstatSync(abs, { bigint: true });
  return { entry: { kind: 'file', size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode) & 0o7777, hash }, stat: statIdOf(st), observedAtNs: 0n };
}

function expectationOf(abs: string): Expectation {
  return { ...statIdOf(lstatSync(abs, { bigint: true })), kind: 'file' };
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** A basis in `root`/f and a new version of it (an edit in the middle) in a source side's root. */
async function setup(): Promise<{ target: Awaited<ReturnType<typeof side>>; source: Awaited<ReturnType<typeof side>>; old: Buffer; next: Buffer }> {
  const target = await side();
  const source = await side();
  const old = randomBytes(64 * BLOCK + 123);
  const next = Buffer.from(old);
  randomBytes(1000).copy(next, 30 * BLOCK + 7);
  writeFileSync(join(target.root, 'f'), old);
  writeFileSync(join(source.root, 'f'), next);
  return { target, source, old, next };
}

const f = 'f' as RelPath;

describe('LocalEndpoint delta transfer', () => {
  it('rebuilds the new version from the basis and the delta, and installs it', async () => {
    const { target, source, next } = await setup();
    const expect0 = expectationOf(join(target.root, 'f'));
    const sig = await target.ep.signature(f, expect0, BLOCK);
    const from = scanned(join(source.root, 'f'), null);
    const read = await source.ep.openDelta(f, from, sig);
    const got = await target.ep.installDelta(f, from, expect0, { path: f, expect: expect0, blockSize: BLOCK }, read.chunks, null);
    expect(readFileSync(join(target.root, 'f')).equals(next)).toBe(true);
    expect(got.hash).toBe(hashBytes(next));
    expect((await read.done).hash).toBe(got.hash);
  });

  it('a file of many chunks is rebuilt exact: the reads that share buffers (both sides) never overwrite a piece in use', async () => {
    // openDelta reads the new version and installDelta reads the basis into two buffers each, taken in turn
    // (engine/read-buffers.ts): with several 1 MiB chunks and runs of references longer than a read piece,
    // a buffer reused too early would put the wrong bytes in the file, and the end op's hash would refuse it
    const target = await side();
    const source = await side();
    const old = randomBytes(5 * 1024 * 1024 + 777);
    const next = Buffer.concat([
      old.subarray(0, 512 * 1024),
      randomBytes(3000), // an edit
      old.subarray(512 * 1024 + 3000, 2 * 1024 * 1024),
      randomBytes(5), // an insertion: what follows is shifted
      old.subarray(2 * 1024 * 1024, 3 * 1024 * 1024),
      old.subarray(4 * 1024 * 1024, 4 * 1024 * 1024 + 64 * BLOCK), // a stretch from further on, moved up
      old.subarray(3 * 1024 * 1024),
    ]);
    writeFileSync(join(target.root, 'f'), old);
    writeFileSync(join(source.root, 'f'), next);
    const expect0 = expectationOf(join(target.root, 'f'));
    const sig = await target.ep.signature(f, expect0, BLOCK);
    const from = scanned(join(source.root, 'f'), null);
    const read = await source.ep.openDelta(f, from, sig);
    const got = await target.ep.installDelta(f, from, expect0, { path: f, expect: expect0, blockSize: BLOCK }, read.chunks, null);
    expect(readFileSync(join(target.root, 'f')).equals(next)).toBe(true);
    expect(got.hash).toBe(hashBytes(next));
    expect((await read.done).hash).toBe(got.hash);
  });

  it('refuses a rebuilt file whose hash is not the one the delta ends with, before the rename', async () => {
    const { target, source, old, next } = await setup();
    const expect0 = expectationOf(join(target.root, 'f'));
    const sig = await target.ep.signature(f, expect0, BLOCK);
    const m = new DeltaMatcher(sig);
    // the delta of the new version, but ending with another file's hash (as if a block had matched wrongly)
    const ops = Buffer.concat([...m.push(next), ...m.finish(hashBytes(old))]);
    const from = scanned(join(source.root, 'f'), null);
    await expect(target.ep.installDelta(f, from, expect0, { path: f, expect: expect0, blockSize: BLOCK }, once(ops), null)).rejects.toBeInstanceOf(SourceChangedError);
    expect(readFileSync(join(target.root, 'f')).equals(old)).toBe(true);
    expect(readdirSync(target.root)).toEqual(['f']);
  });

  it('a basis that changed since the scan is a stale target, for the signature and for the rebuild', async () => {
    const { target, source, next } = await setup();
    const abs = join(target.root, 'f');
    const expect0 = expectationOf(abs);
    const sig = await target.ep.signature(f, expect0, BLOCK);
    const m = new DeltaMatcher(sig);
    const ops = Buffer.concat([...m.push(next), ...m.finish(hashBytes(next))]);
    writeFileSync(abs, randomBytes(64 * BLOCK + 123));
    await expect(target.ep.signature(f, expect0, BLOCK)).rejects.toBeInstanceOf(StaleTargetError);
    const from = scanned(join(source.root, 'f'), null);
    await expect(target.ep.installDelta(f, from, expect0, { path: f, expect: expect0, blockSize: BLOCK }, once(ops), null)).rejects.toBeInstanceOf(StaleTargetError);
    expect(readdirSync(target.root)).toEqual(['f']);
  });
});
