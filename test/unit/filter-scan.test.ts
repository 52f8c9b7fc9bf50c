// A pair with a remote side is scanned without ignore-file pruning and filtered afterwards by one filter
// holding both sides' rules (ignore/filter-scan.ts): the result must be what one scan with both sides'
// rules would have kept.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, Problem, RelPath } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { dropExcluded } from '../../src/ignore/filter-scan.js';
import { PathFilter } from '../../src/ignore/path-filter.js';
import { scanTree } from '../../src/scan/scan.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): AbsPath {
  const root = mkdtempSync(join(tmpdir(), 'tsync-filter-scan-'));
  dirs.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return absFromText(root);
}

const noRules = { exclude: [], include: [] };

function scanOf(root: AbsPath, filter: PathFilter) {
  return scanTree({ root, side: 'left', base: new Map(), sideRecord: () => undefined, checksum: false, filter });
}

describe('dropExcluded', () => {
  it('drops everything below an excluded directory, as a pruned walk never sees it, even what --include names', () => {
    const here = tree({ 'build/keep.o': 'k', 'build/other.o': 'o', 'top.o': 't' });
    const rules = { exclude: [], include: ['build/keep.o'] };
    const theirs = new Map([['', 'build/\n']]);
    const pruned = scanOf(here, new PathFilter(rules, [here], { texts: theirs }));
    const scan = scanOf(here, new PathFilter(rules, [here], { applyIgnoreFiles: false }));
    expect(scan.entries.has('build/keep.o' as RelPath)).toBe(true);
    const entries = new Map(scan.entries);
    dropExcluded(entries, [], new PathFilter(rules, [here], { texts: theirs }));
    expect([...entries.keys()].sort()).toEqual([...pruned.entries.keys()].sort());
    expect([...entries.keys()].sort()).toEqual(['top.o']);
  });

  it('applies the other side’s ignore files to this side’s unpruned scan', () => {
    const here = tree({ 'keep.txt': 'k', 'build/out.o': 'o', 'build/deep/x.o': 'x', 'src/a.log': 'l', 'src/a.c': 'c', 'buildx/y': 'y' });
    const collecting = new PathFilter(noRules, [here], { applyIgnoreFiles: false });
    const scan = scanOf(here, collecting);
    expect(scan.entries.has('build/deep/x.o' as RelPath)).toBe(true); // not pruned while scanning
    // the far side's ignore files, as its agent read them
    const theirs = new Map([
      ['', 'build/\n'],
      ['src', '*.log\n'],
    ]);
    const both = new PathFilter(noRules, [here], { texts: theirs });
    const entries = new Map(scan.entries);
    const problems: Problem[] = [
      { path: 'build/deep/unreadable' as RelPath, side: 'left', code: 'unreadable', message: 'x' },
      { path: 'src/b.log' as RelPath, side: 'left', code: 'unreadable', message: 'y' },
      { path: 'src/d' as RelPath, side: 'left', code: 'unreadable', message: 'z' },
    ];
    dropExcluded(entries, problems, both);
    expect([...entries.keys()].sort()).toEqual(['buildx', 'buildx/y', 'keep.txt', 'src', 'src/a.c']);
    expect(problems.map((p) => p.path)).toEqual(['src/d']);
  });

  it('applies this side’s own ignore files, read but not applied while scanning', () => {
    const here = tree({ '.tsyncignore': '*.tmp\n', 'a.tmp': 't', 'b.txt': 'b' });
    const scan = scanOf(here, new PathFilter(noRules, [here], { applyIgnoreFiles: false }));
    expect(scan.entries.has('a.tmp' as RelPath)).toBe(true);
    const entries = new Map(scan.entries);
    dropExcluded(entries, [], new PathFilter(noRules, [here], { texts: new Map() }));
    expect([...entries.keys()].sort()).toEqual(['b.txt']);
  });
});
