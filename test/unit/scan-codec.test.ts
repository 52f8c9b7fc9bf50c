// The scan codec's round trip, on scans of real trees in a temp dir (walkTree reads the file system).
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, ScannedEntry, StatId } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { decodeScan, encodeScan, ScanCodecError } from '../../src/scan/scan-codec.js';
import { walkTree, type ScanResult } from '../../src/scan/scan.js';
import { sandbox } from '../helpers/cli.js';
import { pathBytes } from '../helpers/tree.js';
import { withEntry } from '../../src/core/scanned.js';

const NON_UTF8 = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]); // "bad" + two bytes that are no UTF-8

/** Encodes, moves the columns through a real structured clone with transfer (as postMessage does), decodes. */
function roundTrip(scan: ScanResult, vouch: Parameters<typeof decodeScan>[1] = null): ScanResult {
  const { encoded, transfer } = encodeScan(scan);
  const moved = structuredClone(encoded, { transfer });
  expect(encoded.kinds.byteLength).toBe(0); // transferred, not copied
  const back = decodeScan(moved, vouch);
  // the decoded entries are a ScanTable (columns behind the Map interface): compared as a plain Map, entry by entry, in order
  return { ...back, entries: new Map(back.entries) };
}

function scanOf(root: string): ScanResult {
  return walkOf({ root: absFromText(root) as AbsPath, side: 'right', vouch: null });
}

/** A walk's result with its entries as a plain Map (the walk keeps them in a GrowingScanTable), to compare with roundTrip's. */
function walkOf(opts: Parameters<typeof walkTree>[0]): ScanResult {
  const scan = walkTree(opts);
  return { ...scan, entries: new Map(scan.entries) };
}

