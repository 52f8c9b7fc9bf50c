// End to end with a remote root: the built CLI syncs with a root reached over a real OpenSSH server on 127.0.0.1
// (test/helpers/sshd.ts), the agent started by the bootstrap from the bundle. Nothing is mocked; the "remote"
// machine is this one, so the far tree is checked by reading it directly. Where a behaviour has a local
// reference (conflict policies, ignore files), the same scenario runs on two local roots and the trees must match.
// ssh connects are slow on a loaded machine (1-3 s each): runs per test are kept few and timeouts generous.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, type CliResult, lines, makeTempDir, projectRoot, removeTempDir, type RunOptions, runCli } from '../helpers/cli.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';
import { compareTrees, dir, link, put, sameTrees, setTimesNs, snapshotTree, type TreeSnapshot } from '../helpers/tree.js';
import { startAgent } from './agent-session.js';

const HOST = '127.0.0.1';
let sshd: Sshd;
let far: string;
/** What every session on the far side gets (sshd SetEnv): its own cache (the bundle) and state (the root locks). */
let farEnv: Record<string, string>;

beforeAll(async () => {
  far = makeTempDir('tsync-rsync-far-');
  farEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', XDG_CACHE_HOME: join(far, 'cache'), XDG_STATE_HOME: join(far, 'state'), HOME: join(far, 'home') };
  mkdirSync(farEnv.HOME as string);
  // password authentication is offered, so that a client that is allowed to prompt would prompt
  sshd = await startSshd({ env: farEnv, passwordAuth: true });
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (far !== undefined) removeTempDir(far);
});

const remote = (path: string): string => `${HOST}:${path}`;

/** `tsync sync --state-dir STATE --ssh SSHD ...args`, two minutes at most. */
function tsync(state: string, args: readonly string[], opts: RunOptions = {}): CliResult {
  return runCli(['sync', '--state-dir', state, '--ssh', sshd.sshCommand, ...args], { timeoutMs: 120_000, ...opts });
}

interface Summary {
  readonly counts: Record<string, number>;
  readonly exitCode: number;
  readonly problems: number;
}

function summaryOf(r: CliResult): Summary {
  const last = lines(r.stdout).at(-1) ?? '';
  try {
    return JSON.parse(last) as Summary;
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

const totalActions = (s: Summary): number => Object.values(s.counts).reduce((a, b) => a + b, 0);

function ok(r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A temp dir for one test, removed afterwards. */
function scratch(): string {
  const d = makeTempDir('tsync-rsync-');
  onDone.push(() => removeTempDir(d));
  return d;
}
const onDone: (() => void)[] = [];
afterAll(() => {
  for (const f of onDone.splice(0)) f();
});

const T0 = 1_700_000_000_000_000_000n;
const NON_UTF8 = Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9, 0xff, 0x2e, 0x74, 0x78, 0x74]);

/** Every kind of thing a mirror must carry: modes, mtimes, symlinks, empty dirs, a non-UTF-8 name, a newline. */
function richTree(root: string): void {
  mkdirSync(root, { recursive: true });
  put(root, 'a.txt', 'alpha\n', 0o640);
  put(root, 'run.sh', '#!/bin/sh\necho hi\n', 0o755);
  put(root, 'deep/er/b.bin', Buffer.alloc(300_000, 7), 0o600);
  put(root, 'deep/empty-file', '');
  put(root, 'new\nline', 'a name with a newline\n');
  dir(root, 'empty');
  dir(root, 'deep/tight', 0o700);
  link(root, 'deep/to-a', '../a.txt');
  link(root, 'dangling', 'no/such/target');
  const odd = put(root, NON_UTF8, 'not UTF-8 in the name\n');
  setTimesNs([join(root, 'a.txt'), join(root, 'run.sh'), join(root, 'deep/er/b.bin'), join(root, 'new\nline'), join(root, 'deep/empty-file')], T0 + 123_456_000n);
  lutimesSync(odd, 1_600_000_000, 1_600_000_000);
  setTimesNs([join(root, 'empty'), join(root, 'deep/tight'), join(root, 'deep/er')], T0);
}

function expectSame(expected: TreeSnapshot, actual: TreeSnapshot): void {
  expect(compareTrees(expected, actual)).toEqual([]);
}

/** Files below `root` whose names mark a temp file of a run (tsync's own or ssh-side leftovers). */
function tempLeftovers(root: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/^\.tsync-tmp|\.tmp$|^\.tsync-part/.test(e.name)) found.push(join(d, e.name));
      if (e.isDirectory() && e.name !== '.tsync') walk(join(d, e.name));
    }
  };
  walk(root);
  return found;
}

