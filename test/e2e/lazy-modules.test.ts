// Start-up cost (issue 11): a command runs only the code it uses. A pair of two local roots must never run the
// remote-root modules (ssh, bootstrap, the wire); a pair with a remote root does. The CLI runs as a real child
// process with a preload (test/helpers/record-evaluated.cjs) that records every module of the bundle that runs:
// the bundle is one CommonJS file (scripts/bundle.mjs), read whole, in which each module reached through a
// dynamic import() runs only when that import does.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot, runCli, sandbox } from '../helpers/cli.js';
import { standinSsh } from '../helpers/remote-side.js';
import { put } from '../helpers/tree.js';
import { SYNC_HASH_MAX } from '../../src/hash/xxhash.js';

const evaluationRecorder = join(projectRoot, 'test', 'helpers', 'record-evaluated.cjs');
const builtinsRecorder = join(projectRoot, 'test', 'helpers', 'record-builtins.cjs');
const REMOTE_MODULES = ['dist/remote/open-remote.js', 'dist/remote/bootstrap.js', 'dist/remote/rpc-peer.js', 'dist/remote/preconnect.js', 'dist/cli/connect-ahead.js'];

/** Runs tsync and returns the source modules (`dist/…`) of the bundle that ran. */
function modulesRunBy(args: string[], logFile: string): Set<string> {
  // the recorder instruments the bundle as Node's loader compiles it: without the code cache (bin/load-bundle.js), which compiles it itself
  const r = runCli(args, { env: { NODE_OPTIONS: `--require=${evaluationRecorder}`, TSYNC_TEST_EVALUATED: logFile, TSYNC_CODE_CACHE: '0' } });
  expect(r.code, r.stderr).toBe(0);
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const main = lines.find((l) => l.startsWith('instrumented ') && l.endsWith(join('dist', 'bundle', 'main.js')));
  expect(main, 'the recorder saw the bundle').toBeDefined();
  expect(Number(main?.split(' ')[1]), "the recorder found the bundle's deferred modules").toBeGreaterThan(REMOTE_MODULES.length);
  return new Set(lines.filter((l) => l.startsWith('dist/')));
}

/** Runs tsync and returns the Node built-in modules it loaded (`child_process`, `internal/…`). */
function builtinsLoadedBy(args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): Set<string> {
  const r = runCli(args, { env: { ...env, NODE_OPTIONS: `--require=${builtinsRecorder}`, TSYNC_TEST_BUILTINS: logFile } });
  expect(r.code, r.stderr).toBe(0);
  return new Set(readFileSync(logFile, 'utf8').split('\n'));
}

