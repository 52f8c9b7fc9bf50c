// Hostile input, through the built CLI: roots that are symlinks, symlinks that point out of the tree or
// in circles, sockets and devices, paths at and over the kernel's PATH_MAX, a 1,000-level tree, and
// permissions that deny tsync (run as an unprivileged user). tsync never reads or writes outside the two
// roots, never hangs, and says what it skipped in one line per path.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { lines, runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, findOwnNames, put, sameTrees, snapshotTree } from '../helpers/tree.js';
import { handOver, unprivileged } from '../helpers/unprivileged.js';

const isRoot = process.getuid?.() === 0;
/** `npm test` runs this file a second time through the no-/proc fallback (vitest.config.ts). */
const NO_PROC = process.env.TSYNC_NO_PROC === '1';
/** Node cannot leave a socket file behind on purpose; python3 binds one and exits. */
const hasPython = spawnSync('python3', ['--version']).status === 0;
const NOTHING_DONE = /^0 copied, 0 dirs created, 0 deleted, 0 metadata updates(, \d+ conflicts?)?, 0 B/m;

function twoWay(sb: Sandbox, B: string, ...extra: string[]): ReturnType<typeof runCli> {
  return runCli(['sync', '--state-dir', sb.state, ...extra, sb.src, B]);
}

/** A directory outside both roots with a file in it, and a way to prove nothing there changed. */
function outsideDir(sb: Sandbox): { dir: string; untouched: () => void } {
  const dir = join(sb.dir, 'outside');
  put(dir, 'secret.txt', 'outside the trees\n');
  const before = snapshotTree(dir);
  return { dir, untouched: () => expect(compareTrees(before, snapshotTree(dir), { identity: true })).toEqual([]) };
}

describe('symlinks', () => {
  it('a root given as a symlink is resolved once: the link stays, the tree behind it is synced', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a\n');
    mkdirSync(join(sb.dir, 'real-dst'));
    symlinkSync(join(sb.dir, 'real-dst'), sb.dst);
    const srcLink = join(sb.dir, 'src-link');
    symlinkSync(sb.src, srcLink);

    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, srcLink, sb.dst]);

    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(sb.dst).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(sb.dir, 'real-dst', 'a.txt'), 'utf8')).toBe('a\n');
    // the same pair by its real paths shares the index: nothing to do
    const again = runCli(['sync', '--one-way', '--verbose', '--state-dir', sb.state, sb.src, join(sb.dir, 'real-dst')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(NOTHING_DONE);
  });

  it('two-way: a symlink to outside on one side is copied as a link, never followed; a directory beats it', () => {
    const sb = sandbox();
    const out = outsideDir(sb);
    const B = join(sb.dir, 'B');
    mkdirSync(B);
    symlinkSync(out.dir, join(sb.src, 'escape')); // A: a link out of the tree
    put(sb.src, 'shared/a.txt', 'A\n');
    symlinkSync(out.dir, join(B, 'shared-link')); // B: another link out
    put(B, 'd/inside.txt', 'B has a real directory here\n'); // ...and a directory where A will get a link
    symlinkSync(out.dir, join(sb.src, 'd'));

    const r = twoWay(sb, B);

    expect(r.code, r.stderr).toBe(0);
    expect(readlinkSync(join(B, 'escape'))).toBe(out.dir);
    expect(readlinkSync(join(sb.src, 'shared-link'))).toBe(out.dir);
    // the directory keeps the name on both sides; A's link survives as a conflict copy
    expect(lstatSync(join(sb.src, 'd')).isDirectory()).toBe(true);
    expect(readFileSync(join(sb.src, 'd', 'inside.txt'), 'utf8')).toBe('B has a real directory here\n');
    expect(
      readdirSync(sb.src)
        .filter((n) => n.startsWith('d.tsync-conflict-'))
        .map((n) => readlinkSync(join(sb.src, n))),
    ).toEqual([out.dir]);
    expect(sameTrees(sb.src, B)).toEqual([]);
    out.untouched();
  });

  it('one-way: a symlinked directory in the replica pointing outside is replaced, and nothing is written through it', () => {
    const sb = sandbox();
    const out = outsideDir(sb);
    put(sb.src, 'd/secret.txt', 'source version\n');
    put(sb.src, 'd/new.txt', 'new\n');
    mkdirSync(sb.dst);
    symlinkSync(out.dir, join(sb.dst, 'd'));

    const r = sb.sync();

    expect(r.code, r.stderr).toBe(0);
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    out.untouched();
  });

  it('loops: self, mutual, to the parent, to the root, dangling; copied as links, no hang, a second run is a no-op', () => {
    const sb = sandbox();
    put(sb.src, 'sub/f.txt', 'f\n');
    symlinkSync('self', join(sb.src, 'self'));
    symlinkSync('ping', join(sb.src, 'pong'));
    symlinkSync('pong', join(sb.src, 'ping'));
    symlinkSync('..', join(sb.src, 'sub', 'up'));
    symlinkSync('.', join(sb.src, 'sub', 'here'));
    symlinkSync(sb.src, join(sb.src, 'sub', 'root'));
    symlinkSync('/nonexistent/dangling', join(sb.src, 'dangling'));
    const B = join(sb.dir, 'B');
    mkdirSync(B);
    symlinkSync('../../..', join(B, 'far-up'));

    const one = sb.sync();
    expect(one.code, one.stderr).toBe(0);
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    expect(sb.sync('--verbose').stdout).toMatch(NOTHING_DONE);

    const two = twoWay(sb, B);
    expect(two.code, two.stderr).toBe(0);
    expect(sameTrees(sb.src, B)).toEqual([]);
    expect(readlinkSync(join(sb.src, 'far-up'))).toBe('../../..');
    expect(twoWay(sb, B, '--verbose').stdout).toMatch(NOTHING_DONE);
  });
});

