// A walk writes a native listing's plain files and directories straight into its table's columns, reading the index's
// stat cache from the index's columns (scan/scan.ts DirectWrites, core/stat-words.ts), and a worker's scan is decoded
// with the same reads (scan/scan-codec.ts decodeScan). Both must give exactly what the general way gives (a stat, an
// entry and the vouching steps per entry), whatever the index holds for each path: the same inode unchanged, a racy
// ctime, another inode, ctime, mtime, size or kind, the other side only, no hash, no xattrs, nothing, or a change a
// watch has pending. The general way here is the walk through Node's fs (TSYNC_NATIVE=0, which never writes
// directly), and for decoding the same decode without the index's columns.
import { execFileSync } from 'node:child_process';
import { chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, Entry, KeptMeta, RelPath, ScannedEntry, Side, SideRecord } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { nativeLister } from '../../src/fs/native-listing.js';
import { decodeScan, encodeScan } from '../../src/scan/scan-codec.js';
import { type ScanResult, walkTree, type WalkOptions } from '../../src/scan/scan.js';
import { BaseTable } from '../../src/store/base-table.js';

const VARIANTS = ['absent', 'same', 'racy', 'other-ino', 'other-ctime', 'other-mtime', 'other-size', 'other-side-only', 'no-hash', 'no-xattrs', 'other-kind', 'pending'] as const;
type Variant = (typeof VARIANTS)[number];

