// Where a root has no ignore file, PathFilter says so from a plain lstat by path (path-filter.ts absentByPath);
// what it reads is still only what the anchored lookup reaches: never a file behind a symlinked directory.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { IGNORE_FILE, PathFilter } from '../../src/ignore/path-filter.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-filter-lookup-'));
  dirs.push(d);
  return d;
}

const noRules = { exclude: [], include: [] };
const P = (p: string) => p as RelPath;

describe('PathFilter lookups of the ignore files on each root', () => {
  it('reads an ignore file in a real directory of either root, and none behind a symlinked directory', () => {
    const [a, b, outside] = [temp(), temp(), temp()];
    mkdirSync(join(a, 'real'));
    mkdirSync(join(b, 'real'));
    writeFileSync(join(b, 'real', IGNORE_FILE), '*.log\n');
    // the other root's `linked` leads to a directory whose ignore file must not count
    writeFileSync(join(outside, IGNORE_FILE), '*.txt\n');
    mkdirSync(join(a, 'linked'));
    symlinkSync(outside, join(b, 'linked'));
    // and deeper: a real directory below the symlink, with an ignore file of its own
    mkdirSync(join(outside, 'deep'));
    writeFileSync(join(outside, 'deep', IGNORE_FILE), '*.md\n');
    const filter = new PathFilter(noRules, [absFromText(a) as AbsPath, absFromText(b) as AbsPath]);
    expect(filter.excludes(P('real/x.log'), false)).toBe(true);
    expect(filter.excludes(P('real/x.txt'), false)).toBe(false);
    expect(filter.excludes(P('linked/x.txt'), false)).toBe(false);
    expect(filter.excludes(P('linked/deep/x.md'), false)).toBe(false);
    filter.closeDirs();
  });

  it('reads the ignore file of a directory whose name is not UTF-8', () => {
    const [a, b] = [temp(), temp()];
    const name = Buffer.from([0x64, 0xff, 0xfe]); // "d" and two bytes no UTF-8 text holds
    const dirBytes = Buffer.concat([Buffer.from(`${b}/`), name]);
    mkdirSync(dirBytes);
    writeFileSync(Buffer.concat([dirBytes, Buffer.from(`/${IGNORE_FILE}`)]), '*.tmp\n');
    const filter = new PathFilter(noRules, [absFromText(a) as AbsPath, absFromText(b) as AbsPath]);
    const dir = name.toString('latin1');
    expect(filter.excludes(P(`${dir}/x.tmp`), false)).toBe(true);
    expect(filter.excludes(P(`${dir}/x.txt`), false)).toBe(false);
    filter.closeDirs();
  });
});