describe('special files', () => {
  it.skipIf(!hasPython)(
    `sockets and fifos are skipped with one line each, never opened; what the other side holds there stays${hasPython ? '' : ' [skipped: no python3 to make a socket]'}`,
    () => {
      const sb = sandbox();
      put(sb.src, 'a.txt', 'a\n');
      spawnSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(join(sb.src, 'app.sock'))})`]);
      execFileSync('mkfifo', [join(sb.src, 'pipe')]);
      put(sb.dst, 'pipe', 'a regular file in the replica\n');
      expect(lstatSync(join(sb.src, 'app.sock')).isSocket()).toBe(true);

      const r = sb.sync();

      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(lines(r.stderr).sort()).toEqual([
        'tsync: source: app.sock: special file (fifo, socket or device) skipped',
        'tsync: source: pipe: special file (fifo, socket or device) skipped',
      ]);
      expect(readFileSync(join(sb.dst, 'a.txt'), 'utf8')).toBe('a\n');
      expect(readFileSync(join(sb.dst, 'pipe'), 'utf8')).toBe('a regular file in the replica\n');
      expect(existsSync(join(sb.dst, 'app.sock'))).toBe(false);
    },
  );

  it.skipIf(!isRoot)('devices (made with mknod as root) are skipped the same way', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a\n');
    execFileSync('mknod', [join(sb.src, 'null-dev'), 'c', '1', '3']);
    execFileSync('mknod', [join(sb.src, 'loop-dev'), 'b', '7', '200']);

    const r = sb.sync();

    expect(r.code).toBe(1);
    expect(lines(r.stderr).sort()).toEqual([
      'tsync: source: loop-dev: special file (fifo, socket or device) skipped',
      'tsync: source: null-dev: special file (fifo, socket or device) skipped',
    ]);
    expect(readdirSync(sb.dst)).toEqual(['a.txt']);
  });
});

/** Makes `root/rel…` one component at a time with relative paths: a path longer than PATH_MAX needs that. */
function deepPath(root: string, components: readonly string[], file: string, content: string): void {
  const script = `set -e; cd "$1"; shift; for c in "$@"; do mkdir -p "$c"; cd "$c"; done; printf '%s' "$CONTENT" > "$FILE"`;
  execFileSync('bash', ['-c', script, 'bash', root, ...components], { env: { ...process.env, CONTENT: content, FILE: file } });
}

// macOS's PATH_MAX is 1,024 bytes, not Linux's 4,096: these trees are built around the latter.
const longPaths = `long and deep paths${process.platform === 'darwin' ? ' [skipped: macOS, PATH_MAX is 1,024]' : ''}`;
describe.skipIf(process.platform === 'darwin')(longPaths, () => {
  it('a path of 4,000+ bytes (just under PATH_MAX) and 255-byte names sync both ways', () => {
    const sb = sandbox();
    onTestFinished(() => {
      execFileSync('rm', ['-rf', sb.dir]);
    });
    const comps = Array.from({ length: 15 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(253)}`); // 15 x 255 bytes
    const rel = [...comps, 'tail.txt'].join('/');
    expect(rel.length).toBeGreaterThan(3_840);
    const extra = 4_050 - (sb.src.length + 1 + rel.length); // stretch the file name towards 4,050 bytes in all
    const file = `${'f'.repeat(Math.max(1, Math.min(255, extra)))}.txt`;
    deepPath(sb.src, comps, file, 'deep\n');
    expect(sb.src.length + 1 + [...comps, file].join('/').length).toBeGreaterThan(4_000);

    const r = sb.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    const B = join(sb.dir, 'B');
    mkdirSync(B);
    const two = twoWay(sb, B);
    expect(two.code, two.stderr).toBe(0);
    expect(sameTrees(sb.src, B)).toEqual([]);
  });

  // Without descriptor anchoring (macOS, or TSYNC_NO_PROC=1) each call resolves the whole path: one over PATH_MAX is a problem line there.
  const beyondPathMax = `a path beyond PATH_MAX (17 x 256 bytes) syncs both ways, edits and deletions too: each call resolves one name${NO_PROC ? ' [skipped: TSYNC_NO_PROC=1]' : ''}`;
  it.skipIf(NO_PROC)(beyondPathMax, () => {
    const sb = sandbox();
    onTestFinished(() => {
      execFileSync('rm', ['-rf', sb.dir]);
    }); // GNU rm walks by descriptor; Node's rmSync cannot
    const comps = Array.from({ length: 17 }, (_, i) => `${String(i).padStart(2, '0')}${'y'.repeat(253)}`);
    deepPath(sb.src, comps, 'too-deep.txt', 'too deep\n');
    const read = (root: string): string => execFileSync('bash', ['-c', 'cd "$1"; shift; for c in "$@"; do cd "$c"; done; cat too-deep.txt', 'bash', root, ...comps], { encoding: 'utf8' });

    const one = sb.sync();
    expect(one.code, one.stderr).toBe(0);
    expect(read(sb.dst)).toBe('too deep\n');

    const B = join(sb.dir, 'B');
    mkdirSync(B);
    expect(twoWay(sb, B).code).toBe(0);
    deepPath(B, comps, 'too-deep.txt', 'edited in B\n');
    const back = twoWay(sb, B);
    expect(back.code, back.stderr).toBe(0);
    expect(read(sb.src)).toBe('edited in B\n');
    expect(twoWay(sb, B, '--verbose').stdout).toMatch(NOTHING_DONE);

    const mirror = sb.sync();
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(read(sb.dst)).toBe('edited in B\n'); // the older version went to the replica's trash
    execFileSync('rm', ['-rf', join(sb.src, comps[0] ?? '')]);
    const del = sb.sync('--force');
    expect(del.code, del.stderr).toBe(0);
    expect(readdirSync(sb.dst).filter((n) => !n.startsWith('.tsync'))).toEqual([]);
  });

  it('a 1,000-level tree syncs one-way and two-way without a stack overflow, and its deletion propagates', () => {
    const sb = sandbox();
    const comps = Array.from({ length: 1_000 }, () => 'd');
    mkdirSync(join(sb.src, ...comps), { recursive: true }); // 2,000 bytes: a plain path still works here
    writeFileSync(join(sb.src, ...comps, 'bottom.txt'), 'at the bottom\n');
    put(sb.src, 'top.txt', 'top\n');

    const r = sb.sync();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, ...comps, 'bottom.txt'), 'utf8')).toBe('at the bottom\n');
    expect(sb.sync('--verbose').stdout).toMatch(NOTHING_DONE);

    const B = join(sb.dir, 'B');
    mkdirSync(B);
    expect(twoWay(sb, B).code).toBe(0);
    writeFileSync(join(B, ...comps, 'bottom.txt'), 'changed at the bottom of B\n');
    const back = twoWay(sb, B);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(join(sb.src, ...comps, 'bottom.txt'), 'utf8')).toBe('changed at the bottom of B\n');

    rmSync(join(sb.src, 'd'), { recursive: true });
    const del = sb.sync('--force');
    expect(del.code, del.stderr).toBe(0);
    expect(readdirSync(sb.dst).filter((n) => !n.startsWith('.tsync'))).toEqual(['top.txt']);
  });
});

