// remove, makeDir and setMeta reach a path through its parents' descriptors and refuse a parent that is no longer a
// real directory (endpoint/endpoint.ts): the executor relies on it and asks for no assertParents first (a round trip
// to a remote side). Real trees in temp dirs; the parent is swapped for a symlink between the scan and the write, as
// another process could. The directory is moved, not copied, so the file below keeps its inode, ctime and mtime and
// the stale check on the file alone would let every one of these writes through.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectOf } from '../../src/core/propagate.js';
import type { AbsPath, RelPath, ScannedEntry } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { absFromText } from '../../src/fs/paths.js';

const dirs: string[] = [];
const endpoints: LocalEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NO_KEEP = { owner: false, group: false, xattrs: false };

/** A root with sub/f scanned, then sub moved outside the root and a symlink to it left in its place. */
async function swappedParent(trash: boolean): Promise<{ ep: LocalEndpoint; outside: string; file: ScannedEntry; dir: ScannedEntry }> {
  const base = mkdtempSync(join(tmpdir(), 'tsync-parents-'));
  dirs.push(base);
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'sub', 'f'), 'kept where it is');
  const ep = new LocalEndpoint(absFromText(root) as AbsPath);
  endpoints.push(ep);
  const scan = await ep.scan({ side: 'right', vouch: null });
  const file = scan.entries.get('sub/f' as RelPath);
  const dir = scan.entries.get('sub' as RelPath);
  if (file === undefined || dir === undefined) throw new Error('sub and sub/f not scanned');
  renameSync(join(root, 'sub'), join(outside, 'sub'));
  symlinkSync(join(outside, 'sub'), join(root, 'sub'));
  await ep.beginRun({ trashStamp: trash ? '2026-01-01T00-00-00.000Z' : null, keep: NO_KEEP, chownRefused: false, racyWindowNs: 0n });
  return { ep, outside: join(outside, 'sub'), file, dir };
}

describe('an endpoint write below a parent swapped for a symlink', () => {
  it.each([true, false])('remove refuses it and leaves the file the symlink leads to (trash: %s)', async (trash) => {
    const { ep, outside, file } = await swappedParent(trash);
    await expect(ep.remove('sub/f' as RelPath, expectOf(file), 'sub/f')).rejects.toThrow(/symlink|not a directory|changed/);
    expect(existsSync(join(outside, 'f'))).toBe(true);
  });

  it('makeDir refuses it and creates nothing where the symlink leads', async () => {
    const { ep, outside, dir } = await swappedParent(true);
    await expect(ep.makeDir('sub/new' as RelPath, dir, 'sub/new')).rejects.toThrow(/symlink|not a directory|changed/);
    expect(existsSync(join(outside, 'new'))).toBe(false);
  });

  it('setMeta refuses it and changes nothing where the symlink leads', async () => {
    const { ep, outside, file } = await swappedParent(true);
    const before = lstatSync(join(outside, 'f'));
    if (file.entry.kind !== 'file') throw new Error('sub/f is not a file');
    const wanted: ScannedEntry = { ...file, entry: { ...file.entry, mode: 0o600, mtimeNs: 1_000_000_000n } };
    await expect(ep.setMeta('sub/f' as RelPath, wanted, expectOf(file), null, 'sub/f')).rejects.toThrow(/symlink|not a directory|changed/);
    const after = lstatSync(join(outside, 'f'));
    expect(after.mode).toBe(before.mode);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });
});
