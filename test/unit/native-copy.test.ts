// A small file's copy in one call of the addon (native/copy_small.c through engine/copy-file.ts copySmallNatively)
// against the copy through Node's fs that it stands in for: the same bytes, hash, mode and times at the target, the
// same refusals, nothing left behind when it refuses. And its XXH64 against the WebAssembly one the rest of tsync
// hashes with, for every length around the algorithm's stripes and tails.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileAtomic, SMALL_FILE_MAX, SourceReadError } from '../../src/engine/copy-file.js';
import { StaleTargetError } from '../../src/engine/guards.js';
import { addonPath, COPY_OUT, CopySmallStage, nativeCopySmall } from '../../src/fs/native-listing.js';
import { statIdOf } from '../../src/fs/stat.js';
import { hash64, hashBytes, loadHasher } from '../../src/hash/xxhash.js';
import type { ScannedEntry } from '../../src/core/types.js';
import { withAndWithoutAddon } from '../helpers/addon.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-native-copy-'));
  made.push(d);
  return d;
}

beforeAll(loadHasher);

/** The file at `path` as a scan sees it. */
function scanned(path: string): ScannedEntry {
  const st = lstatSync(path, { bigint: true });
  return { entry: { kind: 'file', size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode) & 0o7777, hash: null }, stat: statIdOf(st), observedAtNs: 0n };
}

/** Copies `from` to a new file `name` in `toDir`, as the engine asks for a path the scan found nothing at. */
function copy(from: string, source: ScannedEntry, toDir: string, name: string, racyWindowNs = 0n) {
  return copyFileAtomic({
    sourceAbs: Buffer.from(from),
    targetDirAbs: Buffer.from(toDir),
    targetAbs: Buffer.from(join(toDir, name)),
    source,
    expect: null,
    label: name,
    beforeRename: () => undefined,
    keepReplaced: () => undefined,
    sourceRacyWindowNs: racyWindowNs,
  });
}

/** withAndWithoutAddon, checking that the copy goes through the addon exactly when it is in use. */
function bothWays(check: (native: boolean) => Promise<void>): Promise<void> {
  return withAndWithoutAddon(async (native) => {
    expect(nativeCopySmall() !== null).toBe(native);
    await check(native);
  });
}