describe('scan codec', () => {
  it('round-trips files, dirs, symlinks, non-UTF-8 names and targets, problems and leftover temps', () => {
    const { src } = sandbox();
    mkdirSync(`${src}/dir/sub`, { recursive: true, mode: 0o750 });
    writeFileSync(`${src}/dir/sub/file`, 'hello', { mode: 0o640 });
    writeFileSync(pathBytes(src, NON_UTF8), 'x');
    mkdirSync(pathBytes(src, Buffer.concat([NON_UTF8, Buffer.from('-dir')])));
    symlinkSync('../elsewhere', `${src}/dir/link`);
    symlinkSync(pathBytes('..', NON_UTF8), `${src}/link-to-bad`);
    writeFileSync(`${src}/.tsync-tmp-999999-leftover`, 'half');
    execFileSync('mkfifo', [`${src}/fifo`]);
    const scan = scanOf(src);
    expect(scan.entries.size).toBe(7);
    expect(scan.problems.map((p) => p.code)).toEqual(['special-file']);
    expect(scan.leftoverTemps).toEqual(['.tsync-tmp-999999-leftover']);
    const back = roundTrip(scan);
    expect(back).toEqual(scan);
    expect([...back.entries.keys()]).toEqual([...scan.entries.keys()]); // order kept too
    const badLink = back.entries.get('link-to-bad' as RelPath)?.entry;
    expect(badLink?.kind === 'symlink' && Buffer.from(badLink.target, 'latin1')).toEqual(pathBytes('..', NON_UTF8));
  });

  it('round-trips st_blocks, st_nlink and the device of hard-linked files', () => {
    const { src } = sandbox();
    writeFileSync(`${src}/plain`, 'x'.repeat(10_000));
    execFileSync('truncate', ['-s', '8M', `${src}/sparse`]);
    writeFileSync(`${src}/linked`, 'shared');
    linkSync(`${src}/linked`, `${src}/linked-too`);
    const scan = scanOf(src);
    const stat = (p: string): StatId | undefined => scan.entries.get(p as RelPath)?.stat;
    expect(stat('sparse')?.blocks).toBe(0);
    expect(stat('plain')?.blocks).toBeGreaterThanOrEqual(16);
    expect([stat('linked')?.nlink, stat('plain')?.nlink]).toEqual([2, 1]);
    expect(typeof stat('linked')?.dev).toBe('bigint');
    expect(stat('plain')?.dev).toBeUndefined();
    const back = roundTrip(scan);
    expect(back).toEqual(scan);
    for (const p of ['plain', 'sparse', 'linked', 'linked-too']) expect(back.entries.get(p as RelPath)?.stat).toStrictEqual(stat(p));
  });

  it('round-trips owner, group and xattr digests, and their absence where not kept', () => {
    const { src } = sandbox();
    mkdirSync(`${src}/dir`);
    writeFileSync(`${src}/dir/plain`, 'p');
    writeFileSync(`${src}/tagged`, 't');
    symlinkSync('tagged', `${src}/link`);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', `${src}/tagged`]);
    execFileSync('setfattr', ['-n', 'user.dirnote', '-v', 'd', `${src}/dir`]);
    const kept = walkOf({ root: absFromText(src) as AbsPath, side: 'left', vouch: null, keep: { owner: true, group: true, xattrs: true } });
    const tagged = kept.entries.get('tagged' as RelPath)?.entry;
    const plain = kept.entries.get('dir/plain' as RelPath)?.entry;
    const dir = kept.entries.get('dir' as RelPath)?.entry;
    expect(tagged?.kind === 'file' && tagged.xattrs).toMatch(/^[0-9a-f]{16}$/);
    expect(dir?.kind === 'dir' && dir.xattrs).toMatch(/^[0-9a-f]{16}$/);
    expect(plain?.kind === 'file' && plain.xattrs).toBe('');
    expect(kept.entries.get('link' as RelPath)?.entry.uid).toBe(process.getuid?.());
    expect(roundTrip(kept)).toEqual(kept);
    const ownerOnly = walkOf({ root: absFromText(src) as AbsPath, side: 'left', vouch: null, keep: { owner: true, group: false, xattrs: false } });
    const t = ownerOnly.entries.get('tagged' as RelPath)?.entry;
    expect(t?.uid).toBe(process.getuid?.());
    expect(t?.gid).toBeUndefined();
    expect(t?.kind === 'file' && t.xattrs).toBeUndefined();
    expect(roundTrip(ownerOnly)).toEqual(ownerOnly);
  });

  it('round-trips an empty tree', () => {
    const { src } = sandbox();
    const scan = scanOf(src);
    expect(scan.entries.size).toBe(0);
    expect(roundTrip(scan)).toEqual(scan);
  });

  it('keeps a hash set before encoding and asks the vouching step for the others', () => {
    const { src } = sandbox();
    writeFileSync(`${src}/a`, 'a');
    writeFileSync(`${src}/b`, 'b');
    mkdirSync(`${src}/d`);
    const scan = scanOf(src);
    const a = scan.entries.get('a' as RelPath);
    if (a?.entry.kind !== 'file') throw new Error('a is a file');
    scan.entries.set('a' as RelPath, withEntry(a, { ...a.entry, hash: '00000000000000aa' }));
    const asked: string[] = [];
    const back = roundTrip(scan, (path, stat) => {
      asked.push(path);
      expect(stat).toEqual(scan.entries.get(path)?.stat);
      return 'bbbbbbbbbbbbbbbb';
    });
    expect(asked).toEqual(['b']); // not 'a' (hash known), not 'd' (a dir)
    const hashOf = (p: string): string | null | undefined => {
      const e = back.entries.get(p as RelPath)?.entry;
      return e?.kind === 'file' ? e.hash : undefined;
    };
    expect([hashOf('a'), hashOf('b')]).toEqual(['00000000000000aa', 'bbbbbbbbbbbbbbbb']);
  });

  it("encodes a walk's own table in place, with the same result as entry by entry", () => {
    const { src } = sandbox();
    mkdirSync(`${src}/dir/sub`, { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(`${src}/dir/f${i}`, `${i}`);
    writeFileSync(`${src}/dir/sub/inner`, 'inner');
    linkSync(`${src}/dir/sub/inner`, `${src}/linked`);
    writeFileSync(pathBytes(src, NON_UTF8), 'x');
    symlinkSync('dir/f1', `${src}/l1`);
    symlinkSync(pathBytes('..', NON_UTF8), `${src}/l2`);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', `${src}/dir/f3`]);
    // owners and xattrs kept, and a hash for every other file: every extra the encoding carries has values
    let n = 0;
    const walked = walkTree({
      root: absFromText(src) as AbsPath,
      side: 'left',
      vouch: () => (n++ % 2 === 0 ? 'abcdefabcdef0123' : null),
      keep: { owner: true, group: true, xattrs: true },
    });
    const inPlace = encodeScan(walked).encoded;
    // the columns went as they were, with the room the table had left (1,024 slots to start)
    expect(inPlace.count).toBe(walked.entries.size);
    expect(inPlace.kinds.length).toBeGreaterThan(inPlace.count);
    const oneByOne = encodeScan({ ...walked, entries: new Map(walked.entries) }).encoded;
    expect(oneByOne.kinds.length).toBe(oneByOne.count);
    expect(Buffer.from(inPlace.pathBytes).equals(Buffer.from(oneByOne.pathBytes))).toBe(true);
    expect(inPlace.hashes.length).toBeGreaterThan(0);
    expect(inPlace.xattrs.length).toBe(1);
    expect(inPlace.devs.length).toBe(2);
    expect(new Map(decodeScan(inPlace, null).entries)).toEqual(new Map(decodeScan(oneByOne, null).entries));
  });

  it('refuses columns that do not fit together', () => {
    const { src } = sandbox();
    symlinkSync('t', `${src}/l`);
    const { encoded } = encodeScan(scanOf(src));
    expect(() => decodeScan({ ...encoded, targets: [] }, null)).toThrow(ScanCodecError);
    expect(() => decodeScan({ ...encoded, count: 2 }, null)).toThrow(ScanCodecError);
  });
});

describe('a decoded scan as a ScanTable', () => {
  /** A decoded scan, with its table and a plain Map of the same entries to mirror every change on. */
  function decodedWithMirror(): { table: Map<RelPath, ScannedEntry>; mirror: Map<RelPath, ScannedEntry> } {
    const { src } = sandbox();
    mkdirSync(`${src}/d`);
    for (const name of ['a', 'b', 'c']) writeFileSync(`${src}/d/${name}`, name);
    const scan = scanOf(src);
    const { encoded, transfer } = encodeScan(scan);
    const table = decodeScan(structuredClone(encoded, { transfer }), null).entries;
    return { table, mirror: new Map(scan.entries) };
  }

  it('keeps Map order and Map semantics under set, delete and set again', () => {
    const { table, mirror } = decodedWithMirror();
    const a = 'd/a' as RelPath;
    const b = 'd/b' as RelPath;
    const hashed = (s: ScannedEntry | undefined): ScannedEntry => {
      if (s?.entry.kind !== 'file') throw new Error('a file expected');
      return withEntry(s, { ...s.entry, hash: '0123456789abcdef' });
    };
    for (const m of [table, mirror]) {
      m.set(a, hashed(m.get(a))); // replaced in place: keeps its position
      m.delete(b);
      m.set(b, hashed(mirror.get(b) ?? table.get(b)));
    }
    expect(table.size).toBe(mirror.size);
    expect([...table.keys()]).toEqual([...mirror.keys()]);
    expect(new Map(table)).toEqual(mirror);
    expect(table.get(a)?.entry).toMatchObject({ hash: '0123456789abcdef' });
    expect(table.delete('nowhere' as RelPath)).toBe(false);
    expect(table.has(b)).toBe(true);
  });

  it('forgets the entry it built last when that path changes', () => {
    const { table } = decodedWithMirror();
    const c = 'd/c' as RelPath;
    expect(table.get(c)).toBeDefined();
    table.delete(c);
    expect(table.get(c)).toBeUndefined();
    expect(table.has(c)).toBe(false);
  });
});