/** Every file below `.tsync/trash` of a root, by its path under the run's folder. */
function trashed(root: string): string[] {
  const trash = join(root, '.tsync', 'trash');
  if (!existsSync(trash)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(trash, '');
  // drop the run's stamp folder: what is left is the path the file had in the root
  return out.map((p) => p.split('/').slice(1).join('/')).sort();
}

describe('one-way with a remote root', () => {
  it('pushes into a missing remote dir (created) and pulls it back: equal trees, then both runs are no-ops', () => {
    const d = scratch();
    const src = join(d, 'src');
    const dst = join(d, 'far', 'dst');
    const back = join(d, 'back');
    richTree(src);
    const expected = snapshotTree(src);

    // B remote
    const push = ok(tsync(join(d, 'state'), ['--one-way', '--json', src, remote(dst)]));
    expect(summaryOf(push).counts.copy).toBeGreaterThan(0);
    expectSame(expected, snapshotTree(dst));
    const again = ok(tsync(join(d, 'state'), ['--one-way', '--json', src, remote(dst)]));
    expect(totalActions(summaryOf(again))).toBe(0);
    expectSame(expected, snapshotTree(dst));

    // A remote
    ok(tsync(join(d, 'state'), ['--one-way', '--json', remote(dst), back]));
    expectSame(expected, snapshotTree(back));
    const againBack = ok(tsync(join(d, 'state'), ['--one-way', '--json', remote(dst), back]));
    expect(totalActions(summaryOf(againBack))).toBe(0);
    expectSame(expected, snapshotTree(src));
  }, 180_000);

  it('deletes and overwrites on the remote go to its .tsync/trash', () => {
    const d = scratch();
    const src = join(d, 'src');
    const dst = join(d, 'dst');
    put(src, 'keep.txt', 'keep');
    put(src, 'gone.txt', 'old gone');
    put(src, 'sub/changed.txt', 'version 1');
    ok(tsync(join(d, 'state'), ['--one-way', src, remote(dst)]));
    rmSync(join(src, 'gone.txt'));
    writeFileSync(join(src, 'sub/changed.txt'), 'version 2, longer');
    ok(tsync(join(d, 'state'), ['--one-way', src, remote(dst)]));
    expectSame(snapshotTree(src), snapshotTree(dst));
    expect(trashed(dst)).toEqual(['gone.txt', 'sub/changed.txt']);
    const trash = join(dst, '.tsync', 'trash');
    const run = readdirSync(trash)[0] as string;
    expect(readFileSync(join(trash, run, 'gone.txt'), 'utf8')).toBe('old gone');
    expect(readFileSync(join(trash, run, 'sub/changed.txt'), 'utf8')).toBe('version 1');
  }, 120_000);

  it('a remote file changed after the scan is not overwritten (stale check on the far side)', async () => {
    const d = scratch();
    const src = join(d, 'src');
    const dst = join(d, 'dst');
    put(src, 'z-victim.txt', Buffer.alloc(2 * 1024 * 1024, 'v1'));
    ok(tsync(join(d, 'state'), ['--one-way', src, remote(dst)]));
    // one big copy first, the victim after it: large copies (over 1 MiB) run in path order with
    // --concurrency 1, while small ones to a remote side go through a wider queue of their own
    put(src, 'a-big.bin', Buffer.alloc(96 * 1024 * 1024, 1));
    writeFileSync(join(src, 'z-victim.txt'), Buffer.alloc(2 * 1024 * 1024, 'v2'));
    const run = startCli(['sync', '--state-dir', join(d, 'state'), '--ssh', sshd.sshCommand, '--one-way', '--concurrency', '1', src, remote(dst)]);
    // the big file's temp on the far side shows the scan is over and the copies have begun
    await waitFor(() => readdirSync(dst).some((n) => n.startsWith('.tsync-tmp')) || run.done(), 120_000);
    expect(run.done()).toBe(false);
    writeFileSync(join(dst, 'z-victim.txt'), 'edited on the far side during the run');
    const r = await run.result;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/z-victim\.txt/);
    expect(readFileSync(join(dst, 'z-victim.txt'), 'utf8')).toBe('edited on the far side during the run');
    expect(statSync(join(dst, 'a-big.bin')).size).toBe(96 * 1024 * 1024);
  }, 240_000);

  it('--dry-run lists the plan and changes nothing on the remote', () => {
    const d = scratch();
    const src = join(d, 'src');
    const dst = join(d, 'dst');
    put(src, 'a.txt', 'a');
    put(src, 'b.txt', 'b');
    ok(tsync(join(d, 'state'), ['--one-way', src, remote(dst)]));
    put(src, 'new.txt', 'new');
    writeFileSync(join(src, 'a.txt'), 'a changed');
    rmSync(join(src, 'b.txt'));
    const before = snapshotTree(dst);
    const r = ok(tsync(join(d, 'state'), ['--one-way', '--dry-run', src, remote(dst)]));
    expect(r.stdout).toMatch(/^\+ new\.txt$/m);
    expect(r.stdout).toMatch(/^~ a\.txt$/m);
    expect(r.stdout).toMatch(/^- b\.txt$/m);
    expect(compareTrees(before, snapshotTree(dst), { identity: true })).toEqual([]);
    expect(existsSync(join(dst, '.tsync', 'trash'))).toBe(false);
  }, 120_000);
});

