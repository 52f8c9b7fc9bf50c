// Batched copies (engine/batch-copy.ts) between two LocalEndpoints on real temp trees: the batch path a remote
// side takes, with both ends on this machine (the remote suites run it across the agent: test/remote/batch-copy.test.ts).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, CopyAction, RelPath, ScannedEntry } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { SourceChangedError } from '../../src/engine/copy-file.js';
import { BATCH_FILE_MAX, copyBatch, intoBatches, isBatchable } from '../../src/engine/batch-copy.js';
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

async function side(racyWindowNs = 0n): Promise<{ root: string; ep: LocalEndpoint }> {
  const root = mkdtempSync(join(tmpdir(), 'tsync-batch-'));
  dirs.push(root);
  const ep = new LocalEndpoint(absFromText(root) as AbsPath);
  endpoints.push(ep);
  await ep.beginRun({ trashStamp: '2026-01-01T00-00-00.000Z', keep: NO_KEEP, chownRefused: false, racyWindowNs });
  return { root, ep };
}

async function scanOf(ep: LocalEndpoint): Promise<Map<RelPath, ScannedEntry>> {
  return (await ep.scan({ side: 'left', vouch: null })).entries;
}

const fileEntry = (size: number): ScannedEntry => ({
  entry: { kind: 'file', size, mtimeNs: 0n, mode: 0o644, hash: null },
  stat: { ino: 1n, ctimeNs: 0n, size, mtimeNs: 0n },
  observedAtNs: 0n,
});
const copy = (path: string, size: number, target: 'left' | 'right' = 'right'): CopyAction => ({ type: 'copy', path: path as RelPath, target, expect: null, source: fileEntry(size) });

describe('intoBatches', () => {
  it('cuts at the byte budget and the file count, one direction per batch, in order', () => {
    const many = Array.from({ length: 1200 }, (_, i) => copy(`f${i}`, 10));
    const batches = intoBatches(many);
    expect(batches.map((b) => b.length)).toEqual([512, 512, 176]);
    expect(batches.flat().map((a) => a.path)).toEqual(many.map((a) => a.path));
    const big = Array.from({ length: 40 }, (_, i) => copy(`b${i}`, BATCH_FILE_MAX));
    // 16 files of 64 KiB fill 1 MiB
    expect(intoBatches(big).map((b) => b.length)).toEqual([16, 16, 8]);
    const mixed = intoBatches([copy('a', 1, 'left'), copy('b', 1, 'right'), copy('c', 1, 'left')]);
    expect(mixed.map((b) => b.map((a) => `${a.path}>${a.target}`))).toEqual([['a>left', 'c>left'], ['b>right']]);
  });

  it('takes small regular files only', () => {
    expect(isBatchable(copy('a', BATCH_FILE_MAX))).toBe(true);
    expect(isBatchable(copy('a', BATCH_FILE_MAX + 1))).toBe(false);
    expect(isBatchable({ ...copy('a', 1), source: { ...fileEntry(1), entry: { kind: 'symlink', target: 'x', mtimeNs: 0n } } })).toBe(false);
  });
});

describe('copyBatch between two local endpoints', () => {
  it('copies each file on its own: a source changed since the scan fails alone; a replaced target goes to the trash', async () => {
    // a racy window of an hour: every read is read twice and must hash the same (the slow path of readWholeFile)
    const a = await side(3_600_000_000_000n);
    const b = await side();
    writeFileSync(join(a.root, 'one.txt'), 'one');
    writeFileSync(join(a.root, 'two.txt'), 'two, edited later');
    writeFileSync(join(a.root, 'three.bin'), Buffer.alloc(20_000, 3));
    writeFileSync(join(b.root, 'three.bin'), 'old three');
    const seen = await scanOf(a.ep);
    const onB = await scanOf(b.ep);
    writeFileSync(join(a.root, 'two.txt'), 'two, edited after the scan');
    const action = (p: string): CopyAction => {
      const source = seen.get(p as RelPath);
      const there = onB.get(p as RelPath);
      if (source === undefined) throw new Error(p);
      const expect = there === undefined ? null : { ...there.stat, kind: there.entry.kind };
      return { type: 'copy', path: p as RelPath, target: 'right', expect, source };
    };
    const results = await copyBatch([action('one.txt'), action('two.txt'), action('three.bin')], { endpoints: { left: a.ep, right: b.ep }, keep: NO_KEEP, chownRefused: false });
    const byPath = new Map(results.map((r) => [r.action.path as string, r.result]));
    expect(results).toHaveLength(3);
    const two = byPath.get('two.txt');
    expect(two !== undefined && 'error' in two && two.error instanceof StaleTargetError).toBe(true);
    const three = byPath.get('three.bin');
    expect(three !== undefined && 'ok' in three && three.ok.bytes).toBe(20_000);
    expect(readFileSync(join(b.root, 'one.txt'), 'utf8')).toBe('one');
    expect(existsSync(join(b.root, 'two.txt'))).toBe(false);
    expect(readFileSync(join(b.root, 'three.bin')).equals(Buffer.alloc(20_000, 3))).toBe(true);
    expect(readFileSync(join(b.root, '.tsync/trash/2026-01-01T00-00-00.000Z/three.bin'), 'utf8')).toBe('old three');
    expect(readdirSync(b.root).filter((n) => n.startsWith('.tsync-tmp'))).toEqual([]);
  });

  it('a scanned hash the bytes no longer have is a change during the copy, and nothing is installed for it', async () => {
    const a = await side();
    const b = await side();
    writeFileSync(join(a.root, 'f.txt'), 'content');
    const s = (await scanOf(a.ep)).get('f.txt' as RelPath);
    if (s === undefined || s.entry.kind !== 'file') throw new Error('not scanned');
    const wrong: ScannedEntry = withEntry(s, { ...s.entry, hash: '0123456789abcdef' });
    const [r] = await copyBatch([{ type: 'copy', path: 'f.txt' as RelPath, target: 'right', expect: null, source: wrong }], {
      endpoints: { left: a.ep, right: b.ep },
      keep: NO_KEEP,
      chownRefused: false,
    });
    expect(r !== undefined && 'error' in r.result && r.result.error instanceof SourceChangedError).toBe(true);
    expect(existsSync(join(b.root, 'f.txt'))).toBe(false);
  });
});
