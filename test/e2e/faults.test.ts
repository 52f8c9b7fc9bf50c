// What goes wrong in real life, through the built CLI: a damaged or foreign state index, a database
// held by another process, and a destination disk that fills up. Nothing may be lost or torn, and the
// next clean run must converge.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, findOwnNames, pathBytes, snapshotEntry, snapshotTree, type TreeSnapshot } from '../helpers/tree.js';

const isRoot = process.getuid?.() === 0;

function synced(sb: Sandbox): string {
  for (let i = 0; i < 6; i++) writeFileSync(join(sb.src, `f${i}.txt`), `content ${i}\n`);
  expect(sb.sync().code).toBe(0);
  const db = readdirSync(sb.state).find((n) => n.startsWith('pair-') && n.endsWith('.db'));
  if (db === undefined) throw new Error('no state index was written');
  return join(sb.state, db);
}

/**
 * Everything in a tree, tsync's own names included, and the root itself (key "."): compared with
 * `identity`, a run that wrote, replaced, touched, created or removed anything shows up.
 */
function wholeTree(root: string): TreeSnapshot {
  const out = snapshotTree(root);
  for (const own of findOwnNames(root)) out.set(own, snapshotEntry(pathBytes(root, Buffer.from(own, 'latin1'))));
  out.set('.', snapshotEntry(Buffer.from(root)));
  return out;
}

describe('the state index under damage', () => {
  it('a corrupt index is set aside with a warning; the run re-hashes and converges', () => {
    const sb = sandbox();
    const db = synced(sb);
    writeFileSync(db, Buffer.alloc(8192, 0x5a)); // not a database any more
    for (const f of readdirSync(sb.state)) if (f.endsWith('-wal') || f.endsWith('-shm')) writeFileSync(join(sb.state, f), '');
    writeFileSync(join(sb.src, 'f0.txt'), 'changed\n');
    const r = sb.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the state index .* was unreadable and was moved to .*corrupt/);
    expect(readFileSync(join(sb.dst, 'f0.txt'), 'utf8')).toBe('changed\n');
    expect(readdirSync(sb.state).some((n) => n.includes('.corrupt-'))).toBe(true);
  });

  it('a truncated index behaves the same: a warning, nothing lost, in sync afterwards', () => {
    const sb = sandbox();
    const db = synced(sb);
    truncateSync(db, 100);
    const r = sb.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('was unreadable');
    expect(
      readdirSync(sb.dst)
        .filter((n) => !n.startsWith('.tsync'))
        .sort(),
    ).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt']);
  });

  it('an index from a newer tsync is refused with exit 2 and left alone', () => {
    const sb = sandbox();
    const db = synced(sb);
    const handle = new Database(db);
    handle.pragma('user_version = 99');
    handle.close();
    const r = sb.sync();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/written by a newer tsync \(schema 99/);
    const again = new Database(db);
    expect(again.pragma('user_version', { simple: true })).toBe(99);
    again.close();
  });

  it('a database locked by another process: the run waits, then fails cleanly (no data touched)', () => {
    const sb = sandbox();
    const db = synced(sb);
    const holder = new Database(db);
    holder.exec('BEGIN EXCLUSIVE'); // another process (here: this test) holds a write lock on the index
    try {
      writeFileSync(join(sb.src, 'f1.txt'), 'changed while locked\n');
      writeFileSync(join(sb.dst, 'f2.txt'), 'a replica edit the mirror would undo\n');
      const before = { src: wholeTree(sb.src), dst: wholeTree(sb.dst) };
      const r = sb.sync();
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^tsync: error: the state index \S+ is locked by another process \(SQLITE_BUSY\); nothing was changed$/m);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      // not a byte, a name, a time or an inode changed on either side
      expect(compareTrees(before.src, wholeTree(sb.src), { identity: true }), 'the source changed').toEqual([]);
      expect(compareTrees(before.dst, wholeTree(sb.dst), { identity: true }), 'the replica changed').toEqual([]);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const next = sb.sync();
    expect(next.code, next.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'f1.txt'), 'utf8')).toBe('changed while locked\n');
    expect(readFileSync(join(sb.dst, 'f2.txt'), 'utf8')).toBe('content 2\n');
  });
});

