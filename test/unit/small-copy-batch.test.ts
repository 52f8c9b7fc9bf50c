// The copy worker's (and the main thread's share of) new small files copied a directory at a time in one call of the
// addon (src/engine/small-copy-batch.ts, native/copy_small.c copySmallBatch), against the usual way it stands in for
// (engine/local-copy.ts copyLocally, one file at a time): the same bytes, mode, times and owner at the target, the
// same result to record, and for every file it cannot install, nothing made and the file left to the usual way,
// which then reports what it always reported. Real files in a temp directory; nothing is mocked.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AbsPath, FileEntry, KeptMeta, RelPath, ScannedEntry } from '../../src/core/types.js';
import { MetaWriter } from '../../src/engine/apply-meta.js';
import { SourceReadError } from '../../src/engine/copy-file.js';
import { DirAnchors } from '../../src/engine/dir-anchors.js';
import { AncestorGuard, StaleTargetError } from '../../src/engine/guards.js';
import { copyLocally, type LocalCopied, type LocalRunSide } from '../../src/engine/local-copy.js';
import { copyRun, SMALL_BATCH_MAX, SmallCopyBatcher, sameDirectoryRun } from '../../src/engine/small-copy-batch.js';
import { statIdOf } from '../../src/fs/stat.js';
import { isTempName } from '../../src/fs/temp-name.js';
import { loadHasher } from '../../src/hash/xxhash.js';

const made: string[] = [];
const runs: LocalRunSide[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.anchors.closeAll();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

beforeAll(loadHasher);

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-small-batch-'));
  made.push(d);
  return d;
}

const ALL: KeptMeta = { owner: true, group: true, xattrs: true };

/** A run on `root` as the copy worker makes one (copy-worker.ts runOn): meta null where nothing is kept. */
function runOn(root: string, keep: KeptMeta | null, warnings: string[] = []): LocalRunSide {
  const run: LocalRunSide = {
    root: root as AbsPath,
    anchors: new DirAnchors(root as AbsPath, new AncestorGuard(root as AbsPath)),
    trash: null,
    meta: keep === null ? null : new MetaWriter(keep, (m) => warnings.push(m), false),
    racyWindowNs: 0n,
    installed: new Map(),
  };
  runs.push(run);
  return run;
}

/** The file at `path` under `root` as a scan with the index's xattr digest sees it ('' : none; keep says which fields). */
function scanned(root: string, path: string, keep: KeptMeta | null): ScannedEntry & { readonly entry: FileEntry } {
  const st = lstatSync(join(root, path), { bigint: true });
  const ids = keep === null ? {} : { uid: Number(st.uid), gid: Number(st.gid), xattrs: '' };
  return { entry: { kind: 'file', size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode) & 0o7777, hash: null, ...ids }, stat: statIdOf(st), observedAtNs: 0n };
}

interface Copies {
  /** The result recorded for each path, by whichever way copied it. */
  readonly results: Map<string, LocalCopied | Error>;
  /** The paths the usual way copied. */
  readonly usual: string[];
}

/** copyRun over `paths` (one directory) from `src` to `dst`, the usual way being copyLocally, as the worker runs it. */
async function batchCopy(batcher: SmallCopyBatcher, src: LocalRunSide, dst: LocalRunSide, paths: readonly string[], sources: ReadonlyMap<string, ScannedEntry>): Promise<Copies> {
  const results = new Map<string, LocalCopied | Error>();
  const usual: string[] = [];
  const copyOf = (p: string) => ({ path: p as RelPath, source: sources.get(p) as ScannedEntry });
  await copyRun(
    batcher,
    { src, dst },
    paths,
    copyOf,
    async (p) => {
      usual.push(p);
      try {
        results.set(p, await copyLocally(src, p as RelPath, copyOf(p).source, dst, p as RelPath, null));
      } catch (e) {
        results.set(p, e as Error);
      }
    },
    (p, r) => results.set(p, 'ok' in r ? r.ok : r.error),
  );
  return { results, usual };
}

/** What stands at `path`, as the tests compare two copies of it. */
function installed(root: string, path: string) {
  const st = lstatSync(join(root, path), { bigint: true });
  return { bytes: readFileSync(join(root, path)).toString('hex'), mode: st.mode, uid: st.uid, gid: st.gid, mtimeNs: st.mtimeNs, nlink: st.nlink };
}

function tempNamesIn(dir: string): string[] {
  return readdirSync(dir).filter(isTempName);
}

function batcherOrSkip(): SmallCopyBatcher {
  const b = SmallCopyBatcher.create();
  if (b === null) throw new Error('the addon is not built: these tests need it (npm run build:native)');
  return b;
}

/** A source tree `dir/` of files of sizes around the hash's stripes, with modes and owners of their own. */
function makeSources(root: string, dir: string, count: number): string[] {
  mkdirSync(join(root, dir), { recursive: true });
  const sizes = [0, 1, 31, 32, 33, 100, 4096, 65_537, 200_000];
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = `${dir}/f${i}`;
    writeFileSync(join(root, p), randomBytes(sizes[i % sizes.length] as number));
    chmodSync(join(root, p), [0o644, 0o600, 0o755, 0o4755, 0o640][i % 5] as number);
    if (i % 3 === 1) chownSync(join(root, p), 4242, 4343);
    paths.push(p);
  }
  return paths;
}