describe("the addon's small-file copy", () => {
  it('hashes as the WebAssembly XXH64 does, for every length up to 600 bytes and for larger ones', () => {
    const addon = createRequire(import.meta.url)(addonPath()) as { xxh64: (b: Uint8Array) => bigint };
    for (let n = 0; n <= 600; n++) {
      const bytes = randomBytes(n);
      expect([n, addon.xxh64(bytes)]).toEqual([n, hash64(bytes)]);
    }
    for (const n of [4096, 65_537, SMALL_FILE_MAX]) {
      const bytes = randomBytes(n);
      expect([n, addon.xxh64(bytes)]).toEqual([n, hash64(bytes)]);
    }
  });

  it('makes the copy the JavaScript copy makes: bytes, hash, mode and times, for sizes around its stripes and its buffer', async () => {
    const src = temp();
    const sizes = [0, 1, 31, 32, 33, 100, 4096, 65_537, SMALL_FILE_MAX];
    for (const n of sizes) {
      const path = join(src, `f${n}`);
      writeFileSync(path, randomBytes(n));
      chmodSync(path, n % 2 === 0 ? 0o640 : 0o4755);
      utimesSync(path, 1_000_000_000.123456, 981_173_106.987654);
    }
    const results = new Map<string, unknown[]>();
    await bothWays(async (native) => {
      const dst = temp();
      for (const n of sizes) {
        const from = join(src, `f${n}`);
        // the source's atime as the copy finds it (reading it moves it on: the two runs see different ones)
        const atimeUs = lstatSync(from, { bigint: true }).atimeNs / 1000n;
        const r = await copy(from, scanned(from), dst, `f${n}`);
        const st = lstatSync(join(dst, `f${n}`), { bigint: true });
        expect(st.atimeNs / 1000n).toBe(atimeUs);
        const seen = [r.entry, r.bytes, readFileSync(join(dst, `f${n}`)).equals(readFileSync(from)), Number(st.mode) & 0o7777, st.mtimeNs, r.target.stat.ino === st.ino];
        expect(seen[0]).toMatchObject({ hash: hashBytes(readFileSync(from)), size: n });
        const other = results.get(`f${n}`);
        if (other === undefined) results.set(`f${n}`, seen);
        else expect([native, n, ...seen]).toEqual([native, n, ...other]);
      }
      expect(readdirSync(dst).sort()).toEqual(sizes.map((n) => `f${n}`).sort());
    });
  });

  it('reads a source with a ctime too recent to prove anything a second time, and copies it all the same', async () => {
    await bothWays(async () => {
      const src = temp();
      const dst = temp();
      writeFileSync(join(src, 'fresh'), 'written a moment ago');
      const r = await copy(join(src, 'fresh'), scanned(join(src, 'fresh')), dst, 'fresh', 10n ** 15n);
      expect([r.entry.kind === 'file' && r.entry.hash, readFileSync(join(dst, 'fresh'), 'utf8')]).toEqual([hashBytes(Buffer.from('written a moment ago')), 'written a moment ago']);
    });
  });

  it('refuses a source changed since the scan, or swapped for a symlink, and leaves nothing at the target', async () => {
    await bothWays(async () => {
      const src = temp();
      const dst = temp();
      writeFileSync(join(src, 'f'), 'as scanned');
      const seen = scanned(join(src, 'f'));
      writeFileSync(join(src, 'f'), 'rewritten after the scan');
      await expect(copy(join(src, 'f'), seen, dst, 'f')).rejects.toThrow(StaleTargetError);
      symlinkSync('f', join(src, 'link'));
      await expect(copy(join(src, 'link'), seen, dst, 'link')).rejects.toThrow(/became a symlink/);
      await expect(copy(join(src, 'gone'), seen, dst, 'gone')).rejects.toThrow(SourceReadError);
      expect(readdirSync(dst)).toEqual([]);
    });
  });

  it('leaves a sparse source to the JavaScript copy, which keeps its holes', async () => {
    const src = temp();
    writeFileSync(join(src, 'sparse'), 'end');
    truncateSync(join(src, 'sparse'), 512 * 1024);
    await bothWays(async () => {
      const dst = temp();
      await copy(join(src, 'sparse'), scanned(join(src, 'sparse')), dst, 'sparse');
      const st = lstatSync(join(dst, 'sparse'));
      expect([st.size, st.blocks * 512 < st.size, readFileSync(join(dst, 'sparse')).equals(readFileSync(join(src, 'sparse')))]).toEqual([512 * 1024, true, true]);
    });
  });

  it('answers each refusal with its stage and errno, and makes no temp file or removes the one it made', () => {
    const native = nativeCopySmall();
    if (native === null) throw new Error('the addon is not in use');
    const dir = temp();
    const out = new BigInt64Array(COPY_OUT.length);
    const scratch = Buffer.allocUnsafe(64 * 1024 + 1);
    const at = (name: string): Buffer => Buffer.from(join(dir, name));
    const call = (from: string, to: string): [number, number] => {
      const r = native.copy(at(from), at(to), scratch, out, 0);
      return [r, Number(out[COPY_OUT.stage])];
    };
    writeFileSync(join(dir, 'f'), 'content');
    symlinkSync('f', join(dir, 'link'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'big'), Buffer.alloc(64 * 1024 + 1, 1));
    writeFileSync(join(dir, 'taken'), 'someone else');
    expect(call('link', 't1')).toEqual([-40 /* ELOOP */, CopySmallStage.openSource]);
    expect(call('missing', 't2')).toEqual([-2 /* ENOENT */, CopySmallStage.openSource]);
    expect(call('sub', 't3')).toEqual([-22 /* EINVAL */, CopySmallStage.notAFile]);
    expect(call('big', 't4')).toEqual([-11 /* EAGAIN */, CopySmallStage.notHere]);
    expect(call('f', 'taken')).toEqual([-17 /* EEXIST */, CopySmallStage.createTemp]);
    expect(readFileSync(join(dir, 'taken'), 'utf8')).toBe('someone else');
    expect(readdirSync(dir).sort()).toEqual(['big', 'f', 'link', 'sub', 'taken']);
    // and one that goes through: its descriptor is the caller's, the file at the temp name, the hash in `out`
    const fd = native.copy(at('f'), at('t5'), scratch, out, 0);
    expect(fd).toBeGreaterThanOrEqual(0);
    native.close(fd);
    expect([readFileSync(join(dir, 't5'), 'utf8'), BigInt.asUintN(64, out[COPY_OUT.hash] ?? 0n), Number(out[COPY_OUT.bytes])]).toEqual(['content', hash64(Buffer.from('content')), 7]);
  });
});