/** Why a tmpfs cannot be mounted here (not root, or no mount permission in this container), or null. */
function tmpfsSkipReason(): string | null {
  if (!isRoot) return 'needs root to mount a tmpfs';
  const probe = mkdtempSync(join(tmpdir(), 'tsync-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe]);
    return null;
  } catch (e) {
    return `cannot mount a tmpfs here: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const tmpfsSkip = tmpfsSkipReason();

describe.skipIf(tmpfsSkip !== null)(`a destination disk that fills up (tmpfs of 8 MiB)${tmpfsSkip === null ? '' : ` [skipped: ${tmpfsSkip}]`}`, () => {
  it('fails the files that do not fit (exit 1), tears none, and converges once there is room', () => {
    const sb = sandbox();
    const mnt = join(sb.dir, 'small');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
    onTestFinished(() => {
      execFileSync('umount', ['-l', mnt]);
    });
    const dst = join(mnt, 'dst');
    const big = Buffer.alloc(3 << 20, 0x61);
    for (let i = 0; i < 5; i++) writeFileSync(join(sb.src, `big${i}.bin`), big); // 15 MiB into 8 MiB
    // one copy at a time, so the disk fills up part-way through (in parallel, every copy could fail)
    const r = runCli(['sync', '--one-way', '--concurrency', '1', '--state-dir', sb.state, sb.src, dst]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ENOSPC');
    expect(r.stderr, 'a crash, not a reported failure').not.toMatch(/^\s+at /m);
    const landed = readdirSync(dst).filter((n) => !n.startsWith('.tsync'));
    expect(landed.length).toBeGreaterThan(0);
    for (const n of landed) expect(readFileSync(join(dst, n)).equals(big), `${n} is torn`).toBe(true);
    expect(readdirSync(dst).filter((n) => n.startsWith('.tsync-tmp-'))).toEqual([]);
    // make room: the mount grows, and the next run completes the mirror
    execFileSync('mount', ['-o', 'remount,size=32m', mnt]);
    const next = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, dst]);
    expect(next.code, next.stderr).toBe(0);
    expect(
      readdirSync(dst)
        .filter((n) => !n.startsWith('.tsync'))
        .sort(),
    ).toEqual(['big0.bin', 'big1.bin', 'big2.bin', 'big3.bin', 'big4.bin']);
  });
});

describe.skipIf(tmpfsSkip !== null)(`a state directory on a disk that fills up (tmpfs of 150 KiB)${tmpfsSkip === null ? '' : ` [skipped: ${tmpfsSkip}]`}`, () => {
  it('the run says the index could not be written (exit 2, one line); what it copied stays; the next run records it', () => {
    const sb = sandbox();
    const state = join(sb.dir, 'small-state');
    mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=150k', 'tmpfs', state]);
    onTestFinished(() => {
      execFileSync('umount', ['-l', state]);
    });
    // 4,000 paths with long names: more index than 150 KiB holds
    for (let d = 0; d < 20; d++) for (let f = 0; f < 200; f++) writeFileSync(join(sb.src, `${d}-a-rather-long-file-name-to-fill-the-index-${f}.txt`), `${d}/${f}\n`);

    const r = runCli(['sync', '--one-way', '--state-dir', state, sb.src, sb.dst]);

    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tsync: error: could not record this run in the state index .*SQLITE_FULL.*the changes made are on disk/);
    expect(readdirSync(sb.dst).filter((n) => !n.startsWith('.tsync'))).toHaveLength(4000);

    execFileSync('mount', ['-o', 'remount,size=8m', state]);
    const next = runCli(['sync', '--one-way', '--verbose', '--state-dir', state, sb.src, sb.dst]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/m);
  });
});