describe('small copies of one directory in one call of the addon', () => {
  it('install what the usual way installs and give the same results, keeping owners or not', async () => {
    const batcher = batcherOrSkip();
    for (const keep of [ALL, null]) {
      const src = temp();
      const paths = makeSources(src, 'd', SMALL_BATCH_MAX);
      const sources = new Map(paths.map((p) => [p, scanned(src, p, keep)]));
      // the source's atime before it is read (a read may move it): what its copy gets, to the microsecond
      const atimeUs = new Map(paths.map((p) => [p, lstatSync(join(src, p), { bigint: true }).atimeNs / 1000n]));
      const byBatch = temp();
      const byUsual = temp();
      mkdirSync(join(byBatch, 'd'));
      mkdirSync(join(byUsual, 'd'));
      const batched = await batchCopy(batcher, runOn(src, keep), runOn(byBatch, keep), paths, sources);
      // keeping owners, the directory's first copy goes the usual way (it learns what a fresh file gets there)
      expect(batched.usual).toEqual(keep === null ? [] : [paths[0]]);
      const usualRun = runOn(byUsual, keep);
      const srcRun = runOn(src, keep);
      for (const p of paths) {
        const want = await copyLocally(srcRun, p as RelPath, sources.get(p) as ScannedEntry, usualRun, p as RelPath, null);
        const got = batched.results.get(p) as LocalCopied;
        expect(got).not.toBeInstanceOf(Error);
        // (before anything reads the copy, which may move its atime)
        expect(lstatSync(join(byBatch, p), { bigint: true }).atimeNs / 1000n).toBe(atimeUs.get(p));
        expect(installed(byBatch, p)).toEqual(installed(byUsual, p));
        // the same fields recorded; the installed inode's stat as it now is
        expect(got.target.entry).toEqual(want.target.entry);
        expect(got.source.entry).toEqual(want.source.entry);
        expect(got.source.stat).toEqual(want.source.stat);
        expect(got.bytes).toBe(want.bytes);
        expect(got.target.stat).toEqual(statIdOf(lstatSync(join(byBatch, p), { bigint: true })));
      }
      expect(tempNamesIn(join(byBatch, 'd'))).toEqual([]);
    }
  });

  it('puts right an owner the directory first copy taught wrong (a directory made setgid meanwhile)', async () => {
    const batcher = batcherOrSkip();
    const src = temp();
    const paths = makeSources(src, 'd', 8);
    for (const p of paths) chownSync(join(src, p), 0, 0);
    const sources = new Map(paths.map((p) => [p, scanned(src, p, ALL)]));
    const dst = temp();
    mkdirSync(join(dst, 'd'));
    const srcRun = runOn(src, ALL);
    const dstRun = runOn(dst, ALL);
    // the first copy teaches that a fresh file there is root's: the later ones are not chowned
    const first = await batchCopy(batcher, srcRun, dstRun, paths.slice(0, 1), sources);
    expect(first.usual).toEqual([paths[0]]);
    chownSync(join(dst, 'd'), 0, 4343);
    chmodSync(join(dst, 'd'), 0o2755); // now a fresh file there gets the group 4343
    const rest = await batchCopy(batcher, srcRun, dstRun, paths.slice(1), sources);
    expect(rest.usual).toEqual([]);
    for (const p of paths.slice(1)) {
      expect(installed(dst, p).gid).toBe(0n);
      expect(installed(dst, p).mode & 0o7777n).toBe(BigInt(lstatSync(join(src, p)).mode & 0o7777));
      const got = rest.results.get(p) as LocalCopied;
      expect(got.target.entry).toMatchObject({ uid: 0, gid: 0 });
      expect(got.target.stat).toEqual(statIdOf(lstatSync(join(dst, p), { bigint: true })));
    }
  });

  it('leaves to the usual way, with nothing made, what it cannot install, which then reports it as always', async () => {
    const batcher = batcherOrSkip();
    const src = temp();
    const paths = makeSources(src, 'd', 12);
    const sources = new Map(paths.map((p) => [p, scanned(src, p, ALL)]));
    const [taken, rewritten, swapped, sparse, tagged, gone] = paths.slice(1) as [string, string, string, string, string, string];
    const dst = temp();
    mkdirSync(join(dst, 'd'));
    const srcRun = runOn(src, ALL);
    const dstRun = runOn(dst, ALL);
    await batchCopy(batcher, srcRun, dstRun, paths.slice(0, 1), sources); // the directory's first, the usual way
    // after the scan: a file made at a target, a source rewritten, one swapped for a symlink, one removed
    writeFileSync(join(dst, taken), 'someone else made this\n');
    writeFileSync(join(src, rewritten), 'a new, longer content than it had before\n'.repeat(10));
    unlinkSync(join(src, swapped));
    symlinkSync('elsewhere', join(src, swapped));
    unlinkSync(join(src, gone));
    // and at the scan: a source with holes (the sparse copy keeps them), one with an xattr (the usual way sets it)
    truncateSync(join(src, sparse), 900 * 1024); // small enough for a small copy, mostly hole
    sources.set(sparse, scanned(src, sparse, ALL));
    execFileSync('setfattr', ['-n', 'user.tsync-test', '-v', 'kept', join(src, tagged)]);
    const withXattr = scanned(src, tagged, ALL);
    sources.set(tagged, { ...withXattr, entry: { ...withXattr.entry, xattrs: 'digest of user.tsync-test' } });
    const second = paths.slice(1);
    const got = await batchCopy(batcher, srcRun, dstRun, second, sources);
    expect(new Set(got.usual)).toEqual(new Set([taken, rewritten, swapped, sparse, tagged, gone]));
    expect(readFileSync(join(dst, taken), 'utf8')).toBe('someone else made this\n');
    for (const p of [taken, rewritten, swapped]) expect(got.results.get(p)).toBeInstanceOf(StaleTargetError);
    expect(got.results.get(gone)).toBeInstanceOf(SourceReadError);
    expect((got.results.get(gone) as SourceReadError).errno).toBe('ENOENT');
    for (const p of [rewritten, swapped, gone]) expect(() => lstatSync(join(dst, p))).toThrow();
    expect(lstatSync(join(dst, sparse)).size).toBe(900 * 1024);
    expect(lstatSync(join(dst, sparse)).blocks * 512).toBeLessThan(900 * 1024);
    expect(execFileSync('getfattr', ['--only-values', '-n', 'user.tsync-test', join(dst, tagged)]).toString()).toBe('kept');
    for (const p of second.filter((q) => !got.usual.includes(q))) expect(got.results.get(p)).not.toBeInstanceOf(Error);
    expect(tempNamesIn(join(dst, 'd'))).toEqual([]);
  });

  it('answers each file of a run in its place, with files of another directory left to the usual way', async () => {
    const batcher = batcherOrSkip();
    const src = temp();
    const here = makeSources(src, 'd', 5);
    const there = makeSources(src, 'e', 2);
    const dst = temp();
    mkdirSync(join(dst, 'd'));
    mkdirSync(join(dst, 'e'));
    const srcRun = runOn(src, null);
    const dstRun = runOn(dst, null);
    const mixed = [here[0], there[0], here[1], here[2], there[1], here[3]] as string[];
    const answers = batcher.copy(
      srcRun,
      dstRun,
      mixed.map((p) => p as RelPath),
      mixed.map((p) => scanned(src, p, null)),
    );
    expect(answers.map((a) => (a === null ? null : 'ok' in a ? 'ok' : 'error'))).toEqual(['ok', null, 'ok', 'ok', null, 'ok']);
    for (const [i, p] of mixed.entries()) {
      const a = answers[i];
      if (a === null || a === undefined || !('ok' in a)) continue;
      expect(readFileSync(join(dst, p))).toEqual(readFileSync(join(src, p)));
      expect(a.ok.target.stat.ino).toBe(lstatSync(join(dst, p), { bigint: true }).ino);
    }
    expect(() => lstatSync(join(dst, there[0] as string))).toThrow();
  });
});

