// Batched copies of small files to and from a remote root (engine/batch-copy.ts, readBatch/installBatch in
// agent-serve.ts): many files per request, each read or installed on its own with the checks of a single copy.
// First straight at a real agent process (the built bundle over pipes, test/remote/agent-session.ts): the per-file
// results of a batch where some files must fail, and malformed batches. Then end to end over a real sshd: a plan
// made, the far side (or the near side) changed under it, and the plan applied: only the files whose preconditions
// broke fail (exit 1), the others land, and the index records only what landed. Nothing is mocked.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashBytes, loadHasher } from '../../src/hash/xxhash.js';
import { type CliResult, lines, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';
import { compareTrees, put, snapshotTree } from '../helpers/tree.js';
import type { CodecObject } from '../../src/remote/value-codec.js';
import { type AgentSession, startAgent } from './agent-session.js';

const HOST = '127.0.0.1';
let sshd: Sshd;
let far: string;
let farEnv: Record<string, string>;
const onDone: (() => void)[] = [];

beforeAll(async () => {
  await loadHasher();
  far = makeTempDir('tsync-rbatch-far-');
  farEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', XDG_CACHE_HOME: join(far, 'cache'), XDG_STATE_HOME: join(far, 'state'), HOME: join(far, 'home') };
  mkdirSync(farEnv.HOME as string);
  sshd = await startSshd({ env: farEnv });
}, 60_000);

afterAll(async () => {
  for (const f of onDone.splice(0)) f();
  await sshd?.stop();
  if (far !== undefined) removeTempDir(far);
});

function scratch(): string {
  const d = makeTempDir('tsync-rbatch-');
  onDone.push(() => removeTempDir(d));
  return d;
}

const T0 = 1_700_000_000_000_000_000n;

/** A source entry for `bytes` as a scan would send it (the stat is the source's: the agent does not look at it when installing). */
function sourceOf(bytes: Buffer, hashOf: Buffer = bytes) {
  const size = bytes.length;
  return { entry: { kind: 'file', size, mtimeNs: T0, mode: 0o640, hash: hashBytes(hashOf) }, stat: { ino: 7n, ctimeNs: T0, size, mtimeNs: T0 }, observedAtNs: T0 };
}

/** What a scan of the file at `abs` says, as an entry and as the expectation of a write over it. */
function scannedAt(abs: string) {
  const st = lstatSync(abs, { bigint: true });
  const stat = { ino: st.ino, ctimeNs: st.ctimeNs, size: Number(st.size), mtimeNs: st.mtimeNs };
  return {
    scanned: { entry: { kind: 'file', size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode) & 0o7777, hash: null }, stat, observedAtNs: st.ctimeNs + 10_000_000_000n },
    expect: { ...stat, kind: 'file' },
  };
}

async function session(root: string): Promise<AgentSession> {
  const agent = await startAgent(farEnv);
  onDone.unshift(() => void agent.stop());
  await agent.peer.call('open', { path: root, mayBeMissing: false });
  await agent.peer.call('beginRun', { trashStamp: '2026-01-01T00-00-00.000Z', keep: { owner: false, group: false, xattrs: false }, chownRefused: false, racyWindowNs: 0n });
  return agent;
}

type PerFileReply = { installed?: { hash: string }; bytes?: Buffer; trailer?: { hash: string; bytes: number }; error?: { name: string; message: string; kind?: string } };

const tempsIn = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => n.includes('.tsync-tmp'));

