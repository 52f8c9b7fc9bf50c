// Per-path problems do not abort a run: the path is reported on stderr, everything else is synced, the
// exit code is 1, and nothing at or below a path that could not be read is deleted in DST.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runCli, sandbox } from '../helpers/cli.js';
import { unprivileged } from '../helpers/unprivileged.js';
import { compareTrees, key, pinTimes, put, snapshotTree } from '../helpers/tree.js';

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

describe('a fifo in SRC', () => {
  it('is skipped with a message, the rest is synced, exit 1, and the run does not hang', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a\n');
    put(sb.src, 'sub/b.txt', 'b\n');
    mkfifo(join(sb.src, 'pipe'));
    mkfifo(join(sb.src, 'sub', 'pipe2'));
    pinTimes(sb.src);

    // A run that opened the fifo would block forever: the timeout turns that into a failure here.
    const r = sb.sync();

    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(lines(r.stderr).sort()).toEqual(['tsync: source: pipe: special file (fifo, socket or device) skipped', 'tsync: source: sub/pipe2: special file (fifo, socket or device) skipped']);
    expect(r.stdout).toMatch(/, 2 problems\n$/);
    const expected = snapshotTree(sb.src);
    expected.delete(key('pipe'));
    expected.delete(key('sub/pipe2'));
    // sub/ gets its mtime from SRC, where the fifo is one of its entries: compare everything else.
    expect(compareTrees(expected, snapshotTree(sb.dst))).toEqual([]);
  });

  it('leaves what DST holds at the fifo path alone', () => {
    const sb = sandbox();
    for (let i = 0; i < 4; i++) put(sb.src, `f${i}`, `${i}\n`);
    put(sb.src, 'pipe', 'a regular file, for now\n');
    expect(sb.sync().code).toBe(0);
    rmSync(join(sb.src, 'pipe'));
    mkfifo(join(sb.src, 'pipe'));

    const r = sb.sync();

    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(['tsync: source: pipe: special file (fifo, socket or device) skipped']);
    expect(readFileSync(join(sb.dst, 'pipe'), 'utf8')).toBe('a regular file, for now\n');
  });
});

// ---- unreadable paths ----------------------------------------------------------------------------
// Root ignores mode 000, so as root the CLI runs as an unprivileged user (setpriv); trees and state are
// chowned to that user. As any other user, the CLI simply runs as ourselves.

const { runAs, skipReason, suffix } = unprivileged();

describe('unreadable paths in SRC', () => {
  it.skipIf(skipReason !== null)(`are reported, the rest is synced, exit 1, and DST at/below them is kept${suffix}`, () => {
    const sb = sandbox();
    put(sb.src, 'ok.txt', 'readable\n');
    put(sb.src, 'sub/ok2.txt', 'readable too\n');
    put(sb.src, 'secret-new.txt', 'SRC cannot be read\n'); // DST has an older version of another size
    put(sb.src, 'secret-same.txt', 'SRC 0123456789\n'); // DST has a version of the same size: needs hashing
    put(sb.src, 'secret-absent.txt', 'SRC, and nothing in DST\n');
    put(sb.src, 'locked/inner.txt', 'inside an unreadable dir\n');
    pinTimes(sb.src);
    put(sb.dst, 'secret-new.txt', 'old DST version\n');
    put(sb.dst, 'secret-same.txt', 'DST 9876543210\n');
    put(sb.dst, 'locked/old.txt', 'only in DST, below the unreadable dir\n');
    put(sb.dst, 'locked/deeper/x.txt', 'only in DST, deeper\n');
    put(sb.dst, 'stale-extra.txt', 'only in DST, readable area: must go\n');
    const dstBefore = snapshotTree(sb.dst);
    if (runAs !== undefined) execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, sb.dir]);
    for (const f of ['secret-new.txt', 'secret-same.txt', 'secret-absent.txt']) chmodSync(join(sb.src, f), 0o000);
    chmodSync(join(sb.src, 'locked'), 0o000);

    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs, timeoutMs: 20_000 });

    expect(r.code).toBe(1);
    const err = lines(r.stderr);
    for (const path of ['locked', 'secret-new.txt', 'secret-same.txt', 'secret-absent.txt']) {
      expect(
        err.filter((l) => l.startsWith('tsync: ') && l.includes(` ${path}: `) && l.includes('EACCES')),
        `a message for ${path} in ${JSON.stringify(err)}`,
      ).toHaveLength(1);
    }
    expect(err).toContain('tsync: source: locked: cannot list directory (EACCES)');
    expect(err).toHaveLength(4);

    const dst = snapshotTree(sb.dst);
    const blocked = ['locked', 'secret-new.txt', 'secret-same.txt', 'secret-absent.txt'].map(key);
    // Everything readable is mirrored (stale-extra.txt deleted, ok files copied)...
    expect(compareTrees(snapshotTree(sb.src), dst, { exclude: blocked })).toEqual([]);
    // ...and what DST had at and below the unreadable paths is still there, byte for byte.
    const keptPaths = ['secret-new.txt', 'secret-same.txt', 'locked', 'locked/old.txt', 'locked/deeper', 'locked/deeper/x.txt'].map(key);
    const kept = new Map([...dstBefore].filter(([k]) => keptPaths.includes(k)));
    expect(compareTrees(kept, new Map([...dst].filter(([k]) => blocked.some((b) => k === b || k.startsWith(`${b}/`)))))).toEqual([]);
  });

  it.skipIf(skipReason !== null)(`messages about an unreadable SRC file name the source side${suffix}`, () => {
    const sb = sandbox();
    put(sb.src, 'secret-new.txt', 'SRC cannot be read\n'); // absent in DST: the copy's open() is what fails
    put(sb.src, 'secret-same.txt', 'SRC 0123456789\n'); // same size in DST: the hashing read fails
    put(sb.dst, 'secret-same.txt', 'DST 9876543210\n');
    if (runAs !== undefined) execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, sb.dir]);
    chmodSync(join(sb.src, 'secret-new.txt'), 0o000);
    chmodSync(join(sb.src, 'secret-same.txt'), 0o000);

    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs });

    expect(r.code).toBe(1);
    // The file that cannot be read is in SRC: a message saying "destination" sends the user to the wrong tree.
    expect(lines(r.stderr).sort()).toEqual([expect.stringMatching(/^tsync: source: secret-new\.txt: .*EACCES/), expect.stringMatching(/^tsync: source: secret-same\.txt: .*EACCES/)]);
  });

  it.skipIf(skipReason !== null)(`an unreadable file is not recorded: once readable, the next run copies it${suffix}`, () => {
    const sb = sandbox();
    put(sb.src, 'ok.txt', 'readable\n');
    put(sb.src, 'secret.txt', 'SRC secret\n');
    put(sb.dst, 'secret.txt', 'DST secret\n'); // same size
    if (runAs !== undefined) execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, sb.dir]);
    chmodSync(join(sb.src, 'secret.txt'), 0o000);
    const args = ['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst];

    expect(runCli(args, { asUser: runAs }).code).toBe(1);
    expect(readFileSync(join(sb.dst, 'secret.txt'), 'utf8')).toBe('DST secret\n');
    chmodSync(join(sb.src, 'secret.txt'), 0o644);
    const r = runCli(args, { asUser: runAs });

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(join(sb.dst, 'secret.txt'), 'utf8')).toBe('SRC secret\n');
  });
});
