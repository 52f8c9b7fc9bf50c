// `<stem>.tsync-conflict-YYYYMMDD-HHMMSS-<side><ext>` in UTC, unique, within NAME_MAX bytes.
import { describe, expect, it } from 'vitest';
import { conflictName } from '../../src/core/conflict-name.js';
import { baseName, isOwnName, relPath, relPathFromText } from '../../src/core/paths.js';
import type { RelPath, Side } from '../../src/core/types.js';
import { NOW_MS, STAMP } from './fixtures/entries.js';

const none = (): boolean => false;
const takenSet =
  (...names: string[]) =>
  (p: RelPath): boolean =>
    names.includes(p);

describe('conflictName', () => {
  const rows: readonly [string, string, Side, string][] = [
    ['a name with an extension', 'notes.txt', 'right', `notes.tsync-conflict-${STAMP}-right.txt`],
    ['a name without an extension', 'Makefile', 'left', `Makefile.tsync-conflict-${STAMP}-left`],
    ['only the last extension is kept after the tag', 'a.tar.gz', 'left', `a.tar.tsync-conflict-${STAMP}-left.gz`],
    ['a dotfile keeps its whole name as the stem', '.bashrc', 'right', `.bashrc.tsync-conflict-${STAMP}-right`],
    ['a dotfile with an extension', '.config.json', 'left', `.config.tsync-conflict-${STAMP}-left.json`],
    ['a name ending in a dot', 'weird.', 'left', `weird.tsync-conflict-${STAMP}-left.`],
    ['beside the original in a nested directory', 'a/b.c/file.md', 'right', `a/b.c/file.tsync-conflict-${STAMP}-right.md`],
    ['a dot in the directory, none in the name', 'dir.d/README', 'left', `dir.d/README.tsync-conflict-${STAMP}-left`],
  ];
  it.each(rows)('%s', (_name, path, side, want) => {
    expect(conflictName(relPath(path), side, NOW_MS, none)).toBe(want);
  });

  const clock: readonly [string, number, string][] = [
    ['start of the epoch', 0, '19700101-000000'],
    ['last second of a year, UTC', Date.UTC(2023, 11, 31, 23, 59, 59, 999), '20231231-235959'],
    ['leap day', Date.UTC(2024, 1, 29, 12, 0, 7), '20240229-120007'],
  ];
  it.each(clock)('stamps in UTC: %s', (_name, nowMs, stamp) => {
    expect(conflictName(relPath('x.txt'), 'left', nowMs, none)).toBe(`x.tsync-conflict-${stamp}-left.txt`);
  });

  it('does not depend on the local time zone', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      expect(conflictName(relPath('x'), 'left', NOW_MS, none)).toBe(`x.tsync-conflict-${STAMP}-left`);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it.each([
    ['the plain name is taken', [`a.tsync-conflict-${STAMP}-left.txt`], `a.tsync-conflict-${STAMP}-left-2.txt`],
    ['the plain name and -2 are taken', [`a.tsync-conflict-${STAMP}-left.txt`, `a.tsync-conflict-${STAMP}-left-2.txt`], `a.tsync-conflict-${STAMP}-left-3.txt`],
    ['only the other side’s tag is taken', [`a.tsync-conflict-${STAMP}-right.txt`], `a.tsync-conflict-${STAMP}-left.txt`],
  ] as const)('unique: %s', (_name, taken, want) => {
    expect(conflictName(relPath('a.txt'), 'left', NOW_MS, takenSet(...taken))).toBe(want);
  });

  it('stays within 255 bytes by shortening the stem, never the tag or the extension', () => {
    const name = conflictName(relPath(`d/${'x'.repeat(300)}.txt`), 'right', NOW_MS, none);
    const base = baseName(name);
    expect(base.length).toBe(255);
    expect(name.startsWith('d/x')).toBe(true);
    expect(base.endsWith(`.tsync-conflict-${STAMP}-right.txt`)).toBe(true);
  });

  it('drops an extension that cannot fit', () => {
    const name = conflictName(relPath(`a.${'e'.repeat(250)}`), 'left', NOW_MS, none);
    expect(name.length).toBeLessThanOrEqual(255);
    expect(name.endsWith(`.tsync-conflict-${STAMP}-left`)).toBe(true);
  });

  it('keeps a long name unique within 255 bytes', () => {
    const long = relPath(`${'y'.repeat(300)}.md`);
    const first = conflictName(long, 'left', NOW_MS, none);
    const second = conflictName(long, 'left', NOW_MS, takenSet(first));
    expect(second).not.toBe(first);
    expect(second.length).toBeLessThanOrEqual(255);
    expect(second.endsWith(`.tsync-conflict-${STAMP}-left-2.md`)).toBe(true);
  });

  it('never cuts a UTF-8 character in half when shortening', () => {
    // 'é' is two bytes; the 215-byte budget for the stem would cut the last one in half
    const path = relPathFromText(`${'é'.repeat(200)}.txt`);
    const name = conflictName(path, 'left', NOW_MS, none);
    const bytes = Buffer.from(name, 'latin1');
    expect(bytes.length).toBeLessThanOrEqual(255);
    expect(Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)).toBe(true);
    expect(bytes.toString('utf8').endsWith(`.tsync-conflict-${STAMP}-left.txt`)).toBe(true);
  });

  // Names are bytes; a name that is not UTF-8 (here latin1, where "é" is the single byte 0xE9) is only
  // trimmed when it had to be shortened.
  it.each([
    ['latin1 "café.txt"', 'caf\xe9.txt', `caf\xe9.tsync-conflict-${STAMP}-right.txt`],
    ['latin1 "résumé"', 'r\xe9sum\xe9', `r\xe9sum\xe9.tsync-conflict-${STAMP}-right`],
    ['latin1 "é.txt"', '\xe9.txt', `\xe9.tsync-conflict-${STAMP}-right.txt`],
  ] as const)('keeps a short non-UTF-8 name whole: %s', (_name, path, want) => {
    expect(conflictName(relPath(path), 'right', NOW_MS, none)).toBe(want);
  });

  it('never produces one of tsync’s own names (.tsync…), which the scanner would ignore', () => {
    for (const path of ['\xe9.txt', '\xc3', '\xf0.md']) {
      const name = conflictName(relPath(path), 'left', NOW_MS, none);
      expect(isOwnName(baseName(name)), `${JSON.stringify(path)} -> ${JSON.stringify(name)}`).toBe(false);
    }
  });
});
