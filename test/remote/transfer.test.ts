// Delta transfer, --compress and --bwlimit end to end: the built CLI against a real OpenSSH server on 127.0.0.1
// (test/helpers/sshd.ts), the far side running the agent bundle. Bytes on the link are what the near side's RPC
// session counted (TSYNC_TIMINGS=1 prints them when the remote side closes). Nothing is mocked. No timing is
// asserted: --bwlimit is held to giving the right result, its rate is a unit test's (test/unit/link-options.test.ts).
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';
import { sameTrees } from '../helpers/tree.js';

const MiB = 1024 * 1024;
let sshd: Sshd;
let work: string;

beforeAll(async () => {
  work = makeTempDir('tsync-transfer-');
  // the far side's PATH: node, and no tsync (the bundle is sent and cached), as on a host with only Node
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  sshd = await startSshd({ env: { PATH: `${bin}:/usr/bin:/bin`, XDG_CACHE_HOME: join(work, 'cache') } });
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (work !== undefined) removeTempDir(work);
});

let n = 0;
function dirs(): { a: string; b: string; state: string } {
  const base = join(work, `t${n++}`);
  const a = join(base, 'a');
  const b = join(base, 'b');
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
  return { a, b, state: join(base, 'state') };
}

const remote = (path: string): string => `127.0.0.1:${path}`;

