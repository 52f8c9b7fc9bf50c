// The xattr values a local scan read, handed to the copy that follows instead of reading them again
// (scan/xattr-values.ts), on real files with real xattrs: the store's own rules, and a copy from a
// LocalEndpoint that must install the values the opened source has, never ones gone stale since the scan.
// The store is filled by hand in two tests with values the file does not have: no real file can keep its
// ctime while its attributes change, and that is the one way to see which values a copy installed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, ScannedEntry, StatId } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { StaleTargetError } from '../../src/engine/guards.js';
import { copyLocally, type LocalRunSide } from '../../src/engine/local-copy.js';
import { absFromText } from '../../src/fs/paths.js';
import { loadHasher } from '../../src/hash/xxhash.js';
import { ScannedXattrValues } from '../../src/scan/xattr-values.js';
import { sandbox } from '../helpers/cli.js';
import { xattrDump } from '../helpers/metadata.js';

const KEEP_XATTRS = { owner: false, group: false, xattrs: true };
const P = 'f' as RelPath;
const endpoints: LocalEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
});
beforeAll(() => loadHasher());

const stat = (ino: bigint, ctimeNs: bigint): StatId => ({ ino, ctimeNs, mtimeNs: 1n, size: 1 });
const values = (v: string): Map<string, Buffer> => new Map([['user.note', Buffer.from(v)]]);
const hex = (v: string): string => `user.note=0x${Buffer.from(v).toString('hex')}`;

describe('ScannedXattrValues', () => {
  it('hands the values out once, and only for the inode and ctime they were read with', () => {
    const store = new ScannedXattrValues();
    store.remember(P, stat(7n, 1_000n), values('a'), 2_000_000_000n);
    expect(store.take(P, stat(7n, 1_000n), 0n)?.get('user.note')?.toString()).toBe('a');
    expect(store.take(P, stat(7n, 1_000n), 0n)).toBeUndefined();
    store.remember(P, stat(7n, 1_000n), values('a'), 2_000_000_000n);
    expect(store.take(P, stat(7n, 1_001n), 0n)).toBeUndefined();
    store.remember(P, stat(7n, 1_000n), values('a'), 2_000_000_000n);
    expect(store.take(P, stat(8n, 1_000n), 0n)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('does not vouch for a ctime within the racy window of the moment the read began', () => {
    const store = new ScannedXattrValues();
    // a coarse clock: a change right after the read could carry the very same ctime
    store.remember(P, stat(7n, 1_990_000_000n), values('a'), 2_000_000_000n);
    expect(store.take(P, stat(7n, 1_990_000_000n), 50_000_000n)).toBeUndefined();
    store.remember(P, stat(7n, 1_900_000_000n), values('a'), 2_000_000_000n);
    expect(store.take(P, stat(7n, 1_900_000_000n), 50_000_000n)?.size).toBe(1);
  });

  it('keeps nothing for an entry without attributes, nor beyond its byte budget', () => {
    // room for two entries of this size, not three
    const store = new ScannedXattrValues(1400);
    store.remember(P, stat(1n, 1n), new Map(), 0n);
    expect(store.size).toBe(0);
    store.remember('a' as RelPath, stat(1n, 1n), values('x'.repeat(100)), 0n);
    store.remember('b' as RelPath, stat(2n, 1n), values('x'.repeat(100)), 0n);
    store.remember('c' as RelPath, stat(3n, 1n), values('x'.repeat(100)), 0n);
    expect(store.size).toBe(2);
    expect(store.take('c' as RelPath, stat(3n, 1n), 0n)).toBeUndefined();
    // what is handed out frees its room
    store.take('a' as RelPath, stat(1n, 1n), 0n);
    store.remember('c' as RelPath, stat(3n, 1n), values('x'.repeat(100)), 0n);
    expect(store.take('c' as RelPath, stat(3n, 1n), 0n)?.size).toBe(1);
  });
});

describe('a copy from a local side uses what its scan read', () => {
  interface Pair {
    readonly src: string;
    readonly dst: string;
    readonly a: LocalEndpoint;
    readonly b: LocalEndpoint;
    readonly scanned: ScannedEntry;
  }

  async function pair(racyWindowNs = 0n): Promise<Pair> {
    const sb = sandbox();
    mkdirSync(sb.dst);
    const a = new LocalEndpoint(absFromText(sb.src) as AbsPath);
    const b = new LocalEndpoint(absFromText(sb.dst) as AbsPath);
    endpoints.push(a, b);
    writeFileSync(join(sb.src, 'f'), 'content\n');
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'scanned', join(sb.src, 'f')]);
    const run = { trashStamp: null, keep: KEEP_XATTRS, chownRefused: false, racyWindowNs: 0n };
    const scan = await a.scan({ side: 'left', vouch: null, keep: KEEP_XATTRS });
    await a.beginRun({ ...run, racyWindowNs });
    await b.beginRun(run);
    const scanned = scan.entries.get(P);
    if (scanned === undefined) throw new Error('f not scanned');
    return { src: sb.src, dst: sb.dst, a, b, scanned };
  }

  function sides(a: LocalEndpoint, b: LocalEndpoint): { from: LocalRunSide; to: LocalRunSide } {
    const from = a.direct();
    const to = b.direct();
    if (from === null || to === null) throw new Error('no run');
    return { from, to };
  }

  it('installs the scanned values without reading them again (the store is emptied by the copy)', async () => {
    const p = await pair();
    const { from, to } = sides(p.a, p.b);
    expect(from.scannedXattrs?.size).toBe(1);
    const got = await copyLocally(from, P, p.scanned, to, P, null);
    expect(from.scannedXattrs?.size).toBe(0);
    expect(xattrDump(join(p.dst, 'f'))).toBe(hex('scanned'));
    expect(got.target.entry.kind === 'file' && got.target.entry.xattrs).toBe(p.scanned.entry.kind === 'file' && p.scanned.entry.xattrs);
  });

  it('an attribute changed between the scan and the copy: the copy is refused as stale, nothing installed', async () => {
    const p = await pair();
    const { from, to } = sides(p.a, p.b);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'changed', join(p.src, 'f')]);
    await expect(copyLocally(from, P, p.scanned, to, P, null)).rejects.toThrow(StaleTargetError);
    expect(readdirSync(p.dst)).toEqual([]);
  });

  it('values the scanned stat vouches for are the ones installed; with a racy ctime the source is read again', async () => {
    // the store holds values the file does not have, for the file's true stat: only the store can give them
    const planted = await pair();
    const s = sides(planted.a, planted.b);
    s.from.scannedXattrs?.remember(P, planted.scanned.stat, values('planted'), planted.scanned.observedAtNs + 10_000_000_000n);
    await copyLocally(s.from, P, planted.scanned, s.to, P, null);
    expect(xattrDump(join(planted.dst, 'f'))).toBe(hex('planted'));

    const racy = await pair(1_000_000_000_000n);
    const r = sides(racy.a, racy.b);
    r.from.scannedXattrs?.remember(P, racy.scanned.stat, values('planted'), racy.scanned.observedAtNs);
    await copyLocally(r.from, P, racy.scanned, r.to, P, null);
    expect(xattrDump(join(racy.dst, 'f'))).toBe(hex('scanned'));
  });
});
