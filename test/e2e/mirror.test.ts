// One-way mode makes DST an exact mirror of SRC: the first run and every later change.
import { chmodSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox, type CliResult } from '../helpers/cli.js';
import { compareTrees, dir, key, link, pathBytes, pinTimes, put, setTimesNs, snapshotTree } from '../helpers/tree.js';

/** Every byte value, so no encoding or line-ending translation can go unnoticed. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function expectOk(r: CliResult): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
}

/** Files, nested and empty dirs, modes and symlinks of every flavour, some pointing into `outside`. */
function buildRichTree(src: string, outside: string): void {
  put(outside, 'secret.txt', 'outside the tree: must never be copied\n');
  put(src, 'top.txt', 'top\n');
  put(src, 'a/b/c/deep.txt', 'deep\n');
  put(src, 'binary.bin', ALL_BYTES);
  put(src, 'empty', '');
  dir(src, 'empty-dir');
  dir(src, 'x/y/z');
  put(src, 'exec.sh', '#!/bin/sh\necho hi\n', 0o755);
  put(src, 'private', 'only me\n', 0o600);
  put(src, 'readonly', 'read only\n', 0o444);
  put(src, 'private-dir/inside.txt', 'in a 0700 dir\n');
  chmodSync(join(src, 'private-dir'), 0o700);
  // A read-only directory with a child: the mirror can only get its mode after the child is in.
  put(src, 'ro-dir/child.txt', 'child of a 0555 dir\n');
  chmodSync(join(src, 'ro-dir'), 0o555);
  link(src, 'rel-link', 'a/b/c/deep.txt');
  link(src, 'dangling', 'does/not/exist');
  link(src, 'abs-outside', join(outside, 'secret.txt'));
  link(src, 'dir-link-outside', outside);
  link(src, 'a/up-link', '../top.txt');
}

describe('initial mirror', () => {
  it('copies files, nested and empty dirs, empty files, modes and symlinks exactly', () => {
    const sb = sandbox();
    const outside = join(sb.dir, 'outside');
    buildRichTree(sb.src, outside);
    pinTimes(sb.src);
    const srcBefore = snapshotTree(sb.src);
    const outsideBefore = snapshotTree(outside);

    const r = sb.sync();

    expectOk(r);
    expect(r.stdout).toMatch(/^\d+ copied, \d+ dirs created, 0 deleted, \d+ metadata updates, [\d.]+ (B|KiB)\n$/);
    expect(compareTrees(srcBefore, snapshotTree(sb.dst))).toEqual([]);
    // The source is never written; the outside targets of links are never followed, let alone copied.
    expect(compareTrees(srcBefore, snapshotTree(sb.src), { identity: true })).toEqual([]);
    expect(compareTrees(outsideBefore, snapshotTree(outside), { identity: true })).toEqual([]);
    expect(snapshotTree(sb.dst).has(key('dir-link-outside/secret.txt'))).toBe(false);
  });

  it('keeps symlink target text byte for byte, never resolved or normalised', () => {
    const sb = sandbox();
    const odd = ['./a//b/../c', '/abs/olute/nowhere', '../../../../../../etc/passwd', 'trailing/', ' spaced '];
    for (const [i, t] of odd.entries()) link(sb.src, `l${i}`, t);
    link(sb.src, 'bytes', Buffer.from([0x74, 0xff, 0x0a, 0x74])); // non-UTF-8 and a newline in the target

    expectOk(sb.sync());

    for (const [i, t] of odd.entries()) expect(readlinkSync(join(sb.dst, `l${i}`))).toBe(t);
    expect(readlinkSync(pathBytes(sb.dst, 'bytes'), { encoding: 'buffer' })).toEqual(Buffer.from([0x74, 0xff, 0x0a, 0x74]));
  });

  it('copies mtimes of files and directories to the microsecond', () => {
    const sb = sandbox();
    // Microsecond-aligned times (what tar, rsync and Node's own utimes produce) and times with
    // nanoseconds (what the kernel stamps on a fresh write), on files and directories.
    const times: bigint[] = [];
    for (let i = 0; i < 12; i++) times.push(1_700_000_000_000_000_000n + BigInt(i * 7919 + 1) * 1000n); // .000001s steps, µs-aligned
    for (let i = 0; i < 12; i++) times.push(1_795_309_796_749_823_940n + BigInt(i) * 1_000_003n); // nanosecond fractions
    times.forEach((_t, i) => {
      put(sb.src, `f${i}`, `file ${i}\n`);
      dir(sb.src, `d${i}`);
    });
    for (const [i, t] of times.entries()) setTimesNs([join(sb.src, `f${i}`), join(sb.src, `d${i}`)], t);
    const srcSnap = snapshotTree(sb.src);

    expectOk(sb.sync());

    const dst = snapshotTree(sb.dst);
    const off = [...srcSnap].flatMap(([k, e]) => {
      const d = dst.get(k);
      return d !== undefined && d.mtimeNs / 1000n !== e.mtimeNs / 1000n ? [`${k}: ${e.mtimeNs} -> ${d.mtimeNs}`] : [];
    });
    expect(off).toEqual([]);
    expect(compareTrees(srcSnap, dst)).toEqual([]);
  });

  it('creates DST and its missing parents when DST does not exist yet', () => {
    const sb = sandbox();
    put(sb.src, 'f', 'x');
    pinTimes(sb.src);
    const deepDst = join(sb.dir, 'not', 'yet', 'there');
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, deepDst]);
    expectOk(r);
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(deepDst))).toEqual([]);
  });
});

