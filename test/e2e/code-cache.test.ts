// Start-up (issue 11): on a Node without a compile cache of its own, the CLI hands V8 the code `npm run build` kept
// for its bundle (bin/load-bundle.js, scripts/code-cache.mjs), and uses it only where it belongs to the bundle on
// disk and to V8's flags. Each case runs the built CLI as a real child process and reads which way it loaded
// from its TSYNC_TIMINGS line; the command's own output says it still worked.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir, projectRoot, removeTempDir, sandbox } from '../helpers/cli.js';

const nodeKeepsItsOwn = typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const cacheFile = join(projectRoot, 'dist', 'bundle', 'main.js.cache');

/** How the CLI loaded its bundle (its `tsync timing: code cache:` line), and the status it printed. */
function statusWith(bin: string, env: Record<string, string> = {}): { readonly loaded: string | undefined; readonly code: number | null; readonly stdout: string } {
  const sb = sandbox();
  mkdirSync(sb.dst);
  // the runner's own TSYNC_CODE_CACHE (a developer comparing) must not decide these cases
  const { TSYNC_CODE_CACHE: _inherited, ...inherited } = process.env;
  const r = spawnSync(process.execPath, [bin, 'status', '--state-dir', sb.state, sb.src, sb.dst], { encoding: 'utf8', env: { ...inherited, TSYNC_TIMINGS: '1', ...env } });
  const loaded = r.stderr
    .split('\n')
    .find((l) => l.startsWith('tsync timing: code cache: '))
    ?.slice('tsync timing: code cache: '.length);
  return { loaded, code: r.status, stdout: r.stdout };
}

/** A copy of the package's launcher and bundle in a temp dir (node_modules linked), to change without touching the build. */
function packageCopy(): string {
  const dir = makeTempDir('tsync-code-cache-');
  onTestFinished(() => removeTempDir(dir));
  mkdirSync(join(dir, 'dist'));
  // cp -a keeps the modification times to the nanosecond (the cache names its bundle's); cpSync rounds them
  const cp = spawnSync('cp', ['-a', join(projectRoot, 'bin'), join(projectRoot, 'package.json'), dir]);
  const cpBundle = spawnSync('cp', ['-a', join(projectRoot, 'dist', 'bundle'), join(dir, 'dist')]);
  expect(cp.status, String(cp.stderr)).toBe(0);
  expect(cpBundle.status, String(cpBundle.stderr)).toBe(0);
  symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bin', 'tsync.js');
}

describe.skipIf(nodeKeepsItsOwn)('the code cache, on a Node without its own (Node 20)', () => {
  it('the build made one, and the CLI starts from it', () => {
    expect(existsSync(cacheFile), `${cacheFile} missing: scripts/code-cache.mjs made none`).toBe(true);
    const r = statusWith(join(projectRoot, 'bin', 'tsync.js'));
    expect(r.code).toBe(0);
    expect(r.loaded).toBe('used');
    expect(r.stdout).toContain('pending: 0 changes');
  });

  it('a copy of the package with its cache starts from it too (the check below needs this to mean anything)', () => {
    expect(statusWith(packageCopy()).loaded).toBe('used');
  });

  it('a cache made for another bundle is not used: the bundle changed on disk (same length), and what runs is the new code', () => {
    const bin = packageCopy();
    const bundle = join(bin, '..', '..', 'dist', 'bundle', 'main.js');
    const before = readFileSync(bundle, 'utf8');
    // V8 tells sources apart by length only: a change of the same length is the one only the cache's stamp catches
    const after = before.replace('io.out(`pending: ${', 'io.out(`PENDING: ${');
    expect(after.length).toBe(before.length);
    expect(after).not.toBe(before);
    writeFileSync(bundle, after);
    const r = statusWith(bin);
    expect(r.loaded).toBe('made for another bundle or Node');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PENDING: 0 changes');
  });

  it('V8 refuses it under other V8 flags, and the CLI compiles and works', () => {
    const r = statusWith(join(projectRoot, 'bin', 'tsync.js'), { NODE_OPTIONS: '--max-old-space-size=3000' });
    expect(r.loaded).toBe('rejected by V8');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pending: 0 changes');
  });

  it('a damaged cache file is not used, and TSYNC_CODE_CACHE=0 leaves the cache out', () => {
    const bin = packageCopy();
    writeFileSync(join(bin, '..', '..', 'dist', 'bundle', 'main.js.cache'), 'not a cache');
    const damaged = statusWith(bin);
    expect(damaged.loaded).toBe('unreadable');
    expect(damaged.code).toBe(0);
    const off = statusWith(join(projectRoot, 'bin', 'tsync.js'), { TSYNC_CODE_CACHE: '0' });
    expect(off.loaded).toBe('off (TSYNC_CODE_CACHE=0)');
    expect(off.code).toBe(0);
  });
});

describe.runIf(nodeKeepsItsOwn)('on a Node with its own compile cache (22.1 and later)', () => {
  it('the CLI uses the compile cache of Node, and the build made none', () => {
    expect(existsSync(cacheFile)).toBe(false);
    expect(statusWith(join(projectRoot, 'bin', 'tsync.js')).loaded).toBe("Node's own compile cache");
  });
});