let root: AbsPath;
let onDisk: ScanResult;
let paths: RelPath[];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'tsync-direct-'));
  mkdirSync(join(dir, 'd', 'e'), { recursive: true });
  for (const f of ['a', 'b', 'd/c', 'd/e/f', 'd/e/g', 'd/x']) writeFileSync(join(dir, f), `content of ${f}\n`.repeat(f.length));
  writeFileSync(join(dir, 'empty'), '');
  linkSync(join(dir, 'a'), join(dir, 'd', 'a-too')); // two names: the device is kept
  symlinkSync('a', join(dir, 'l'));
  chownSync(join(dir, 'b'), 1234, 5678);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'on a file', join(dir, 'd', 'x')]);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'on a dir', join(dir, 'd', 'e')]);
  root = absFromText(dir) as AbsPath;
  onDisk = walkTree({ root, side: 'left', vouch: null, keep: { owner: true, group: true, xattrs: true } });
  paths = [...onDisk.entries.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const hexOf = (i: number): string => (0x1234_5678_9abc_0000 + i * 7919).toString(16).padStart(16, '0').slice(-16);

/** The index's record of `path` for `side`, as `variant` makes it from what is on disk. */
function recordOf(path: RelPath, scanned: ScannedEntry, variant: Variant, side: Side, i: number): { entry: Entry; left: SideRecord | null; right: SideRecord | null } {
  const e = scanned.entry;
  const { xattrs: _xattrs, ...withoutXattrs } = e.kind === 'symlink' ? { ...e, xattrs: undefined } : e;
  let entry: Entry = variant === 'no-xattrs' ? (withoutXattrs as Entry) : e;
  if (entry.kind === 'file') entry = { ...entry, hash: variant === 'no-hash' ? null : i % 5 === 0 ? `text ${path}` : hexOf(i), size: variant === 'other-size' ? entry.size + 1 : entry.size };
  if (variant === 'other-kind')
    entry =
      entry.kind === 'dir'
        ? { kind: 'file', size: 0, mtimeNs: entry.mtimeNs, mode: entry.mode, hash: hexOf(i), xattrs: entry.xattrs }
        : { kind: 'dir', mtimeNs: entry.mtimeNs, mode: 0o755, xattrs: '' };
  const s = scanned.stat;
  const mine: SideRecord = {
    mtimeNs: variant === 'other-mtime' ? s.mtimeNs + 1n : s.mtimeNs,
    ino: variant === 'other-ino' ? s.ino + 1n : s.ino,
    ctimeNs: variant === 'racy' ? -1n : variant === 'other-ctime' ? s.ctimeNs + 1n : s.ctimeNs,
  };
  const theirs: SideRecord = { mtimeNs: s.mtimeNs, ino: s.ino, ctimeNs: s.ctimeNs };
  if (variant === 'other-side-only') return side === 'left' ? { entry, left: null, right: theirs } : { entry, left: theirs, right: null };
  return side === 'left' ? { entry, left: mine, right: null } : { entry, left: null, right: mine };
}

function baseOf(variants: readonly Variant[], side: Side): BaseTable {
  const base = new BaseTable(4);
  const pending: [RelPath, ReturnType<typeof recordOf>][] = [];
  paths.forEach((path, i) => {
    const variant = variants[i] ?? 'same';
    if (variant === 'absent') return;
    const rec = recordOf(path, onDisk.entries.get(path) as ScannedEntry, variant === 'pending' ? 'same' : variant, side, i);
    base.append(path, rec.entry, rec.left, rec.right);
    if (variant === 'pending') pending.push([path, rec]);
  });
  // a watch's pending change: the overlay holds the path, and the columns cannot answer for it
  for (const [path, rec] of pending) base.set(path, rec);
  return base;
}

/** A scan's entries as plain values; the time each was observed left out (two walks list at different times). */
function plainEntries(scan: ScanResult): unknown[] {
  return [...scan.entries].map(([path, s]) => [path, s.entry, { ...s.stat }]);
}

function walkOptions(base: BaseTable, side: Side, keep: KeptMeta, checksum: boolean, columns: boolean): WalkOptions {
  return {
    root,
    side,
    vouch: checksum ? null : (path, stat) => base.vouchedHash(path, side, stat),
    vouchXattrs: (path, stat) => base.vouchedXattrs(path, side, stat),
    sharedPath: (path) => base.sharedPath(path),
    pathSlots: base,
    keep,
    ...(columns ? { statCache: base } : {}),
  };
}

function throughNodeFs<T>(run: () => T): T {
  const was = process.env.TSYNC_NATIVE;
  process.env.TSYNC_NATIVE = '0';
  try {
    return run();
  } finally {
    if (was === undefined) delete process.env.TSYNC_NATIVE;
    else process.env.TSYNC_NATIVE = was;
  }
}

const caseArb = fc.record({
  variants: fc.array(fc.constantFrom(...VARIANTS), { minLength: 16, maxLength: 16 }),
  side: fc.constantFrom<Side>('left', 'right'),
  keep: fc.record({ owner: fc.boolean(), group: fc.boolean(), xattrs: fc.boolean() }),
  checksum: fc.boolean(),
  columns: fc.boolean(),
});

describe('entries written straight into columns', () => {
  it('the native listing is in use (else this suite compares the general way with itself)', () => {
    expect(nativeLister()).not.toBeNull();
  });

  it('a walk gives what the walk through Node fs gives, for every way the index may match what is on disk', () => {
    fc.assert(
      fc.property(caseArb, ({ variants, side, keep, checksum, columns }) => {
        const base = baseOf(variants, side);
        const startedNs = BigInt(Date.now()) * 1_000_000n;
        const direct = walkTree(walkOptions(base, side, keep, checksum, columns));
        const endedNs = BigInt(Date.now()) * 1_000_000n;
        const generalBase = baseOf(variants, side);
        const general = throughNodeFs(() => walkTree(walkOptions(generalBase, side, keep, checksum, false)));
        expect(plainEntries(direct)).toEqual(plainEntries(general));
        expect(direct.problems).toEqual(general.problems);
        expect(direct.leftoverTemps).toEqual(general.leftoverTemps);
        // stamped while the walk ran (the wall clock in ns, ms resolution, as nowNs gives it)
        for (const [path, s] of direct.entries) expect({ path, within: s.observedAtNs >= startedNs && s.observedAtNs <= endedNs }).toEqual({ path, within: true });
      }),
      { numRuns: 150 },
    );
  });

  it("a worker's scan decodes with the index's columns as without them", () => {
    fc.assert(
      fc.property(caseArb, ({ variants, side, keep, checksum }) => {
        const base = baseOf(variants, side);
        // as a scan worker walks: no vouching, no xattrs read, no map of its paths
        const walked = walkTree({ root, side, vouch: null, keep: { ...keep, xattrs: false }, keyed: false });
        const decode = (columns: boolean): ScanResult => {
          const late = keep.xattrs ? (path: RelPath, stat: ScannedEntry['stat']) => base.vouchedXattrs(path, side, stat) ?? `read ${path}` : null;
          const vouch = checksum ? null : (path: RelPath, stat: ScannedEntry['stat']) => base.vouchedHash(path, side, stat);
          return decodeScan(encodeScan(walked).encoded, vouch, late, (path) => base.sharedPath(path), base, columns ? base : undefined);
        };
        const withColumns = decode(true);
        const without = decode(false);
        expect([...withColumns.entries]).toEqual([...without.entries]);
      }),
      { numRuns: 150 },
    );
  });
});
