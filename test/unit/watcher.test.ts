// The directory watcher against a real tree: new directories are watched, vanished ones dropped,
// names are hinted byte-exactly, and a removed root is a failure. Waits poll for the hint; nothing is timed.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, Side } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { watchRoot, type RootWatch } from '../../src/watch/watcher.js';

interface Watched {
  readonly dir: string;
  readonly watch: RootWatch;
  readonly hints: (RelPath | null)[];
  readonly failures: string[];
}

const open: Watched[] = [];

function start(build: (dir: string) => void = () => undefined, knownDirs?: readonly string[]): Watched {
  const dir = mkdtempSync(join(tmpdir(), 'tsync-watcher-'));
  build(dir);
  const hints: (RelPath | null)[] = [];
  const failures: string[] = [];
  const watch = watchRoot(
    absFromText(dir) as AbsPath,
    'left',
    {
      onHint: (_side: Side, path) => hints.push(path),
      onFailure: (_side: Side, message) => failures.push(message),
    },
    knownDirs?.map((d) => d as RelPath),
  );
  const w = { dir, watch, hints, failures };
  open.push(w);
  return w;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

afterEach(async () => {
  for (const w of open.splice(0)) {
    await w.watch.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

describe('watchRoot', () => {
  it('watches the directories found at start, not the files', async () => {
    const w = start((d) => {
      mkdirSync(join(d, 'a/b'), { recursive: true });
      mkdirSync(join(d, 'c'));
      for (let i = 0; i < 20; i++) writeFileSync(join(d, 'a/b', `f${i}`), 'x');
    });
    await w.watch.ready;
    expect(w.watch.watchedDirs).toBe(4); // root, a, a/b, c
    writeFileSync(join(w.dir, 'a/b/f3'), 'changed');
    await until('hint a/b/f3', () => w.hints.includes('a/b/f3' as RelPath));
  });

  it('watches a directory tree made after the start, and hints what is made inside it', async () => {
    const w = start();
    await w.watch.ready;
    mkdirSync(join(w.dir, 'n/m/k'), { recursive: true });
    await until('n is hinted', () => w.hints.includes('n' as RelPath));
    await until('n, n/m and n/m/k are watched', () => w.watch.watchedDirs === 4);
    writeFileSync(join(w.dir, 'n/m/k/new'), 'x');
    await until('hint n/m/k/new', () => w.hints.includes('n/m/k/new' as RelPath));
  });

  it('drops the watches of a removed directory and follows a renamed one under its new name', async () => {
    const w = start((d) => {
      mkdirSync(join(d, 'gone/sub'), { recursive: true });
      mkdirSync(join(d, 'old'));
    });
    await w.watch.ready;
    expect(w.watch.watchedDirs).toBe(4);
    rmSync(join(w.dir, 'gone'), { recursive: true });
    await until('gone and gone/sub unwatched', () => w.watch.watchedDirs === 2);
    renameSync(join(w.dir, 'old'), join(w.dir, 'new'));
    await until('hints old and new', () => w.hints.includes('old' as RelPath) && w.hints.includes('new' as RelPath));
    writeFileSync(join(w.dir, 'new/f'), 'x');
    await until('hint new/f', () => w.hints.includes('new/f' as RelPath));
    expect(w.watch.watchedDirs).toBe(2);
  });

  it('hints a name that is not valid UTF-8 byte for byte', async () => {
    const w = start((d) => mkdirSync(join(d, 'd')));
    await w.watch.ready;
    const name = Buffer.from([0x66, 0xff, 0x67]); // f, an invalid byte, g
    writeFileSync(Buffer.concat([Buffer.from(`${join(w.dir, 'd')}/`), name]), 'x');
    await until('hint d/<bytes>', () => w.hints.includes(`d/${name.toString('latin1')}` as RelPath));
  });

  it('tells of a removed root as a failure', async () => {
    const w = start();
    await w.watch.ready;
    rmSync(w.dir, { recursive: true });
    await until('a failure', () => w.failures.length > 0);
    expect(w.failures[0]).toMatch(/removed or unmounted/);
  });

  it('does not watch its own .tsync directories', async () => {
    const w = start((d) => mkdirSync(join(d, '.tsync-trash/x'), { recursive: true }));
    await w.watch.ready;
    expect(w.watch.watchedDirs).toBe(1);
  });

  it('watches the directories it is told of without listing, then adopts those a scan found and drops those it did not', async () => {
    const w = start(
      (d) => {
        mkdirSync(join(d, 'a'));
        mkdirSync(join(d, 'b'));
        writeFileSync(join(d, 'was-a-dir'), 'x');
      },
      ['a', 'was-a-dir', 'gone'],
    );
    await w.watch.ready;
    expect(w.watch.watchedDirs).toBe(3); // root, a, and was-a-dir (a file now: a scan puts that right); gone is skipped
    expect(w.watch.adopt(new Set(['a', 'b'].map((d) => d as RelPath)))).toEqual(['b']);
    expect(w.watch.watchedDirs).toBe(3); // root, a, b
    writeFileSync(join(w.dir, 'b/f'), 'x');
    await until('hint b/f', () => w.hints.includes('b/f' as RelPath));
    expect(w.watch.adopt(new Set(['b' as RelPath]))).toEqual([]);
    expect(w.watch.watchedDirs).toBe(2);
  });
});