describe('the runs a batch is given (sameDirectoryRun)', () => {
  type Item = { readonly path: RelPath; readonly to: 'left' | 'right'; readonly mine: boolean };
  const item = (path: string, to: 'left' | 'right' = 'right', mine = true): Item => ({ path: path as RelPath, to, mine });
  const mine = (x: Item): x is Item => x.mine;
  /** Every run of `list`, as the callers walk it: from each item `mine` takes, on from where the last run ended. */
  const runs = (list: readonly Item[]): string[][] => {
    const out: string[][] = [];
    let i = 0;
    while (i < list.length) {
      if (!mine(list[i] as Item)) {
        i++;
        continue;
      }
      const { run, next } = sameDirectoryRun(list, i, list.length, mine, (x) => x.to);
      out.push(run.map((x) => `${x.to}:${x.path}`));
      i = next;
    }
    return out;
  };

  it('ends a run at another directory, at the other way, at SMALL_BATCH_MAX, and passes over items not taken', () => {
    const list = [item('a/1'), item('a/x', 'right', false), item('a/2'), item('a/3', 'left'), item('a/4', 'left'), item('a/b/5', 'left'), item('6', 'left'), item('7', 'left')];
    expect(runs(list)).toEqual([['right:a/1', 'right:a/2'], ['left:a/3', 'left:a/4'], ['left:a/b/5'], ['left:6', 'left:7']]);
    const many = Array.from({ length: SMALL_BATCH_MAX + 3 }, (_, k) => item(`d/f${k}`));
    expect(runs(many).map((r) => r.length)).toEqual([SMALL_BATCH_MAX, 3]);
  });

  it('stops at `end` (the worker takes from the back of the same list)', () => {
    const list = [item('a/1'), item('a/2'), item('a/3')];
    const { run, next } = sameDirectoryRun(list, 0, 2, mine, (x) => x.to);
    expect([run.map((x) => x.path), next]).toEqual([['a/1', 'a/2'], 2]);
  });
});