describe('mirror of changes', () => {
  /** Enough stable files that the changes below stay under the default 50% deletion guard. */
  function stableFiles(src: string): void {
    for (let i = 0; i < 20; i++) put(src, `stable/s${i}.txt`, `stable ${i}\n`);
  }

  it('mirrors new, changed, re-moded and deleted files and directories', () => {
    const sb = sandbox();
    stableFiles(sb.src);
    put(sb.src, 'grow.txt', 'short\n');
    put(sb.src, 'same-size.txt', 'AAAA\n');
    put(sb.src, 'chmod-me.txt', 'mode only\n', 0o644);
    put(sb.src, 'remove-me.txt', 'bye\n');
    put(sb.src, 'gone-dir/one.txt', '1\n');
    put(sb.src, 'gone-dir/sub/two.txt', '2\n');
    link(sb.src, 'retarget', 'stable/s1.txt');
    pinTimes(sb.src);
    expectOk(sb.sync());

    put(sb.src, 'new.txt', 'brand new\n');
    put(sb.src, 'new-dir/nested/n.txt', 'new nested\n');
    dir(sb.src, 'new-empty-dir');
    put(sb.src, 'grow.txt', 'much longer than before\n');
    put(sb.src, 'same-size.txt', 'BBBB\n');
    chmodSync(join(sb.src, 'chmod-me.txt'), 0o640);
    unlinkSync(join(sb.src, 'remove-me.txt'));
    rmSync(join(sb.src, 'gone-dir'), { recursive: true });
    unlinkSync(join(sb.src, 'retarget'));
    symlinkSync('stable/s2.txt', join(sb.src, 'retarget'));
    pinTimes(sb.src);
    // same-size.txt keeps its pinned mtime; give grow.txt a new one as a plain edit would.
    setTimesNs(join(sb.src, 'grow.txt'), 1_650_000_000_000_000_000n);
    const expected = snapshotTree(sb.src);

    const r = sb.sync();

    expectOk(r);
    // copied: new.txt, new-dir/nested/n.txt, grow.txt, same-size.txt, retarget;
    // deleted: remove-me.txt, gone-dir/one.txt, gone-dir/sub/two.txt, gone-dir/sub/, gone-dir/
    expect(r.stdout).toMatch(/^5 copied, 3 dirs created, 5 deleted, /);
    expect(compareTrees(expected, snapshotTree(sb.dst))).toEqual([]);
  });

  it('removes extra DST entries and overwrites DST edits, never touching what DST links point at', () => {
    const sb = sandbox();
    const outside = join(sb.dir, 'outside');
    put(outside, 'keep.txt', 'outside, must survive\n');
    stableFiles(sb.src);
    put(sb.src, 'edited.txt', 'original\n');
    put(sb.src, 'sneaky.txt', 'original\n');
    put(sb.src, 'remoded.txt', 'x\n', 0o644);
    dir(sb.src, 'remoded-dir', 0o755);
    pinTimes(sb.src);
    expectOk(sb.sync());

    put(sb.dst, 'extra.txt', 'not in SRC\n');
    put(sb.dst, 'extra-dir/deeper/x.txt', 'not in SRC\n');
    dir(sb.dst, 'extra-empty');
    link(sb.dst, 'extra-link-to-dir', outside);
    link(sb.dst, 'stable/extra-dangling', 'nowhere');
    put(sb.dst, 'edited.txt', 'edited in DST, longer\n');
    // Same size and same mtime as the mirror's copy: only the bytes (and the ctime) differ.
    const sneaky = join(sb.dst, 'sneaky.txt');
    const before = snapshotTree(sb.dst).get(key('sneaky.txt'));
    writeFileSync(sneaky, 'ORIGINAL\n');
    setTimesNs(sneaky, before?.mtimeNs ?? 0n);
    chmodSync(join(sb.dst, 'remoded.txt'), 0o600);
    chmodSync(join(sb.dst, 'remoded-dir'), 0o700);
    const outsideBefore = snapshotTree(outside);

    expectOk(sb.sync());

    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    expect(compareTrees(outsideBefore, snapshotTree(outside), { identity: true })).toEqual([]);
  });

  it('follows every type change: file, directory and symlink into one another', () => {
    const sb = sandbox();
    stableFiles(sb.src);
    put(sb.src, 'f2d', 'file, will be a dir\n');
    put(sb.src, 'd2f/child.txt', 'dir, will be a file\n');
    put(sb.src, 'f2l', 'file, will be a link\n');
    link(sb.src, 'l2f', 'stable/s0.txt');
    put(sb.src, 'd2l/child.txt', 'dir, will be a link\n');
    link(sb.src, 'l2d', 'stable');
    pinTimes(sb.src);
    expectOk(sb.sync());

    rmSync(join(sb.src, 'f2d'));
    put(sb.src, 'f2d/now-inside.txt', 'now a dir\n');
    rmSync(join(sb.src, 'd2f'), { recursive: true });
    put(sb.src, 'd2f', 'now a file\n');
    rmSync(join(sb.src, 'f2l'));
    link(sb.src, 'f2l', 'stable/s3.txt');
    rmSync(join(sb.src, 'l2f'));
    put(sb.src, 'l2f', 'now a file\n');
    rmSync(join(sb.src, 'd2l'), { recursive: true });
    link(sb.src, 'd2l', 'stable');
    rmSync(join(sb.src, 'l2d'));
    put(sb.src, 'l2d/sub/leaf.txt', 'now a dir\n');
    pinTimes(sb.src);
    const expected = snapshotTree(sb.src);

    expectOk(sb.sync());

    expect(compareTrees(expected, snapshotTree(sb.dst))).toEqual([]);
  });

  it('replaces a pre-existing DST entry of another type, and never writes through a DST symlink', () => {
    const sb = sandbox();
    const outside = join(sb.dir, 'outside');
    put(outside, 'victim.txt', 'outside, must survive\n');
    stableFiles(sb.src);
    put(sb.src, 'sub/a.txt', 'in a real dir\n');
    put(sb.src, 'sub/victim.txt', 'would overwrite outside/victim.txt through the link\n');
    put(sb.src, 'was-dir-in-dst', 'file in SRC\n');
    dir(sb.src, 'was-file-in-dst');
    pinTimes(sb.src);
    // DST exists before the first run, with other types at the same paths and no state yet.
    mkdirSync(sb.dst);
    link(sb.dst, 'sub', outside); // a directory in SRC, a link to outside in DST
    put(sb.dst, 'was-dir-in-dst/child.txt', 'x\n');
    put(sb.dst, 'was-file-in-dst', 'x\n');
    const outsideBefore = snapshotTree(outside);

    expectOk(sb.sync());

    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    expect(compareTrees(outsideBefore, snapshotTree(outside), { identity: true })).toEqual([]);
  });

  it('renames in SRC become a delete and a copy in DST', () => {
    const sb = sandbox();
    stableFiles(sb.src);
    put(sb.src, 'old-name.txt', 'content that moves\n');
    pinTimes(sb.src);
    expectOk(sb.sync());
    renameSync(join(sb.src, 'old-name.txt'), join(sb.src, 'new-name.txt'));
    pinTimes(sb.src);

    expectOk(sb.sync());

    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
  });
});
