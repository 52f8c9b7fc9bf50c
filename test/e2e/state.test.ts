// The state index lives outside both trees, in the state dir, one file per pair of roots.
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, findOwnNames, link, pinTimes, put, snapshotTree } from '../helpers/tree.js';

const NOTHING_DONE = '0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B\n';

function pairDbs(stateDir: string): string[] {
  return readdirSync(stateDir).filter((n) => /^pair-[0-9a-f]+\.db$/.test(n));
}

function buildTree(sb: Sandbox): void {
  for (let i = 0; i < 12; i++) put(sb.src, `d${i % 4}/f${i}`, `file ${i}\n`.repeat(100));
  link(sb.src, 'link', 'd0/f0');
  pinTimes(sb.src);
}

describe('state outside the trees', () => {
  it('leaves nothing but the synced entries in either root, and one pair-*.db in the state dir', () => {
    const sb = sandbox();
    buildTree(sb);
    expect(sb.sync('-n').code).toBe(0);
    expect(sb.sync().code).toBe(0);
    put(sb.src, 'd1/f1', 'changed\n');
    pinTimes(sb.src);
    expect(sb.sync().code).toBe(0);

    expect(findOwnNames(sb.src)).toEqual([]);
    // the only tsync name in a root is its trash, holding the version of d1/f1 that was replaced
    expect(findOwnNames(sb.dst)).toEqual(['.tsync']);
    const trashed = readdirSync(join(sb.dst, '.tsync', 'trash'));
    expect(trashed).toHaveLength(1);
    expect(readFileSync(join(sb.dst, '.tsync', 'trash', trashed[0] ?? '', 'd1', 'f1'), 'utf8')).toBe('file 1\n'.repeat(100));
    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    const dbs = pairDbs(sb.state);
    expect(dbs).toHaveLength(1);
    // Everything in the state dir belongs to that one pair (its index, SQLite's -wal/-shm, its lock files).
    const pair = (dbs[0] ?? '?').replace(/\.db$/, '');
    for (const name of readdirSync(sb.state)) expect(name.startsWith(`${pair}.`), name).toBe(true);
  });

  it('is found through $TSYNC_STATE_DIR, then $XDG_STATE_HOME/tsync, then ~/.local/state/tsync', () => {
    const sb = sandbox();
    buildTree(sb);
    const viaEnv = join(sb.dir, 'env-state');
    const xdg = join(sb.dir, 'xdg');
    const home = join(sb.dir, 'home');
    const plain = ['sync', '--one-way', sb.src, sb.dst];

    expect(runCli(plain, { env: { TSYNC_STATE_DIR: viaEnv, XDG_STATE_HOME: xdg, HOME: home } }).code).toBe(0);
    expect(pairDbs(viaEnv)).toHaveLength(1);
    expect(runCli(plain, { env: { XDG_STATE_HOME: xdg, HOME: home } }).code).toBe(0);
    expect(pairDbs(join(xdg, 'tsync'))).toHaveLength(1);
    expect(runCli(plain, { env: { HOME: home } }).code).toBe(0);
    expect(pairDbs(join(home, '.local', 'state', 'tsync'))).toHaveLength(1);
    // --state-dir wins over all of them.
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env: { TSYNC_STATE_DIR: viaEnv } }).code).toBe(0);
    expect(pairDbs(sb.state)).toHaveLength(1);
    expect(pairDbs(viaEnv)).toHaveLength(1);
  });

  it('is taken relative to where tsync started, however the run moves its working directory', () => {
    // a small install names its files from inside their directory (fs/work-dir.ts): a relative state dir must
    // still mean the one below the directory tsync was started in, for the index, its lock and its journal
    const sb = sandbox();
    for (let i = 0; i < 40; i++) put(sb.src, `d${i % 8}/sub${i % 3}/f${i}`, `file ${i}\n`);
    pinTimes(sb.src);
    const relative = ['sync', '--one-way', '--state-dir', 'rel-state', 'src', 'dst'];
    expect(runCli(relative, { cwd: sb.dir }).code).toBe(0);
    put(sb.src, 'd3/sub0/f3', 'changed\n');
    put(sb.src, 'd5/new', 'new\n');
    pinTimes(sb.src);
    expect(runCli(['sync', '--one-way', 'src', 'dst'], { cwd: sb.dir, env: { TSYNC_STATE_DIR: 'rel-state' } }).code).toBe(0);
    expect(runCli(relative, { cwd: sb.dir })).toMatchObject({ code: 0, stdout: NOTHING_DONE });

    expect(compareTrees(snapshotTree(sb.src), snapshotTree(sb.dst))).toEqual([]);
    const dbs = pairDbs(join(sb.dir, 'rel-state'));
    expect(dbs).toHaveLength(1);
    const pair = (dbs[0] ?? '?').replace(/\.db$/, '');
    for (const name of readdirSync(join(sb.dir, 'rel-state'))) expect(name.startsWith(`${pair}.`), name).toBe(true);
    // nothing of the state dir's anywhere else: not in the trees, not beside them
    expect(readdirSync(sb.dir).sort()).toEqual(['dst', 'rel-state', 'src']);
    expect(findOwnNames(sb.dst)).toEqual(['.tsync']);
    expect(findOwnNames(sb.src)).toEqual([]);
  });

  it('is the same for the roots given through symlinked paths, and for the pair given the other way round', () => {
    const sb = sandbox();
    buildTree(sb);
    expect(sb.sync().code).toBe(0);
    const before = snapshotTree(sb.dst);
    mkdirSync(join(sb.dir, 'links'));
    symlinkSync(sb.src, join(sb.dir, 'links', 'src-alias'));
    symlinkSync(sb.dst, join(sb.dir, 'links', 'dst-alias'));

    const viaLinks = runCli(['sync', '--one-way', '--state-dir', sb.state, join(sb.dir, 'links', 'src-alias'), join(sb.dir, 'links', 'dst-alias')]);
    // `sync B A`: the mirror is already in sync both ways, and its records are the same pair's.
    const reversed = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.dst, sb.src]);

    expect(viaLinks).toMatchObject({ code: 0, stderr: '', stdout: NOTHING_DONE });
    expect(reversed).toMatchObject({ code: 0, stderr: '', stdout: NOTHING_DONE });
    expect(pairDbs(sb.state)).toHaveLength(1);
    expect(compareTrees(before, snapshotTree(sb.dst), { identity: true })).toEqual([]);
    // The links were used as roots, not replaced or followed into anything else.
    expect(compareTrees(before, snapshotTree(join(sb.dir, 'links', 'dst-alias')))).toEqual([]);
  });

  it('a different pair gets its own index', () => {
    const sb = sandbox();
    buildTree(sb);
    expect(sb.sync().code).toBe(0);
    expect(runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, join(sb.dir, 'second-dst')]).code).toBe(0);
    expect(pairDbs(sb.state)).toHaveLength(2);
  });
});