describe('installBatch and readBatch on the agent: one file at a time, each with its own result', () => {
  it('installBatch: a stale target, a parent swapped for a symlink and bytes that do not hash as sent each fail alone; the rest land', async () => {
    const d = scratch();
    const root = join(d, 'root');
    put(root, 'ok/victim.txt', 'far version 1');
    put(d, 'outside/x.txt', 'outside the root');
    mkdirSync(join(root, 'linked'));
    const victim = scannedAt(join(root, 'ok/victim.txt'));
    // after the scan: the victim is edited on the far side, and `linked` becomes a symlink out of the root
    writeFileSync(join(root, 'ok/victim.txt'), 'far edit after the scan');
    rmSync(join(root, 'linked'), { recursive: true });
    symlinkSync(join(d, 'outside'), join(root, 'linked'));
    const outsideBefore = snapshotTree(join(d, 'outside'));
    const agent = await session(root);
    const file = (text: string) => Buffer.from(text);
    const items = [
      { path: 'ok/a.txt', source: sourceOf(file('a new')), expect: null, bytes: file('a new'), xattrs: null },
      { path: 'ok/victim.txt', source: sourceOf(file('near version 2')), expect: victim.expect, bytes: file('near version 2'), xattrs: null },
      { path: 'linked/x.txt', source: sourceOf(file('through the link')), expect: null, bytes: file('through the link'), xattrs: null },
      { path: 'ok/corrupt.txt', source: sourceOf(file('abc'), file('xyz')), expect: null, bytes: file('abc'), xattrs: null },
      { path: 'ok/b.txt', source: sourceOf(file('b new')), expect: null, bytes: file('b new'), xattrs: null },
    ];
    const reply = (await agent.peer.call('installBatch', { items })) as PerFileReply[];
    expect(reply.map((r) => r.error?.name ?? 'installed')).toEqual(['installed', 'StaleTargetError', 'UnsafePathError', 'SourceChangedError', 'installed']);
    expect(reply[0]?.installed?.hash).toBe(hashBytes(file('a new')));
    expect(readFileSync(join(root, 'ok/a.txt'), 'utf8')).toBe('a new');
    expect(readFileSync(join(root, 'ok/b.txt'), 'utf8')).toBe('b new');
    expect(statSync(join(root, 'ok/b.txt')).mode & 0o7777).toBe(0o640);
    expect(readFileSync(join(root, 'ok/victim.txt'), 'utf8')).toBe('far edit after the scan');
    expect(existsSync(join(root, 'ok/corrupt.txt'))).toBe(false);
    expect(compareTrees(outsideBefore, snapshotTree(join(d, 'outside')), { identity: true })).toEqual([]);
    expect(tempsIn(root)).toEqual([]);
    // the session goes on: a failed file is not a failed session
    expect(await agent.peer.call('hasFineCtime', {})).toBeTypeOf('boolean');
  }, 60_000);

  it('readBatch: a file gone and a file changed since the scan fail alone; the others come whole, with their hash', async () => {
    const d = scratch();
    const root = join(d, 'root');
    put(root, 'a.txt', 'alpha');
    put(root, 'gone.txt', 'soon gone');
    put(root, 'changed.txt', 'before');
    put(root, 'b.bin', Buffer.alloc(40_000, 7));
    const seen = ['a.txt', 'gone.txt', 'changed.txt', 'b.bin'].map((p) => ({ path: p, scanned: scannedAt(join(root, p)).scanned, xattrs: false, noteOwner: false }));
    rmSync(join(root, 'gone.txt'));
    writeFileSync(join(root, 'changed.txt'), 'after, longer');
    const agent = await session(root);
    const reply = (await agent.peer.call('readBatch', { items: seen })) as PerFileReply[];
    expect(reply.map((r) => r.error?.name ?? 'read')).toEqual(['read', 'SourceReadError', 'StaleTargetError', 'read']);
    expect(reply[1]?.error?.kind).toBe('ENOENT');
    expect(reply[0]?.bytes?.toString()).toBe('alpha');
    expect(reply[0]?.trailer).toMatchObject({ hash: hashBytes(Buffer.from('alpha')), bytes: 5 });
    expect(reply[3]?.bytes?.equals(Buffer.alloc(40_000, 7))).toBe(true);
  }, 60_000);

  it.each([
    ['a path out of the root', (items: CodecObject[]): CodecObject[] => items.map((i, n) => (n === 1 ? { ...i, path: '../escaped.txt' } : i))],
    ['bytes that are not bytes', (items: CodecObject[]): CodecObject[] => items.map((i, n) => (n === 1 ? { ...i, bytes: 'text' } : i))],
    ['an item without its expectation', (items: CodecObject[]): CodecObject[] => items.map((i, n) => (n === 1 ? { path: i.path, source: i.source, bytes: i.bytes, xattrs: null } : i))],
  ])(
    'a malformed installBatch (%s) ends the session and writes nothing, not even its good files',
    async (_what, spoil) => {
      const d = scratch();
      const root = join(d, 'root');
      mkdirSync(root);
      const before = snapshotTree(d);
      const agent = await session(root);
      const good = (p: string): CodecObject => ({ path: p, source: sourceOf(Buffer.from(p)), expect: null, bytes: Buffer.from(p), xattrs: null });
      const failure = await agent.peer.call('installBatch', { items: spoil([good('one.txt'), good('two.txt'), good('three.txt')]) }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/malformed installBatch request/);
      await agent.peer.closed;
      await agent.exited;
      const after = snapshotTree(d);
      // the agent's own state (its lock and cache live elsewhere); the tree around the root is as it was
      expect(compareTrees(before, after, { identity: true })).toEqual([]);
    },
    60_000,
  );
});

const remote = (path: string): string => `${HOST}:${path}`;

function tsync(state: string, args: readonly string[]): CliResult {
  const [command = '', ...rest] = args;
  return runCli([command, '--state-dir', state, '--ssh', sshd.sshCommand, ...rest], { timeoutMs: 120_000 });
}

interface ActionEvent {
  readonly type?: string;
  readonly action?: string;
  readonly path?: string;
  readonly status?: string;
}

/** The status of each copy of a `--json` run, by path. */
function statuses(r: CliResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines(r.stdout)) {
    const ev = JSON.parse(l) as ActionEvent;
    if (ev.type === 'action' && ev.action === 'copy' && ev.path !== undefined && ev.status !== undefined) out.set(ev.path, ev.status);
  }
  return out;
}

