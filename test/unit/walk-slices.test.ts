// A walk that shares its thread (scan/scan.ts walkTreeInSlices: a remote pair's local walk while ssh connects, an
// agent's walk) must find exactly what one synchronous walk finds, must let other work run between its slices, and
// must leave the working directory as it found it whenever that other work runs (the walk moves it only within a
// slice, scan/cwd-anchor.ts). Real trees in a temp directory; nothing is stood in for.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { walkTree, walkTreeInSlices, type WalkOptions } from '../../src/scan/scan.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'tsync-slices-'));
  made.push(root);
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(root, `d${d}`, 'inner'), { recursive: true });
    for (let f = 0; f < 25; f++) writeFileSync(join(root, `d${d}`, f % 2 === 0 ? `f${f}` : `inner/f${f}`), `${d}/${f}`);
  }
  symlinkSync('d0/f0', join(root, 'link'));
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x6e, 0xff, 0x2e, 0x74])]), 'not UTF-8');
  writeFileSync(join(root, '.tsync-tmp-leftover'), 'a temp file a killed run left');
  return root;
}

const optionsFor = (root: string): WalkOptions => ({ root: absFromText(root) as AbsPath, side: 'left', vouch: null, keep: { owner: true, group: true, xattrs: false } });

/** Every entry with its stat, without the time it was observed. */
function comparable(entries: ReadonlyMap<RelPath, { entry: unknown; stat: unknown }>): Map<RelPath, unknown> {
  return new Map([...entries].map(([p, s]) => [p, { entry: s.entry, stat: s.stat }]));
}

describe('a walk in slices', () => {
  it('finds what one synchronous walk finds, leftover temps included', async () => {
    const root = tree();
    const whole = walkTree(optionsFor(root));
    const sliced = await walkTreeInSlices(optionsFor(root), 0);
    expect(comparable(sliced.entries)).toEqual(comparable(whole.entries));
    expect(sliced.entries.size).toBe(40 * 27 + 2);
    expect(sliced.leftoverTemps).toEqual(whole.leftoverTemps);
    expect(sliced.leftoverTemps).toEqual(['.tsync-tmp-leftover']);
    expect(sliced.problems).toEqual(whole.problems);
  });

  it('lets other work run between slices, and that work sees the working directory it left', async () => {
    const root = tree();
    const home = process.cwd();
    const seen: string[] = [];
    let turns = 0;
    let walking = true;
    const other = (): void => {
      if (!walking) return;
      turns++;
      seen.push(realpathSync('.'));
      setImmediate(other);
    };
    setImmediate(other);
    const sliced = walkTreeInSlices(optionsFor(root), 0).finally(() => {
      walking = false;
    });
    await sliced;
    expect(turns).toBeGreaterThan(10);
    expect(new Set(seen)).toEqual(new Set([realpathSync(home)]));
    expect(process.cwd()).toBe(home);
  });
});