describe('permissions, as an unprivileged user', () => {
  const { runAs, skipReason, suffix } = unprivileged();

  it.skipIf(skipReason !== null)(`a read-only destination directory: its paths are reported, the rest syncs, nothing is lost${suffix}`, () => {
    const sb = sandbox();
    put(sb.src, 'ro/a.txt', 'new a\n');
    put(sb.src, 'ro/new.txt', 'new\n');
    put(sb.src, 'rw/b.txt', 'b\n');
    put(sb.dst, 'ro/a.txt', 'old a\n');
    put(sb.dst, 'ro/extra.txt', 'only in the replica\n');
    mkdirSync(join(sb.dst, 'rw'));
    handOver(sb.dir);
    chmodSync(join(sb.dst, 'ro'), 0o555);

    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs });

    expect(r.code).toBe(1);
    const err = lines(r.stderr);
    expect(
      err.every((l) => /^tsync: destination: ro\/(a|new|extra)\.txt: .*EACCES/.test(l)),
      err.join('\n'),
    ).toBe(true);
    expect(err.length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(sb.dst, 'rw', 'b.txt'), 'utf8')).toBe('b\n');
    expect(readFileSync(join(sb.dst, 'ro', 'a.txt'), 'utf8')).toBe('old a\n');
    expect(readFileSync(join(sb.dst, 'ro', 'extra.txt'), 'utf8')).toBe('only in the replica\n');
    expect(
      findOwnNames(sb.dst).filter((n) => n !== '.tsync' && !n.startsWith('.tsync/')),
      'temp files left',
    ).toEqual([]);

    chmodSync(join(sb.dst, 'ro'), 0o755);
    const fixed = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
  });

  it.skipIf(skipReason !== null)(`a destination root that cannot be written at all: exit 1, one line per path, nothing changed${suffix}`, () => {
    const sb = sandbox();
    for (let i = 0; i < 3; i++) put(sb.src, `f${i}.txt`, `${i}\n`);
    put(sb.dst, 'f0.txt', 'old\n');
    handOver(sb.dir);
    chmodSync(sb.dst, 0o555);
    const before = snapshotTree(sb.dst);

    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { asUser: runAs });

    expect(r.code).toBe(1);
    expect(lines(r.stderr).length).toBeGreaterThanOrEqual(1);
    expect(
      lines(r.stderr).every((l) => /^tsync: destination: .*(EACCES|not writable)/.test(l)),
      r.stderr,
    ).toBe(true);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
  });

  it.skipIf(skipReason !== null)(`a state directory that cannot be written: exit 2, one line, the trees untouched${suffix}`, () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a\n');
    handOver(sb.dir);
    const lockedState = join(sb.dir, 'root-owned-state');
    mkdirSync(lockedState, { mode: 0o755 }); // owned by root: the unprivileged user cannot write it
    if (!isRoot) chmodSync(lockedState, 0o555);

    const r = runCli(['sync', '--one-way', '--state-dir', lockedState, sb.src, sb.dst], { asUser: runAs });

    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^tsync: .*state.*(EACCES|permission|not writable)/i);
    expect(existsSync(sb.dst)).toBe(false);
  });
});
