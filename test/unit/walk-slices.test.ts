// A walk that shares its thread (scan/scan.ts walkTreeInSlices: a remote pair's local walk while ssh connects, an
// agent's walk) must find exactly what one synchronous walk finds, must let other work run between its slices, and
// must leave the working directory as it found it whenever that other work runs (the walk moves it only within a
// slice, fs/work-dir.ts). Real trees in a temp directory; nothing is stood in for.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, ScannedEntry } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { type StreamedWalkEnd, walkTree, walkTreeInSlices, walkTreeStreamed, type WalkOptions } from '../../src/scan/scan.js';

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

describe('a walk that hands its entries on as it goes (walkTreeStreamed: what an agent sends while it walks)', () => {
  /** Every part the walk hands on, and what it returns at the end. */
  async function drain(
    walk: AsyncGenerator<[RelPath, ScannedEntry][], StreamedWalkEnd>,
    between?: (partsSoFar: number) => void,
  ): Promise<{ handed: [RelPath, ScannedEntry][]; parts: number; result: StreamedWalkEnd }> {
    const handed: [RelPath, ScannedEntry][] = [];
    let parts = 0;
    for (;;) {
      const next = await walk.next();
      if (next.done === true) return { handed, parts, result: next.value };
      handed.push(...next.value);
      parts++;
      between?.(parts);
    }
  }

  it('hands on each entry that one synchronous walk finds exactly once, over many slices, and counts them', async () => {
    const root = tree();
    const whole = walkTree(optionsFor(root));
    const { handed, parts, result } = await drain(walkTreeStreamed(optionsFor(root), 0));
    expect(parts).toBeGreaterThan(10);
    expect(new Set(handed.map(([p]) => p)).size).toBe(handed.length);
    expect(result.count).toBe(handed.length);
    expect(comparable(new Map(handed))).toEqual(comparable(whole.entries));
    expect(result.leftoverTemps).toEqual(['.tsync-tmp-leftover']);
    expect(result.problems).toEqual([]);
  });

  it('never hands on a directory that vanished between being found and being listed', async () => {
    const root = tree();
    // after the first slice the root is listed and its directories found, none of them listed yet (a slice of 0 ms
    // lists one directory): one of them goes now, between two slices, as another process might remove it
    const { handed, result } = await drain(walkTreeStreamed(optionsFor(root), 0), (parts) => {
      if (parts === 1) rmSync(join(root, 'd7'), { recursive: true });
    });
    expect(handed.some(([p]) => p === 'd7' || p.startsWith('d7/'))).toBe(false);
    expect(handed.length).toBe(39 * 27 + 2);
    expect(result.count).toBe(handed.length);
  });

  it('fails at the first step when the root cannot be walked, and ends the walk when its reader stops early', async () => {
    const missing = join(tree(), 'not-there');
    await expect(walkTreeStreamed(optionsFor(missing), 0).next()).rejects.toThrow();
    const root = tree();
    const home = process.cwd();
    const walk = walkTreeStreamed(optionsFor(root), 0);
    await walk.next();
    await walk.return({ side: 'left', count: 0, problems: [], leftoverTemps: [] });
    expect((await walk.next()).done).toBe(true);
    expect(process.cwd()).toBe(home);
  });
});
