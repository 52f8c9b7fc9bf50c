// The streamed copy of a local endpoint (openRead on one side, install on the other) against real trees in
// temp dirs: what a remote side will do. The e2e suites run it end to end (vitest project `stream`); here
// the install's own checks are met head-on, with chunks that are not the source's bytes, which no real
// source can produce on demand.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, Expectation, RelPath, ScannedEntry } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { SourceChangedError } from '../../src/engine/copy-file.js';
import { StaleTargetError } from '../../src/engine/guards.js';
import { absFromText } from '../../src/fs/paths.js';
import { loadHasher } from '../../src/hash/xxhash.js';
import { withEntry } from '../../src/core/scanned.js';

const dirs: string[] = [];
const endpoints: LocalEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
beforeAll(() => loadHasher());

const NO_KEEP = { owner: false, group: false, xattrs: false };

async function side(): Promise<{ root: string; ep: LocalEndpoint }> {
  const root = mkdtempSync(join(tmpdir(), 'tsync-endpoint-'));
  dirs.push(root);
  const ep = new LocalEndpoint(absFromText(root) as AbsPath);
  endpoints.push(ep);
  await ep.beginRun({ trashStamp: '2026-01-01T00-00-00.000Z', keep: NO_KEEP, chownRefused: false, racyWindowNs: 0n });
  return { root, ep };
}

/** The file as a scan with hashing sees it. */
async function scanned(ep: LocalEndpoint, path: string): Promise<ScannedEntry> {
  const r = await ep.scan({ side: 'left', vouch: null });
  const s = r.entries.get(path as RelPath);
  if (s === undefined || s.entry.kind !== 'file') throw new Error(`${path} not scanned as a file`);
  const got = (await ep.hash([path as RelPath], 1)).get(path as RelPath);
  if (got === undefined || !('hash' in got)) throw new Error(`${path} not hashed`);
  return withEntry(s, { ...s.entry, hash: got.hash });
}

async function* chunksOf(...bufs: Buffer[]): AsyncGenerator<Buffer> {
  for (const b of bufs) yield b;
}

function expectOf(abs: string): Expectation {
  const st = lstatSync(abs, { bigint: true });
  return { kind: 'file', ino: st.ino, ctimeNs: st.ctimeNs, mtimeNs: st.mtimeNs, size: Number(st.size), nlink: Number(st.nlink) };
}

function temps(root: string): string[] {
  return readdirSync(root).filter((n) => n.startsWith('.tsync-tmp-'));
}

describe('LocalEndpoint: openRead piped into install', () => {
  it('installs the bytes with the source mode and mtime, keeps the replaced version in the trash, and reports the hash of what it wrote', async () => {
    const a = await side();
    const b = await side();
    writeFileSync(join(a.root, 'f.txt'), 'new content\n', { mode: 0o640 });
    writeFileSync(join(b.root, 'f.txt'), 'old content\n');
    const src = await scanned(a.ep, 'f.txt');
    const read = await a.ep.openRead('f.txt' as RelPath, src);
    const got = await b.ep.install('f.txt' as RelPath, src, expectOf(join(b.root, 'f.txt')), read.chunks, null);
    const sent = await read.done;
    expect(readFileSync(join(b.root, 'f.txt'), 'utf8')).toBe('new content\n');
    expect(got.hash).toBe(src.entry.kind === 'file' ? src.entry.hash : null);
    expect(sent.hash).toBe(got.hash);
    expect(lstatSync(join(b.root, 'f.txt')).mode & 0o7777).toBe(0o640);
    expect(lstatSync(join(b.root, 'f.txt'), { bigint: true }).mtimeNs / 1000n).toBe(lstatSync(join(a.root, 'f.txt'), { bigint: true }).mtimeNs / 1000n);
    expect(readFileSync(join(b.root, '.tsync/trash/2026-01-01T00-00-00.000Z/f.txt'), 'utf8')).toBe('old content\n');
    expect(temps(b.root)).toEqual([]);
  });

  it('refuses bytes that do not hash as the scanned source did: nothing installed, no temp file left', async () => {
    const a = await side();
    const b = await side();
    writeFileSync(join(a.root, 'f.txt'), 'the real bytes\n');
    const src = await scanned(a.ep, 'f.txt');
    const forged = Buffer.from('the fake bytes\n'); // same length, other content
    await expect(b.ep.install('f.txt' as RelPath, src, null, chunksOf(forged), null)).rejects.toBeInstanceOf(SourceChangedError);
    expect(existsSync(join(b.root, 'f.txt'))).toBe(false);
    expect(temps(b.root)).toEqual([]);
  });

  it('leaves a target that changed since the scan alone (stale), and removes its temp file', async () => {
    const a = await side();
    const b = await side();
    writeFileSync(join(a.root, 'f.txt'), 'from a\n');
    writeFileSync(join(b.root, 'f.txt'), 'b as scanned\n');
    const expect0 = expectOf(join(b.root, 'f.txt'));
    writeFileSync(join(b.root, 'f.txt'), 'b edited after the scan, longer\n');
    const src = await scanned(a.ep, 'f.txt');
    const read = await a.ep.openRead('f.txt' as RelPath, src);
    await expect(b.ep.install('f.txt' as RelPath, src, expect0, read.chunks, null)).rejects.toBeInstanceOf(StaleTargetError);
    expect(readFileSync(join(b.root, 'f.txt'), 'utf8')).toBe('b edited after the scan, longer\n');
    expect(temps(b.root)).toEqual([]);
  });

  it('a source changed between the scan and the read fails the stream: the install writes nothing', async () => {
    const a = await side();
    const b = await side();
    writeFileSync(join(a.root, 'f.txt'), 'v1\n');
    const src = await scanned(a.ep, 'f.txt');
    writeFileSync(join(a.root, 'f.txt'), 'v2, another size\n');
    const read = await a.ep.openRead('f.txt' as RelPath, src);
    await expect(b.ep.install('f.txt' as RelPath, src, null, read.chunks, null)).rejects.toBeInstanceOf(StaleTargetError);
    await expect(read.done).rejects.toBeInstanceOf(StaleTargetError);
    expect(existsSync(join(b.root, 'f.txt'))).toBe(false);
    expect(temps(b.root)).toEqual([]);
  });

  it('keeps the holes of a sparse source: all-zero blocks are not written', async () => {
    const a = await side();
    const b = await side();
    mkdirSync(join(a.root, 'd'));
    const abs = join(a.root, 'd/sparse.bin');
    writeFileSync(abs, 'head');
    truncateSync(abs, 8 << 20); // 8 MiB, nearly all hole
    const src = await scanned(a.ep, 'd/sparse.bin');
    await b.ep.makeDir('d' as RelPath, withEntry(src, { kind: 'dir', mode: 0o755, mtimeNs: 0n }), 'd');
    const read = await a.ep.openRead('d/sparse.bin' as RelPath, src);
    const got = await b.ep.install('d/sparse.bin' as RelPath, src, null, read.chunks, null);
    expect(got.bytes).toBe(8 << 20);
    const st = lstatSync(join(b.root, 'd/sparse.bin'));
    expect(st.size).toBe(8 << 20);
    expect(st.blocks * 512).toBeLessThan(1 << 20);
  });
});