/** Runs the same scenario on a local pair and on a pair with `remoteSide` remote; returns both pairs' roots. */
function bothWays(d: string, remoteSide: 'left' | 'right', build: (left: string, right: string) => void, args: readonly string[], between?: (left: string, right: string) => void) {
  const out: Record<'local' | 'remote', { left: string; right: string; results: CliResult[] }> = {
    local: { left: join(d, 'local-a'), right: join(d, 'local-b'), results: [] },
    remote: { left: join(d, 'remote-a'), right: join(d, 'remote-b'), results: [] },
  };
  for (const kind of ['local', 'remote'] as const) {
    const p = out[kind];
    mkdirSync(p.left, { recursive: true });
    mkdirSync(p.right, { recursive: true });
    build(p.left, p.right);
    const roots = kind === 'local' ? [p.left, p.right] : remoteSide === 'right' ? [p.left, remote(p.right)] : [remote(p.left), p.right];
    const state = join(d, `state-${kind}`);
    if (between !== undefined) {
      p.results.push(tsync(state, [...args, ...roots]));
      between(p.left, p.right);
    }
    p.results.push(tsync(state, [...args, ...roots]));
  }
  return out;
}

/** A tree snapshot with conflict copies' time stamps blanked (two runs a second apart name them differently). */
function normalized(root: string): TreeSnapshot {
  const out: TreeSnapshot = new Map();
  for (const [k, v] of snapshotTree(root)) out.set(k.replace(/\.tsync-conflict-\d{8}-\d{6}-/, '.tsync-conflict-STAMP-'), v);
  return out;
}

/**
 * Differences between the remote pair and the local reference. Files made by the test (not by the run) have the
 * times they were made at, which differ between the two pairs: their mtimes are left out, except for paths starting
 * with `c.` (the conflicting file and its conflict copies), whose times the test sets. Directory mtimes are not
 * carried by two-way sync.
 */