const said = (r: CliResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

describe('end to end over ssh: a batch where some files fail', () => {
  it('push: a far file edited after the plan and a far dir swapped for a symlink fail alone (exit 1); the others land; the next sync redoes only those', () => {
    const d = scratch();
    const src = join(d, 'src');
    const dst = join(d, 'dst');
    const state = join(d, 'state');
    for (let i = 0; i < 40; i++) put(src, `many/f${i}.txt`, `first ${i}\n`);
    put(src, 'edge/victim.txt', 'near 1');
    put(src, 'linked/x.txt', 'near x 1');
    let r = tsync(state, ['sync', '--one-way', src, remote(dst)]);
    expect(r.code, said(r)).toBe(0);
    for (let i = 0; i < 40; i++) put(src, `many/f${i}.txt`, `second ${i}, a little longer\n`);
    put(src, 'edge/victim.txt', 'near 2');
    put(src, 'linked/x.txt', 'near x 2');
    const planFile = join(d, 'plan.json');
    r = tsync(state, ['plan', '--one-way', src, remote(dst), '-o', planFile]);
    expect(r.code, said(r)).toBe(0);
    // under the plan: the far victim is edited, the far `linked` becomes a symlink to a directory outside
    writeFileSync(join(dst, 'edge/victim.txt'), 'edited on the far side');
    put(d, 'outside/x.txt', 'outside');
    renameSync(join(dst, 'linked'), join(d, 'old-linked'));
    symlinkSync(join(d, 'outside'), join(dst, 'linked'));
    r = tsync(state, ['apply', planFile, '--json']);
    expect(r.code, said(r)).toBe(1);
    const st = statuses(r);
    expect(st.get('edge/victim.txt')).toBe('stale');
    expect(st.get('linked/x.txt')).toBe('failed');
    expect([...st].filter(([p]) => p.startsWith('many/')).every(([, s]) => s === 'applied')).toBe(true);
    expect([...st.keys()].filter((p) => p.startsWith('many/'))).toHaveLength(40);
    for (let i = 0; i < 40; i++) expect(readFileSync(join(dst, `many/f${i}.txt`), 'utf8')).toBe(`second ${i}, a little longer\n`);
    expect(readFileSync(join(dst, 'edge/victim.txt'), 'utf8')).toBe('edited on the far side');
    expect(readFileSync(join(d, 'outside/x.txt'), 'utf8')).toBe('outside');
    expect(readdirSync(join(d, 'outside'))).toEqual(['x.txt']);
    // the index holds what landed: the next one-way sync copies the two that failed and nothing else
    r = tsync(state, ['sync', '--one-way', '--json', src, remote(dst)]);
    expect(r.code, said(r)).toBe(0);
    const copies = [...statuses(r).keys()].sort();
    expect(copies).toEqual(['edge/victim.txt', 'linked/x.txt']);
    expect(readFileSync(join(dst, 'edge/victim.txt'), 'utf8')).toBe('near 2');
    expect(readFileSync(join(dst, 'linked/x.txt'), 'utf8')).toBe('near x 2');
  }, 300_000);

  it('pull: a far source gone after the plan and a near dir swapped for a symlink fail alone (exit 1); the others land', () => {
    const d = scratch();
    const src = join(d, 'far-src');
    const dst = join(d, 'near-dst');
    const state = join(d, 'state');
    for (let i = 0; i < 40; i++) put(src, `many/f${i}.bin`, Buffer.alloc(1000 + i * 500, i + 1));
    put(src, 'edge/gone.txt', 'soon gone');
    put(src, 'linked/x.txt', 'far x');
    mkdirSync(join(dst, 'linked'), { recursive: true });
    const planFile = join(d, 'plan.json');
    let r = tsync(state, ['plan', '--one-way', remote(src), dst, '-o', planFile]);
    expect(r.code, said(r)).toBe(0);
    rmSync(join(src, 'edge/gone.txt'));
    put(d, 'outside/keep.txt', 'outside');
    rmSync(join(dst, 'linked'), { recursive: true });
    symlinkSync(join(d, 'outside'), join(dst, 'linked'));
    r = tsync(state, ['apply', planFile, '--json']);
    expect(r.code, said(r)).toBe(1);
    const st = statuses(r);
    expect(st.get('edge/gone.txt')).toBe('failed');
    expect(r.stderr).toMatch(/edge\/gone\.txt/);
    expect(st.get('linked/x.txt')).toBe('failed');
    for (let i = 0; i < 40; i++) expect(readFileSync(join(dst, `many/f${i}.bin`)).equals(Buffer.alloc(1000 + i * 500, i + 1))).toBe(true);
    expect(existsSync(join(dst, 'edge/gone.txt'))).toBe(false);
    expect(readdirSync(join(d, 'outside'))).toEqual(['keep.txt']);
    expect(tempsIn(dst)).toEqual([]);
  }, 300_000);
});
