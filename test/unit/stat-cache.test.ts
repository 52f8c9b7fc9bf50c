// The stat cache vouches for a hash only on an exact size + mtime + inode + ctime match of a non-racy record.
import { describe, expect, it } from 'vitest';
import { isRacy, RACY_CTIME, RACY_WINDOW_NS, sideRecordOf, vouchedHash } from '../../src/core/stat-cache.js';
import type { BaseRecord, SideRecord, StatId } from '../../src/core/types.js';
import { dir, file, hashOf, link, record, sec } from './fixtures/entries.js';

const recorded = file('v1', { ino: 42n, mtimeNs: sec(1), ctimeNs: sec(2) });
const rec: BaseRecord = record(recorded);
const side: SideRecord = { mtimeNs: sec(1), ino: 42n, ctimeNs: sec(2) };
const exact: StatId = { size: 2, mtimeNs: sec(1), ino: 42n, ctimeNs: sec(2) };

describe('vouchedHash', () => {
  const rows: readonly [string, StatId, BaseRecord | undefined, SideRecord | null | undefined, string | null][] = [
    ['exact match vouches', exact, rec, side, hashOf('v1')],
    ['size differs', { ...exact, size: 3 }, rec, side, null],
    ['mtime differs', { ...exact, mtimeNs: sec(1) + 1n }, rec, side, null],
    ['mtime within the copy tolerance still differs', { ...exact, mtimeNs: sec(1) + 1_000n }, rec, side, null],
    ['inode differs', { ...exact, ino: 43n }, rec, side, null],
    ['ctime differs (edit then touch -d back)', { ...exact, ctimeNs: sec(3) }, rec, side, null],
    ['racy side record never vouches', exact, rec, { ...side, ctimeNs: RACY_CTIME }, null],
    ['racy side record never vouches, even for a stat with ctime -1', { ...exact, ctimeNs: RACY_CTIME }, rec, { ...side, ctimeNs: RACY_CTIME }, null],
    ['no base record', exact, undefined, side, null],
    ['no record for this side (null)', exact, rec, null, null],
    ['no record for this side (undefined)', exact, rec, undefined, null],
    ['base entry without a hash', exact, { ...rec, entry: { ...recorded.entry, hash: null } }, side, null],
    ['base entry is a directory', { ...exact, size: 4096 }, record(dir({ ino: 42n, mtimeNs: sec(1), ctimeNs: sec(2) })), side, null],
    ['base entry is a symlink', exact, record(link('ab', { ino: 42n, mtimeNs: sec(1), ctimeNs: sec(2) })), side, null],
  ];
  it.each(rows)('%s', (_name, stat, r, s, want) => {
    expect(vouchedHash(stat, r, s)).toBe(want);
  });
});

describe('isRacy / sideRecordOf', () => {
  const observed = sec(100);
  const rows: readonly [string, bigint, boolean][] = [
    ['ctime long before the lstat', observed - 10n * RACY_WINDOW_NS, false],
    ['ctime one ns outside the window', observed - RACY_WINDOW_NS - 1n, false],
    ['ctime exactly at the window edge', observed - RACY_WINDOW_NS, true],
    ['ctime inside the window', observed - 1n, true],
    ['ctime equal to the lstat time', observed, true],
    ['ctime after the lstat (clock skew)', observed + 5n, true],
  ];
  it.each(rows)('%s', (_name, ctimeNs, racy) => {
    expect(isRacy(ctimeNs, observed)).toBe(racy);
    const stat: StatId = { size: 1, mtimeNs: sec(1), ino: 9n, ctimeNs };
    expect(sideRecordOf(stat, observed)).toEqual({ mtimeNs: sec(1), ino: 9n, ctimeNs: racy ? RACY_CTIME : ctimeNs });
  });

  it('a racily recorded file is never vouched for by a later identical stat', () => {
    const stat: StatId = { size: 2, mtimeNs: sec(1), ino: 42n, ctimeNs: observed - 1n };
    const racySide = sideRecordOf(stat, observed);
    expect(vouchedHash(stat, rec, racySide)).toBeNull();
  });

  it('a cleanly recorded file is vouched for by a later identical stat', () => {
    const stat: StatId = { size: 2, mtimeNs: sec(1), ino: 42n, ctimeNs: observed - RACY_WINDOW_NS - 1n };
    expect(vouchedHash(stat, rec, sideRecordOf(stat, observed))).toBe(hashOf('v1'));
  });
});