function referenceDiffs(a: TreeSnapshot, b: TreeSnapshot): string[] {
  return compareTrees(a, b).filter((line) => {
    const m = /^"(.*)": mtime /.exec(line);
    return m?.[1] === undefined || m[1].startsWith('c.');
  });
}

describe.each(['right', 'left'] as const)('the %s root remote, against two local roots', (remoteSide) => {
  it('changes on both sides propagate', () => {
    const d = scratch();
    const r = bothWays(
      d,
      remoteSide,
      (a) => {
        put(a, 'shared.txt', 'v1');
        put(a, 'doomed.txt', 'bye');
        put(a, 'dir/x.txt', 'x');
      },
      ['--json'],
      (a, b) => {
        put(a, 'from-a.txt', 'made on A');
        put(b, 'from-b/deep.txt', 'made on B');
        writeFileSync(join(b, 'shared.txt'), 'v2 from B');
        rmSync(join(a, 'doomed.txt'));
        link(b, 'dir/ln', 'x.txt');
      },
    );
    for (const res of [...r.local.results, ...r.remote.results]) ok(res);
    const { left, right } = r.remote;
    expect(sameTrees(left, right)).toEqual([]);
    expect(readFileSync(join(left, 'from-b/deep.txt'), 'utf8')).toBe('made on B');
    expect(readFileSync(join(right, 'from-a.txt'), 'utf8')).toBe('made on A');
    expect(readFileSync(join(left, 'shared.txt'), 'utf8')).toBe('v2 from B');
    expect(existsSync(join(right, 'doomed.txt'))).toBe(false);
    expect(referenceDiffs(normalized(r.local.left), normalized(left))).toEqual([]);
    expect(referenceDiffs(normalized(r.local.right), normalized(right))).toEqual([]);
  }, 180_000);

  it.each(['keep-both', 'newer', 'left', 'right', 'skip'] as const)(
    '--conflict %s resolves like two local roots',
    (policy) => {
      const d = scratch();
      const r = bothWays(
        d,
        remoteSide,
        (a) => {
          put(a, 'c.txt', 'base');
          put(a, 'calm.txt', 'calm');
        },
        ['--conflict', policy],
        (a, b) => {
          writeFileSync(join(a, 'c.txt'), 'edited on A');
          writeFileSync(join(b, 'c.txt'), 'edited on B, later and longer');
          setTimesNs(join(a, 'c.txt'), T0 + 5_000_000_000n);
          setTimesNs(join(b, 'c.txt'), T0 + 9_000_000_000n);
          put(a, 'calm-new.txt', 'no conflict here');
        },
      );
      const codes = (rs: CliResult[]) => rs.map((x) => x.code);
      expect(codes(r.remote.results), r.remote.results.map((x) => x.stderr).join('')).toEqual(codes(r.local.results));
      expect(codes(r.local.results)).toEqual([0, policy === 'skip' ? 3 : 0]);
      expect(referenceDiffs(normalized(r.local.left), normalized(r.remote.left))).toEqual([]);
      expect(referenceDiffs(normalized(r.local.right), normalized(r.remote.right))).toEqual([]);
      if (policy !== 'skip') expect(sameTrees(r.remote.left, r.remote.right)).toEqual([]);
      // the reference itself resolved as the policy says (so a policy applied to the wrong side cannot match it)
      const winner = readFileSync(join(r.remote.left, 'c.txt'), 'utf8');
      const expectedWinner = {
        'keep-both': 'edited on B, later and longer',
        newer: 'edited on B, later and longer',
        left: 'edited on A',
        right: 'edited on B, later and longer',
        skip: 'edited on A',
      }[policy];
      expect(winner).toBe(expectedWinner);
    },
    180_000,
  );

  it.each(['one-way', 'two-way'] as const)(
    '%s: a .tsyncignore on one side only hides its paths on both sides, like two local roots',
    (mode) => {
      for (const ignoreOn of ['left', 'right'] as const) {
        const d = scratch();
        const r = bothWays(
          d,
          remoteSide,
          (a, b) => {
            const own = ignoreOn === 'left' ? a : b;
            writeFileSync(join(own, '.tsyncignore'), 'secret-*\n');
            put(a, 'secret-a.txt', 'only on A');
            put(b, 'secret-b.txt', 'only on B');
            put(a, 'plain-a.txt', 'plain');
            put(b, 'plain-b.txt', 'plain');
          },
          // --force: in one-way, the one extra file on B is all B holds outside the ignored names (the mass-deletion guard)
          mode === 'one-way' ? ['--one-way', '--force'] : [],
        );
        for (const res of [...r.local.results, ...r.remote.results]) ok(res);
        const { left, right } = r.remote;
        const why = `ignore file on ${ignoreOn}`;
        expect(existsSync(join(right, 'secret-a.txt')), why).toBe(false);
        expect(readFileSync(join(right, 'secret-b.txt'), 'utf8'), why).toBe('only on B');
        expect(existsSync(join(left, 'secret-b.txt')), why).toBe(false);
        expect(readFileSync(join(left, 'secret-a.txt'), 'utf8'), why).toBe('only on A');
        expect(readFileSync(join(right, 'plain-a.txt'), 'utf8')).toBe('plain');
        expect(existsSync(join(right, 'plain-b.txt'))).toBe(mode === 'two-way');
        expect(referenceDiffs(snapshotTree(r.local.left), snapshotTree(left)), why).toEqual([]);
        expect(referenceDiffs(snapshotTree(r.local.right), snapshotTree(right)), why).toEqual([]);
      }
    },
    240_000,
  );
});

