// What a run decides to rewrite: nothing when nothing changed, and every content change,
// even one that keeps size and mtime, with or without --checksum.
import { closeSync, lstatSync, openSync, readFileSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, dir, link, put, setTimesNs, snapshotTree } from '../helpers/tree.js';

const NOTHING_DONE = '0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B\n';

/** A tree with natural (kernel nanosecond) times: files, modes, nested and empty dirs, links. */
function buildTree(sb: Sandbox): void {
  for (let i = 0; i < 10; i++) put(sb.src, `d${i % 3}/f${i}.txt`, `file ${i}\n`.repeat(i + 1));
  put(sb.src, 'empty', '');
  put(sb.src, 'exec', '#!/bin/sh\n', 0o755);
  put(sb.src, 'ro', 'ro\n', 0o444);
  dir(sb.src, 'deep/er/est');
  dir(sb.src, 'ro-dir', 0o555);
  link(sb.src, 'link', 'd0/f0.txt');
  link(sb.src, 'dangling', 'nowhere');
}

/** Overwrites a file's bytes in place (same inode, same length), then puts its old times back exactly. */
function editKeepingSizeAndTimes(path: string, content: string, restore: 'exact-ns' | 'utimesSync'): void {
  const st = lstatSync(path, { bigint: true });
  const fd = openSync(path, 'r+');
  const bytes = Buffer.from(content);
  expect(BigInt(bytes.length)).toBe(st.size);
  writeSync(fd, bytes, 0, bytes.length, 0);
  closeSync(fd);
  if (restore === 'exact-ns') setTimesNs(path, st.mtimeNs, st.atimeNs);
  else utimesSync(path, Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9);
  const after = lstatSync(path, { bigint: true });
  expect(after.size).toBe(st.size);
  if (restore === 'exact-ns') expect(after.mtimeNs).toBe(st.mtimeNs);
}

describe('a run with nothing to do', () => {
  it('rewrites nothing on the second run: every DST entry keeps its inode and ctime', async () => {
    const sb = sandbox();
    buildTree(sb);
    expect(sb.sync().code).toBe(0);
    const before = snapshotTree(sb.dst);

    // Right away (records may be "racily clean" and force re-hashing), and again once the clock moved on.
    const second = sb.sync();
    await new Promise((r) => setTimeout(r, 120));
    const third = sb.sync();

    expect(second).toMatchObject({ code: 0, stderr: '', stdout: NOTHING_DONE });
    expect(third).toMatchObject({ code: 0, stderr: '', stdout: NOTHING_DONE });
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });

  it('rewrites nothing with --checksum either', () => {
    const sb = sandbox();
    buildTree(sb);
    expect(sb.sync().code).toBe(0);
    const before = snapshotTree(sb.dst);

    const r = sb.sync('--checksum');

    expect(r).toMatchObject({ code: 0, stderr: '', stdout: NOTHING_DONE });
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });
});

describe('an edit that keeps size and mtime', () => {
  for (const restore of ['exact-ns', 'utimesSync'] as const) {
    for (const checksum of [false, true]) {
      it(`is detected and copied (times restored ${restore}${checksum ? ', --checksum' : ''})`, async () => {
        const sb = sandbox();
        buildTree(sb);
        put(sb.src, 'data.txt', 'version one\n');
        expect(sb.sync().code).toBe(0);
        // Let the index's records become trustworthy (older than tsync's racy window), so that only the
        // stat cache's inode/ctime check stands between this edit and a missed change.
        await new Promise((r) => setTimeout(r, 120));
        expect(sb.sync().stdout).toBe(NOTHING_DONE);

        editKeepingSizeAndTimes(join(sb.src, 'data.txt'), 'version TWO\n', restore);
        const r = checksum ? sb.sync('--checksum') : sb.sync();

        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        expect(r.stdout).toMatch(/^1 copied, 0 dirs created, 0 deleted, /);
        expect(readFileSync(join(sb.dst, 'data.txt'), 'utf8')).toBe('version TWO\n');
      });
    }
  }

  it('in DST is detected and overwritten with SRC bytes', async () => {
    const sb = sandbox();
    buildTree(sb);
    put(sb.src, 'data.txt', 'version one\n');
    expect(sb.sync().code).toBe(0);
    await new Promise((r) => setTimeout(r, 120));

    editKeepingSizeAndTimes(join(sb.dst, 'data.txt'), 'VERSION ONE\n', 'exact-ns');
    const r = sb.sync();

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^1 copied, /);
    expect(readFileSync(join(sb.dst, 'data.txt'), 'utf8')).toBe('version one\n');
  });
});
