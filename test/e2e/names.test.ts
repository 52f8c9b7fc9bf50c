// Names are byte strings: every one of these must arrive in DST byte-exact, distinct from its look-alikes,
// be left alone on the next run, and be deletable again.
import { rmSync, unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lines, sandbox } from '../helpers/cli.js';
import { compareTrees, key, keyOfBytes, pathBytes, pinTimes, put, snapshotTree } from '../helpers/tree.js';

const NON_UTF8 = Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74]); // "f\xff\xfe.t"
const NON_UTF8_DIR = Buffer.from([0x64, 0xc3, 0x28]); // an invalid two-byte sequence
const NFC = 'caf\u00e9.txt';
const NFD = 'cafe\u0301.txt';
const LONG_ASCII = `${'x'.repeat(251)}.txt`; // 255 bytes, the ext4 limit
const LONG_MULTIBYTE = `${'é'.repeat(127)}a`; // 255 bytes of UTF-8 in 128 characters
const DEPTH = 100;
const DEEP_DIR = Array.from({ length: DEPTH }, (_, i) => `level${i}`).join('/');

function buildOddNames(src: string): void {
  // Some content per name, all different, so that a mix-up of two names shows as a content difference.
  put(src, NON_UTF8, 'non-UTF-8 name\n');
  put(src, Buffer.concat([NON_UTF8_DIR, Buffer.from('/inside')]), 'inside a non-UTF-8 dir\n');
  put(src, 'new\nline.txt', 'newline in the name\n');
  put(src, 'tab\tand\\backslash', 'tab and backslash\n');
  put(src, '-rf', 'leading dash\n');
  put(src, '--delete', 'leading double dash\n');
  put(src, '-n/--force', 'option-like dir and file\n');
  put(src, ' leading and trailing space ', 'spaces\n');
  put(src, LONG_ASCII, '255 bytes of ASCII\n');
  put(src, LONG_MULTIBYTE, '255 bytes of UTF-8\n');
  put(src, NFC, 'NFC spelling\n');
  put(src, NFD, 'NFD spelling, a different file\n');
  put(src, 'Readme', 'mixed case\n');
  put(src, 'README', 'upper case\n');
  put(src, `${DEEP_DIR}/bottom.txt`, `at depth ${DEPTH}\n`);
}

// APFS (macOS) stores names as valid UTF-8 and treats NFC and NFD alike: these byte-exact names cannot exist there.
const ON_APFS = process.platform === 'darwin';
describe.skipIf(ON_APFS)(`odd names${ON_APFS ? ' [skipped: macOS, APFS names are normalised UTF-8]' : ''}`, () => {
  it('are mirrored byte-exact and kept distinct from their look-alikes', () => {
    const sb = sandbox();
    buildOddNames(sb.src);
    pinTimes(sb.src);
    const expected = snapshotTree(sb.src);
    // The test itself must have made what it claims: distinct entries for look-alike names.
    for (const k of [keyOfBytes(NON_UTF8), key(NFC), key(NFD), key('Readme'), key('README'), key(`${DEEP_DIR}/bottom.txt`)]) {
      expect(expected.has(k)).toBe(true);
    }

    const r = sb.sync();

    // the one name that is not UTF-8 cannot have its xattrs read (README "Backup fidelity"): said once
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/^tsync: warning: extended attributes of names that are not UTF-8 are not kept \(first: [^\n]*\)\n$/),
    });
    expect(compareTrees(expected, snapshotTree(sb.dst))).toEqual([]);
  });

  it('are left alone by the next run and can be deleted again', () => {
    const sb = sandbox();
    buildOddNames(sb.src);
    // Enough ordinary files that deleting the odd ones stays under the default deletion guard.
    for (let i = 0; i < 20; i++) put(sb.src, `plain/p${i}`, `${i}\n`);
    pinTimes(sb.src);
    expect(sb.sync().code).toBe(0);
    const before = snapshotTree(sb.dst);

    const again = sb.sync();
    expect(again).toMatchObject({ code: 0, stderr: '', stdout: '0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B\n' });
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);

    unlinkSync(pathBytes(sb.src, NON_UTF8));
    rmSync(pathBytes(sb.src, NON_UTF8_DIR), { recursive: true });
    unlinkSync(pathBytes(sb.src, 'new\nline.txt'));
    unlinkSync(pathBytes(sb.src, NFD));
    unlinkSync(pathBytes(sb.src, 'README'));
    unlinkSync(pathBytes(sb.src, '-rf'));
    unlinkSync(pathBytes(sb.src, LONG_MULTIBYTE));
    rmSync(pathBytes(sb.src, 'level0/level1'), { recursive: true });
    pinTimes(sb.src);

    const r = sb.sync();

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
  });

  it('print as one escaped line each in a dry run', () => {
    const sb = sandbox();
    put(sb.src, NON_UTF8, 'x');
    put(sb.src, 'new\nline.txt', 'x');
    put(sb.src, '-rf', 'x');
    put(sb.src, NFC, 'x');

    const r = sb.sync('--dry-run');

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = lines(r.stdout);
    expect(out.slice(0, -1).sort()).toEqual(['+ -rf', `+ ${NFC}`, '+ f\\xff\\xfe.t', '+ new\\nline.txt'].sort());
    expect(out.at(-1)).toMatch(/^dry run, would do: 4 copied, /);
  });
});