describe('errors', () => {
  it('two remote roots: exit 2, one line', () => {
    const d = scratch();
    const r = tsync(join(d, 'state'), ['--one-way', remote(join(d, 'a')), remote(join(d, 'b'))]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
  });

  it('a missing remote root in two-way: exit 2 naming it, nothing created', () => {
    const d = scratch();
    mkdirSync(join(d, 'a'));
    put(join(d, 'a'), 'f', 'x');
    const missing = join(d, 'nope');
    const r = tsync(join(d, 'state'), [join(d, 'a'), remote(missing)]);
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toMatch(/does not exist/);
    expect(existsSync(missing)).toBe(false);
  }, 60_000);

  it('an unreachable host (closed port): exit 6, one line', async () => {
    const d = scratch();
    mkdirSync(join(d, 'a'));
    const port = await closedPort();
    const r = runCli(['sync', '--one-way', '--state-dir', join(d, 'state'), '--ssh', sshd.sshCommandNoPort, join(d, 'a'), `ssh://${HOST}:${port}${join(d, 'b')}`], { timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(6);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/Connection refused/);
  }, 60_000);

  it('a key the server refuses, no terminal: exit 6 without a password prompt', () => {
    const d = scratch();
    mkdirSync(join(d, 'a'));
    const asked = join(d, 'asked');
    const askpass = join(d, 'askpass');
    writeFileSync(askpass, `#!/bin/sh\necho asked >>${asked}\necho wrong\n`, { mode: 0o755 });
    const wrongKey = sshd.sshCommand.replace(/-i \S+/, `-i ${sshd.wrongKey}`);
    const r = runCli(['sync', '--one-way', '--state-dir', join(d, 'state'), '--ssh', wrongKey, join(d, 'a'), remote(join(d, 'b'))], {
      timeoutMs: 30_000,
      env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    });
    expect(r.code, r.stderr).toBe(6);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(existsSync(asked)).toBe(false);
  }, 60_000);

  it('a remote root locked by another agent: exit 5 naming the holder, the root untouched', async () => {
    const d = scratch();
    const src = join(d, 'src');
    const dst = join(d, 'dst');
    put(src, 'f.txt', 'new');
    put(dst, 'f.txt', 'old');
    // the holder: an agent on the far machine, with the far sessions' state dir, that opened and locked the root
    const holder = await startAgent(farEnv);
    try {
      await holder.peer.call('open', { path: dst, mayBeMissing: false });
      await holder.peer.call('lock', { clientHost: 'holder-host', clientPid: 424242 });
      const r = tsync(join(d, 'state'), ['--one-way', src, remote(dst)]);
      expect(r.code, r.stderr).toBe(5);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/holder-host/);
      expect(r.stderr).toMatch(/424242/);
      expect(readFileSync(join(dst, 'f.txt'), 'utf8')).toBe('old');
    } finally {
      await holder.stop();
    }
    // released with the session: the next run goes through
    ok(tsync(join(d, 'state'), ['--one-way', src, remote(dst)]));
    expect(readFileSync(join(dst, 'f.txt'), 'utf8')).toBe('new');
  }, 120_000);
});

describe('the agent refuses requests no tsync makes', () => {
  const dirEntry = { entry: { kind: 'dir', mode: 0o755, mtimeNs: T0 }, stat: { ino: 1n, ctimeNs: T0, size: 0, mtimeNs: T0 }, observedAtNs: T0 };
  const fileEntry = { entry: { kind: 'file', size: 5, mtimeNs: T0, mode: 0o644, hash: null }, stat: { ino: 2n, ctimeNs: T0, size: 5, mtimeNs: T0 }, observedAtNs: T0 };
  async function* bytes(): AsyncIterable<Buffer> {
    yield Buffer.from('owned');
  }
  const calls: Record<string, (peer: import('../../src/remote/rpc-peer.js').RpcPeer, path: string) => Promise<unknown>> = {
    remove: (peer, path) => peer.call('remove', { path, expect: null, label: 'x' }),
    makeDir: (peer, path) => peer.call('makeDir', { path, source: dirEntry, label: 'x' }),
    install: (peer, path) => peer.callWithUpload('install', { path, source: fileEntry, expect: null, xattrs: null }, bytes()),
  };
  const hostile = ['../x', '/etc/passwd', 'a/../../x', 'a\0b', '', '.', 'a//b'];

  async function session(d: string) {
    const root = join(d, 'root');
    put(root, 'a/inside.txt', 'inside');
    put(d, 'x', 'canary outside the root');
    put(d, 'canary', 'canary');
    const agent = await startAgent(farEnv);
    await agent.peer.call('open', { path: root, mayBeMissing: false });
    // a run is open, as for any write a tsync makes: only the path is wrong in the hostile calls
    await agent.peer.call('beginRun', { trashStamp: 'run1', keep: { owner: false, group: false, xattrs: false }, chownRefused: false, racyWindowNs: 0n });
    return { root, agent };
  }

  it.each(Object.keys(calls))(
    '%s with a good path works (the control)',
    async (method) => {
      const d = scratch();
      const { root, agent } = await session(d);
      if (method === 'remove') {
        const st = lstatSync(join(root, 'a/inside.txt'), { bigint: true });
        await agent.peer.call('remove', { path: 'a/inside.txt', expect: { kind: 'file', ino: st.ino, ctimeNs: st.ctimeNs, size: Number(st.size), mtimeNs: st.mtimeNs }, label: 'x' });
      } else await calls[method]?.(agent.peer, 'made');
      expect(existsSync(join(root, method === 'remove' ? 'a/inside.txt' : 'made'))).toBe(method !== 'remove');
      await agent.stop();
    },
    60_000,
  );

  it.each(Object.keys(calls).flatMap((m) => hostile.map((p) => [m, p] as const)))(
    '%s %j: a protocol error, the session ends, nothing changes',
    async (method, path) => {
      const d = scratch();
      const { root, agent } = await session(d);
      const outside = snapshotTree(d);
      let failure: unknown = null;
      try {
        await calls[method]?.(agent.peer, path);
      } catch (e) {
        failure = e;
      }
      expect(failure).toBeInstanceOf(Error);
      expect(String((failure as Error).message)).toMatch(/malformed|protocol|inside the root/i);
      // the agent ended the session on its own, and exits
      await agent.peer.closed;
      await agent.exited;
      expect(compareTrees(outside, snapshotTree(d), { identity: true })).toEqual([]);
      expect(existsSync(join(root, '.tsync'))).toBe(false);
      expect(readFileSync('/etc/passwd', 'utf8')).toMatch(/^root:/);
    },
    60_000,
  );
});

describe('the link dies mid-run', () => {
  // the ssh client on this side, or the agent on the far side (SIGKILL: it cannot clean up its temp files)
  it.each(['ssh client', 'agent'] as const)(
    'the %s is killed: exit 6 in one line, no torn file on the remote; the next run completes and cleans up, the one after is a no-op',
    async (victim) => {
      const d = scratch();
      const src = join(d, 'src');
      const dst = join(d, 'dst');
      // enough data that the run is still copying when the link is cut
      for (let i = 0; i < 16; i++) put(src, `f${String(i).padStart(2, '0')}.bin`, Buffer.alloc(8 * 1024 * 1024, i + 1));
      for (let i = 0; i < 200; i++) put(src, `small/s${i}.txt`, `small ${i}\n`);
      const state = join(d, 'state');
      const run = startCli(['sync', '--state-dir', state, '--ssh', sshd.sshCommand, '--one-way', src, remote(dst)]);
      // cut the link once some files have arrived on the far side and more are being written
      const arrived = (): boolean => existsSync(dst) && readdirSync(dst).filter((n) => n.startsWith('f')).length >= 2 && readdirSync(dst).some((n) => n.startsWith('.tsync-tmp'));
      await waitFor(() => run.done() || arrived(), 120_000);
      expect(run.done()).toBe(false);
      const pid = victim === 'ssh client' ? childNamed(run.pid, 'ssh') : farAgent();
      expect(pid).not.toBeNull();
      process.kill(pid as number, 'SIGKILL');
      const r = await run.result;
      expect(r.code, r.stderr).toBe(6);
      expect(lines(r.stderr)).toHaveLength(1);
      // every file on the far side is absent or whole
      const source = snapshotTree(src);
      for (const [k, e] of snapshotTree(dst)) {
        if (e.type !== 'file') continue;
        expect(e.contentSha, `${k} is torn`).toBe(source.get(k)?.contentSha);
      }
      // a killed agent leaves the temp files it was writing: the next run must clear them
      if (victim === 'agent') expect(tempLeftovers(dst).length).toBeGreaterThan(0);
      const second = await startCli(['sync', '--state-dir', state, '--ssh', sshd.sshCommand, '--one-way', src, remote(dst)]).result;
      expect(second.code, second.stderr).toBe(0);
      expectSame(source, snapshotTree(dst));
      expect(tempLeftovers(dst)).toEqual([]);
      const third = ok(tsync(state, ['--one-way', '--json', src, remote(dst)]));
      expect(totalActions(summaryOf(third))).toBe(0);
    },
    300_000,
  );
});

// ---- helpers for runs that the test acts on while they run --------------------------------------------------------

interface Running {
  readonly pid: number;
  readonly result: Promise<CliResult>;
  done(): boolean;
}

function startCli(args: readonly string[]): Running {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: far } });
  let stdout = '';
  let stderr = '';
  let finished = false;
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const result = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      finished = true;
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { pid: child.pid ?? -1, result, done: () => finished };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The child of `pid` whose command name is `comm` (the ssh client tsync started). */
function childNamed(pid: number, comm: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** The agent this file's sshd started: the only process running the bundle from this file's far cache dir. */
function farAgent(): number | null {
  const cache = farEnv.XDG_CACHE_HOME as string;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.startsWith(`${cache}/`)) && argv.includes('agent')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found.length === 1 ? (found[0] as number) : null;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