function sync(state: string, from: string, to: string, ...extra: string[]): CliResult {
  const r = runCli(['sync', '--one-way', '--state-dir', state, '--ssh', sshd.sshCommand, '--no-xattrs', ...extra, from, to], { env: { TSYNC_TIMINGS: '1' }, timeoutMs: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** What the near side's session sent and received, as it reported on closing. */
function linkBytes(r: CliResult): { sent: number; received: number } {
  const m = /remote link: (\d+) bytes sent, (\d+) bytes received/.exec(r.stderr);
  if (m === null) throw new Error(`no link bytes in:\n${r.stderr}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

/**
 * A file of `size` random bytes at `older` (its old version, mtime in the past) and, at `newer`, the same with
 * `edit` random bytes replaced in the middle: the pair of a file that changed on one side.
 */
function editedPair(older: string, newer: string, size: number, edit: number): void {
  const old = randomBytes(size);
  writeFileSync(older, old);
  utimesSync(older, new Date('2020-01-01'), new Date('2020-01-01'));
  writeFileSync(newer, old);
  const fd = openSync(newer, 'r+');
  writeSync(fd, randomBytes(edit), 0, edit, Math.floor(size / 2 - edit / 2));
  closeSync(fd);
}

function sameFile(x: string, y: string): boolean {
  return readFileSync(x).equals(readFileSync(y));
}

describe('delta transfer over ssh', () => {
  it('pushes a 64 MiB file with a 1 MiB edit in the middle as a delta: far fewer bytes, byte-exact', () => {
    const { a, b, state } = dirs();
    editedPair(join(b, 'big.bin'), join(a, 'big.bin'), 64 * MiB, MiB);
    const r = sync(state, a, remote(b));
    expect(sameFile(join(a, 'big.bin'), join(b, 'big.bin'))).toBe(true);
    const link = linkBytes(r);
    // the edit, a block either side and the framing; the signature (12 bytes a block) came back
    expect(link.sent).toBeLessThan(1.2 * MiB);
    expect(link.received).toBeLessThan(MiB);
    expect(sync(state, a, remote(b)).stdout).toMatch(/^0 copied/m);
  });

  it('pulls it the same way: the agent computes the delta against the local signature', () => {
    const { a, b, state } = dirs();
    editedPair(join(b, 'big.bin'), join(a, 'big.bin'), 64 * MiB, MiB);
    const r = sync(state, remote(a), b);
    expect(sameFile(join(a, 'big.bin'), join(b, 'big.bin'))).toBe(true);
    const link = linkBytes(r);
    expect(link.received).toBeLessThan(1.2 * MiB);
    expect(link.sent).toBeLessThan(MiB);
  });

  it('a file that grew and shrank around edits at any offset still arrives exact', () => {
    const { a, b, state } = dirs();
    const old = randomBytes(3 * MiB);
    writeFileSync(join(b, 'f.bin'), old);
    utimesSync(join(b, 'f.bin'), new Date('2020-01-01'), new Date('2020-01-01'));
    // an insertion (everything after it shifts by an odd count), a deletion, and a tail appended
    const edited = Buffer.concat([old.subarray(0, 12_345), randomBytes(777), old.subarray(12_345, 2 * MiB), old.subarray(2 * MiB + 4321), randomBytes(99)]);
    writeFileSync(join(a, 'f.bin'), edited);
    const r = sync(state, a, remote(b));
    expect(readFileSync(join(b, 'f.bin')).equals(edited)).toBe(true);
    expect(linkBytes(r).sent).toBeLessThan(200 * 1024);
  });
});

describe('--compress and --bwlimit over ssh', () => {
  /** Text files: compressible, as source trees and logs are. */
  function textTree(root: string): void {
    for (let i = 0; i < 8; i++) {
      const lines = Array.from({ length: 6000 }, (_, j) => `${i}:${j} the quick brown fox jumps over the lazy dog ${(i * 7919 + j) % 1000}`);
      writeFileSync(join(root, `f${i}.txt`), `${lines.join('\n')}\n`);
    }
  }

  it('--compress gives the same tree with fewer bytes on the link, both ways', () => {
    const { a, b, state } = dirs();
    textTree(a);
    const plain = linkBytes(sync(state, a, remote(join(b, 'plain'))));
    const packed = linkBytes(sync(`${state}2`, a, remote(join(b, 'packed')), '--compress'));
    expect(sameTrees(a, join(b, 'packed'))).toEqual([]);
    expect(sameTrees(a, join(b, 'plain'))).toEqual([]);
    expect(packed.sent).toBeLessThan(plain.sent / 3);
    const pulled = linkBytes(sync(`${state}3`, remote(a), join(b, 'pulled'), '-z'));
    expect(sameTrees(a, join(b, 'pulled'))).toEqual([]);
    expect(pulled.received).toBeLessThan(plain.sent / 3);
  });

  it('--compress shrinks a tree of small files too (they travel in batches, as call and result values), both ways', () => {
    const { a, b, state } = dirs();
    for (let i = 0; i < 200; i++) writeFileSync(join(a, `s${i}.ts`), `export const line${i} = 'the quick brown fox jumps over the lazy dog';\n`.repeat(40));
    const plain = linkBytes(sync(state, a, remote(join(b, 'plain'))));
    const packed = linkBytes(sync(`${state}2`, a, remote(join(b, 'packed')), '--compress'));
    expect(sameTrees(a, join(b, 'packed'))).toEqual([]);
    expect(packed.sent).toBeLessThan(plain.sent / 3);
    const pulledPlain = linkBytes(sync(`${state}3`, remote(a), join(b, 'pulled-plain')));
    const pulled = linkBytes(sync(`${state}4`, remote(a), join(b, 'pulled'), '-z'));
    expect(sameTrees(a, join(b, 'pulled'))).toEqual([]);
    expect(pulled.received).toBeLessThan(pulledPlain.received / 3);
  });

  it('--bwlimit 1M on a 4 MiB transfer ends with the right bytes, both ways', () => {
    const { a, b, state } = dirs();
    writeFileSync(join(a, 'r.bin'), randomBytes(4 * MiB));
    sync(state, a, remote(join(b, 'pushed')), '--bwlimit', '1M');
    expect(sameFile(join(a, 'r.bin'), join(b, 'pushed', 'r.bin'))).toBe(true);
    sync(`${state}2`, remote(a), join(b, 'pulled'), '--bwlimit', '1M');
    expect(sameFile(join(a, 'r.bin'), join(b, 'pulled', 'r.bin'))).toBe(true);
  });

  it('a malformed --bwlimit is a one-line usage error (exit 2)', () => {
    const { a, b, state } = dirs();
    const r = runCli(['sync', '--one-way', '--state-dir', state, '--bwlimit', '4 megs', a, remote(b)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['tsync: error: --bwlimit 4 megs: expected bytes per second of at least 1K, like 500K, 4M or 1G']);
  });
});