describe('a command runs only the modules it uses', () => {
  it('status does not load node:child_process (about 10 ms with net and dgram)', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    const status = builtinsLoadedBy(['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'status-builtins'));
    expect(status.has('fs'), 'the recorder sees built-ins').toBe(true);
    expect(status.has('child_process'), 'status loaded child_process').toBe(false);
    // the same recorder sees it where it is used: a remote root's ssh is spawned with it
    const remote = builtinsLoadedBy(['sync', '--one-way', '--ssh', standinSsh, '--state-dir', sb.state, sb.src, `localhost:${sb.dst}`], join(sb.dir, 'remote-builtins'));
    expect(remote.has('child_process'), 'a remote sync did not load child_process').toBe(true);
  });

  it('status and a sync that print into a pipe do not load node:net (process.stdout for a pipe: about 5 ms, src/cli/io.ts)', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    const sync = builtinsLoadedBy(['sync', '--one-way', '--verbose', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'sync-builtins'));
    expect(sync.has('fs'), 'the recorder sees built-ins').toBe(true);
    expect(sync.has('net'), 'a sync printing into a pipe loaded net').toBe(false);
    const status = builtinsLoadedBy(['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'status-pipe-builtins'));
    expect(status.has('net'), 'status printing into a pipe loaded net').toBe(false);
    // the same recorder sees it where a stream is made: TSYNC_TIMINGS lines go through process.stderr
    const timed = builtinsLoadedBy(['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'timed-builtins'), { TSYNC_TIMINGS: '1' });
    expect(timed.has('net'), 'process.stderr for a pipe did not load net').toBe(true);
  });

  it('a sync that hashes small files, a no-op and status do not load node:fs/promises (readline and a dozen stream modules); a sync that hashes a large file does', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    put(sb.dst, 'a.txt', 'b');
    const sync = ['sync', '--state-dir', sb.state, sb.src, sb.dst];
    // the first run meets a.txt on both sides, the same size and different content: it hashes both, with synchronous
    // reads for a file this small (src/hash/xxhash.ts hashSmallFileSync), and keeps both versions
    const first = builtinsLoadedBy(sync, join(sb.dir, 'first-builtins'));
    expect(first.has('fs'), 'the recorder sees built-ins').toBe(true);
    expect(first.has('fs/promises'), 'a sync that hashed small files loaded fs/promises').toBe(false);
    const noop = builtinsLoadedBy(sync, join(sb.dir, 'noop-builtins'));
    expect(noop.has('fs/promises'), 'a no-op sync loaded fs/promises').toBe(false);
    const status = builtinsLoadedBy(['status', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'status-builtins'));
    expect(status.has('fs/promises'), 'status loaded fs/promises').toBe(false);
    // the same large file new on both sides: hashed (streamed through a FileHandle) and found equal, so nothing is copied
    const large = Buffer.alloc(SYNC_HASH_MAX + 1, 7);
    put(sb.src, 'large.bin', large);
    put(sb.dst, 'large.bin', large);
    const hashedLarge = builtinsLoadedBy(sync, join(sb.dir, 'large-builtins'));
    expect(hashedLarge.has('fs/promises'), 'a sync that hashed a large file did not load fs/promises').toBe(true);
  });

  it('a sync that copies, a no-op and status do not load node:perf_hooks (eight modules behind the performance global)', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    put(sb.src, 'd/b.txt', 'b');
    const runs = {
      copying: ['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst],
      'no-op': ['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst],
      status: ['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst],
    };
    for (const [name, args] of Object.entries(runs)) {
      const loaded = builtinsLoadedBy(args, join(sb.dir, `${name}-builtins`));
      expect(loaded.has('fs'), 'the recorder sees built-ins').toBe(true);
      expect(loaded.has('perf_hooks'), `${name} loaded perf_hooks`).toBe(false);
    }
    // the same recorder sees it where it is used: the phase timings read the performance global
    const timed = runCli(runs['no-op'], { env: { NODE_OPTIONS: `--require=${builtinsRecorder}`, TSYNC_TEST_BUILTINS: join(sb.dir, 'timed-builtins'), TSYNC_TIMINGS: '1' } });
    expect(timed.code, timed.stderr).toBe(0);
    expect(readFileSync(join(sb.dir, 'timed-builtins'), 'utf8').split('\n')).toContain('perf_hooks');
  });

  it('syncs that copy, delete and keep both sides of a conflict, a no-op and status do not load node:crypto (OpenSSL and some twenty modules); a file with an xattr does', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    put(sb.src, 'd/b.txt', 'b');
    mkdirSync(sb.dst);
    const sync = ['sync', '--state-dir', sb.state, sb.src, sb.dst];
    const loadedBy = (name: string, args: string[]) => {
      const loaded = builtinsLoadedBy(args, join(sb.dir, `${name}-builtins`));
      expect(loaded.has('fs'), 'the recorder sees built-ins').toBe(true);
      return loaded.has('crypto');
    };
    expect(loadedBy('copying', sync), 'a first copy loaded crypto').toBe(false);
    put(sb.src, 'a.txt', 'changed on one side');
    put(sb.dst, 'a.txt', 'changed on the other');
    rmSync(join(sb.src, 'd', 'b.txt'));
    expect(loadedBy('conflict', sync), 'a sync with a conflict and a delete loaded crypto').toBe(false);
    expect(readdirSync(sb.dst).filter((n) => n.includes('.tsync-conflict-')).length, 'a conflict copy was made').toBe(1);
    expect(existsSync(join(sb.dst, 'd', 'b.txt')), 'the delete was carried over').toBe(false);
    expect(loadedBy('no-op', sync), 'a no-op loaded crypto').toBe(false);
    expect(loadedBy('status', ['status', '--state-dir', sb.state, sb.src, sb.dst]), 'status loaded crypto').toBe(false);
    // the same recorder sees it where it is used: an xattr set's digest (src/fs/xattrs.ts)
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'kept', join(sb.src, 'a.txt')]);
    expect(loadedBy('xattr', sync), 'a sync of a file with an xattr did not load crypto').toBe(true);
  });

  it('status and a small sync do not load node:v8 (heap_utils, serdes, profiler); a sync whose tables reach 1,024 rows does', () => {
    const sb = sandbox();
    for (let i = 0; i < 20; i++) put(sb.src, `d${i % 3}/f${i}`, `${i}`);
    const small = ['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst];
    expect(builtinsLoadedBy(small, join(sb.dir, 'small-builtins')).has('v8'), 'a sync of 20 files loaded v8').toBe(false);
    const status = builtinsLoadedBy(['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'status-builtins'));
    expect(status.has('fs'), 'the recorder sees built-ins').toBe(true);
    expect(status.has('v8'), 'status loaded v8').toBe(false);
    // the same recorder sees it where it is used: the young generation's check, every 1,024 rows of a table
    for (let i = 0; i < 1100; i++) put(sb.src, `big/f${i}`, '');
    expect(builtinsLoadedBy(small, join(sb.dir, 'big-builtins')).has('v8'), 'a sync of 1,120 files did not load v8').toBe(true);
  });

  it('a local sync and a local status run no remote-root module', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    const sync = modulesRunBy(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'sync-loads'));
    expect(sync.has('dist/sync/run-loop.js')).toBe(true);
    const status = modulesRunBy(['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'status-loads'));
    for (const m of REMOTE_MODULES) {
      expect(sync.has(m), `sync ran ${m}`).toBe(false);
      expect(status.has(m), `status ran ${m}`).toBe(false);
    }
  });

  it('a sync with a remote root runs them (the check above can see them)', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    const loaded = modulesRunBy(['sync', '--one-way', '--ssh', standinSsh, '--state-dir', sb.state, sb.src, `localhost:${sb.dst}`], join(sb.dir, 'remote-loads'));
    for (const m of REMOTE_MODULES) expect(loaded.has(m), `remote sync did not run ${m}`).toBe(true);
  });
});
