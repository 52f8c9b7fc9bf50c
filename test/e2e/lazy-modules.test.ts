// Start-up cost (issue 11): a command loads only the code it uses. A pair of two local roots must never load the
// remote-root modules (ssh, bootstrap, the wire); a pair with a remote root does. The CLI runs as a real child
// process with loader hooks that record every ES module it loads (test/helpers/record-loads.mjs); the bundle's
// chunks keep esbuild's `// dist/<module>.js` comments, which say which source modules a chunk holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectRoot, runCli, sandbox } from '../helpers/cli.js';
import { standinSsh } from '../helpers/remote-side.js';
import { put } from '../helpers/tree.js';

const recorder = pathToFileURL(join(projectRoot, 'test', 'helpers', 'record-loads.mjs')).href;
const builtinsRecorder = join(projectRoot, 'test', 'helpers', 'record-builtins.cjs');
const REMOTE_MODULES = ['dist/remote/open-remote.js', 'dist/remote/bootstrap.js', 'dist/remote/rpc-peer.js', 'dist/remote/preconnect.js', 'dist/cli/connect-ahead.js'];

/** Runs tsync and returns the source modules (`dist/…`) held by the bundle chunks it loaded. */
function modulesLoadedBy(args: string[], logFile: string): Set<string> {
  const r = runCli(args, { env: { NODE_OPTIONS: `--import=${recorder}`, TSYNC_TEST_LOADS: logFile } });
  expect(r.code, r.stderr).toBe(0);
  const chunks = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:') && u.includes('/dist/bundle/'));
  expect(chunks.length).toBeGreaterThan(0);
  const modules = new Set<string>();
  for (const url of chunks) for (const m of readFileSync(fileURLToPath(url), 'utf8').matchAll(/^\/\/ (dist\/\S+\.js)$/gm)) modules.add(m[1] as string);
  return modules;
}

/** Runs tsync and returns the Node built-in modules it loaded (`child_process`, `internal/…`). */
function builtinsLoadedBy(args: string[], logFile: string): Set<string> {
  const r = runCli(args, { env: { NODE_OPTIONS: `--require=${builtinsRecorder}`, TSYNC_TEST_BUILTINS: logFile } });
  expect(r.code, r.stderr).toBe(0);
  return new Set(readFileSync(logFile, 'utf8').split('\n'));
}

describe('a command loads only the modules it uses', () => {
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

  it('a local sync and a local status load no remote-root module', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    const sync = modulesLoadedBy(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'sync-loads'));
    expect(sync.has('dist/sync/run-loop.js')).toBe(true);
    const status = modulesLoadedBy(['status', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], join(sb.dir, 'status-loads'));
    for (const m of REMOTE_MODULES) {
      expect(sync.has(m), `sync loaded ${m}`).toBe(false);
      expect(status.has(m), `status loaded ${m}`).toBe(false);
    }
  });

  it('a sync with a remote root loads them (the check above can see them)', () => {
    const sb = sandbox();
    put(sb.src, 'a.txt', 'a');
    const loaded = modulesLoadedBy(['sync', '--one-way', '--ssh', standinSsh, '--state-dir', sb.state, sb.src, `localhost:${sb.dst}`], join(sb.dir, 'remote-loads'));
    for (const m of REMOTE_MODULES) expect(loaded.has(m), `remote sync did not load ${m}`).toBe(true);
  });
});
