// A scan that keeps xattrs asks the addon first whether an entry has any at all (fs/native-listing.ts nativeNoXattrs,
// listxattrat(2) on the walk's descriptor), and reads them through the library only when it has (scan/read-meta.ts).
// Real trees with real user.* attributes: the digests must be exactly those of the library's way (TSYNC_NATIVE=0),
// entry by entry, names that are not UTF-8 and symlinks (never followed) included; and the question itself must
// answer "none" only where the library lists nothing.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { NUMBERS_PER_NAME, nativeLister, nativeNoXattrs, XATTR_LIST_SIZE } from '../../src/fs/native-listing.js';
import { absFromText } from '../../src/fs/paths.js';
import { listKeptXattrs, xattrsAvailable } from '../../src/fs/xattrs.js';
import { walkTree, type WalkOptions } from '../../src/scan/scan.js';
import { ScannedXattrValues } from '../../src/scan/xattr-values.js';

const made: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-scan-no-xattrs-'));
  made.push(d);
  return d;
}

function setXattr(abs: string, name: string, value: string): void {
  execFileSync('setfattr', ['-n', name, '-v', value, abs]);
}

/** Plain and decorated files and directories, symlinks to both kinds, and a plain file whose name is not UTF-8. */
function tree(root: string): void {
  for (const d of ['plain-dir', 'noted-dir/inner']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['plain.txt', 'noted.txt', 'noted-dir/inner/deep.txt', 'plain-dir/also-plain.txt']) writeFileSync(join(root, f), f);
  writeFileSync(Buffer.concat([Buffer.from(`${root}/plain-dir/`), Buffer.from([0x6c, 0xe9, 0xff])]), 'latin1 bytes');
  setXattr(join(root, 'noted.txt'), 'user.note', 'a file');
  setXattr(join(root, 'noted-dir'), 'user.note', 'a directory');
  setXattr(join(root, 'noted-dir/inner/deep.txt'), 'user.one', '1');
  setXattr(join(root, 'noted-dir/inner/deep.txt'), 'user.two', '2');
  // a symlink has no attributes of its own here: the one to a decorated file must not answer for its target
  symlinkSync('noted.txt', join(root, 'link-to-noted'));
  symlinkSync('noted-dir', join(root, 'link-to-noted-dir'));
}

/** `firstSync`: the walk knows the index empty (expectedEntries 0), so its listings size the xattr lists (scan.ts probesXattrs). */
function digests(root: string, values?: ScannedXattrValues, firstSync = false): Map<RelPath, string | undefined> {
  const opts: WalkOptions = {
    root: absFromText(root) as AbsPath,
    side: 'left',
    vouch: null,
    keep: { owner: false, group: false, xattrs: true },
    ...(values === undefined ? {} : { xattrValues: values }),
    ...(firstSync ? { expectedEntries: 0 } : {}),
  };
  const out = new Map<RelPath, string | undefined>();
  for (const [path, s] of walkTree(opts).entries) out.set(path, 'xattrs' in s.entry ? s.entry.xattrs : undefined);
  return out;
}

describe.runIf(xattrsAvailable())('asking the addon whether an entry has xattrs before reading them', () => {
  it('answers "none" exactly where the library lists no name, and never through a symlink', () => {
    const root = temp();
    tree(root);
    const noXattrs = nativeNoXattrs();
    if (noXattrs === null) throw new Error('no native listing');
    const dir = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const names = ['plain.txt', 'noted.txt', 'plain-dir', 'noted-dir', 'link-to-noted', 'link-to-noted-dir'];
      // listxattrat(2) where the kernel has it (Linux 6.13), and the way of older ones, forced
      for (const throughProc of [false, true]) {
        const ask = (n: string): boolean => noXattrs(dir, n, throughProc);
        expect(names.map((n) => [n, ask(n)])).toEqual(names.map((n) => [n, listKeptXattrs(`/proc/self/fd/${dir}/${n}`).length === 0]));
        expect(names.filter(ask)).toEqual(['plain.txt', 'plain-dir', 'link-to-noted', 'link-to-noted-dir']);
        // an error is not "none": the caller reads the usual way and meets it there
        expect([throughProc, ask('missing'), ask('noted-dir/inner'), ask('')]).toEqual([throughProc, false, false, false]);
      }
    } finally {
      closeSync(dir);
    }
  });

  it('gives every entry the digest the library gives, and keeps the values of those that have some for the copy', () => {
    const root = temp();
    tree(root);
    const values = new ScannedXattrValues();
    const native = digests(root, values);
    vi.stubEnv('TSYNC_NATIVE', '0');
    const library = digests(root);
    expect(native).toEqual(library);
    expect(native.size).toBe(10);
    expect(native.get('plain.txt' as RelPath)).toBe('');
    expect(native.get('plain-dir' as RelPath)).toBe('');
    expect(native.get('noted.txt' as RelPath)).toMatch(/^[0-9a-f]{16}$/);
    expect(native.get('noted-dir/inner/deep.txt' as RelPath)).toMatch(/^[0-9a-f]{16}$/);
    // the three decorated entries; nothing for the rest
    expect(values.size).toBe(3);
  });

  it('has the listing size each list where the walk asks (a first sync): the same digests, and -1 where not asked or not a file or directory', () => {
    const root = temp();
    tree(root);
    const lister = nativeLister();
    if (lister === null) throw new Error('no native listing');
    const dir = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      for (const probe of [true, false]) {
        const listing = lister(dir, probe);
        const sizes = new Map(listing.names.map((n, i) => [n, listing.numbers[i * NUMBERS_PER_NAME + XATTR_LIST_SIZE]]));
        for (const n of ['plain.txt', 'plain-dir']) expect([n, sizes.get(n)]).toEqual([n, probe ? 0 : -1]);
        for (const n of ['noted.txt', 'noted-dir']) expect([n, (sizes.get(n) ?? 0) > 0]).toEqual([n, probe]);
        for (const n of ['noted.txt', 'noted-dir']) if (!probe) expect(sizes.get(n)).toBe(-1);
        // a symlink is never asked about: its target's attributes are not its own
        for (const n of ['link-to-noted', 'link-to-noted-dir']) expect([n, sizes.get(n)]).toEqual([n, -1]);
      }
    } finally {
      closeSync(dir);
    }
    const values = new ScannedXattrValues();
    const probed = digests(root, values, true);
    vi.stubEnv('TSYNC_NATIVE', '0');
    expect(probed).toEqual(digests(root));
    expect(values.size).toBe(3);
  });
});
