// Every command that takes roots, with one root on "another machine": a directory of this one reached over a
// real OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts, one per file) and served by the agent bundle, as
// `127.0.0.1:/abs/path` or `ssh://127.0.0.1:PORT/abs/path`. Nothing is mocked; the far side's trees are
// planted and inspected on disk directly. Each CLI run costs an ssh connect (1-3 s here): runs are few.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, lines, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';

let sshd: Sshd;
let farSide: string;

beforeAll(async () => {
  // the far side's sessions: node on PATH (no tsync: the agent bundle is sent and cached), its own cache and state dir
  farSide = makeTempDir('tsync-rcmds-far-');
  const bin = join(farSide, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  sshd = await startSshd({ env: { PATH: `${bin}:/usr/bin:/bin`, XDG_CACHE_HOME: join(farSide, 'cache'), TSYNC_STATE_DIR: join(farSide, 'state') } });
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (farSide !== undefined) removeTempDir(farSide);
});

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly state: string;
  /** `127.0.0.1:/abs/path` of a directory here. */
  remote(path: string): string;
  /** tsync with the pair's state dir (where the command has one) and the harness's --ssh. */
  run(...args: string[]): CliResult;
}

function pair(): Pair {
  const dir = makeTempDir('tsync-rcmds-');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  mkdirSync(a);
  mkdirSync(b);
  const state = join(dir, 'state');
  return {
    a,
    b,
    state,
    remote: (path) => `127.0.0.1:${path}`,
    run: (...args) => {
      const [command = '', ...rest] = args;
      // trash and restore take one root and no state dir
      const stateDir = command === 'trash' || command === 'restore' ? [] : ['--state-dir', state];
      return runCli([command, ...stateDir, '--ssh', sshd.sshCommand, ...rest], { timeoutMs: 90_000 });
    },
  };
}

const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) removeTempDir(d);
});

function fresh(): Pair {
  const p = pair();
  cleanup.push(join(p.a, '..'));
  return p;
}

/** stdout and stderr, for a failing expectation's message. */
function said(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

describe('commands with a remote root (real sshd)', () => {
  it('check and status with B remote: a difference planted on the far side is found (exit 1), none after a sync (exit 0)', () => {
    const p = fresh();
    writeFileSync(join(p.a, 'same-size.txt'), 'version one\n');
    mkdirSync(join(p.a, 'd'));
    writeFileSync(join(p.a, 'd', 'g.txt'), 'g');
    const B = p.remote(p.b);
    const first = p.run('sync', '--one-way', p.a, B);
    expect(first.code, said(first)).toBe(0);

    const clean = p.run('check', '--one-way', p.a, B);
    expect(clean.code, said(clean)).toBe(0);
    expect(lines(clean.stdout)).toEqual(['identical']);

    // same size, other bytes: only hashing the far side's file can tell; plus a file only there
    writeFileSync(join(p.b, 'same-size.txt'), 'version two\n');
    writeFileSync(join(p.b, 'd', 'extra.txt'), 'x');
    const dirty = p.run('check', '--one-way', p.a, B);
    expect(dirty.code, said(dirty)).toBe(1);
    expect(lines(dirty.stdout)).toEqual(['d/extra.txt: only in the second root', 'same-size.txt: contents differ', '2 differences']);

    const status = p.run('status', '--one-way', p.a, B);
    expect(status.code, said(status)).toBe(0);
    // pending: the copy back, the delete, and d's mtime (changed by the file planted in it)
    expect(lines(status.stdout)).toEqual([expect.stringMatching(/^last sync: \S+ \(one-way, exit 0, 2 copied, 0 deleted\)$/), `pending: 3 changes towards ${B}`, 'open conflicts: 0']);

    const again = p.run('sync', '--one-way', p.a, B);
    expect(again.code, said(again)).toBe(0);
    expect(p.run('check', '--one-way', p.a, B)).toMatchObject({ code: 0, stdout: 'identical\n' });
    expect(readFileSync(join(p.b, 'same-size.txt'), 'utf8')).toBe('version one\n');
  }, 240_000);

  it('check and status with A remote (ssh:// form, TSYNC_SSH instead of --ssh)', () => {
    const p = fresh();
    writeFileSync(join(p.a, 'f.txt'), 'from A');
    const A = `ssh://127.0.0.1:${sshd.port}${p.a}`;
    const viaEnv = (...args: string[]): CliResult => runCli([...args], { env: { TSYNC_SSH: sshd.sshCommandNoPort }, timeoutMs: 90_000 });
    const pending = viaEnv('status', '--state-dir', p.state, A, p.b);
    expect(pending.code, said(pending)).toBe(0);
    expect(lines(pending.stdout)).toEqual(['last sync: never', `pending: 1 change towards ${p.b}, 0 towards ${A}`, 'open conflicts: 0']);
    const differs = viaEnv('check', '--state-dir', p.state, A, p.b);
    expect(differs.code, said(differs)).toBe(1);
    expect(lines(differs.stdout)).toEqual(['f.txt: only in the first root', '1 difference']);

    expect(viaEnv('sync', '--state-dir', p.state, A, p.b).code).toBe(0);
    const same = viaEnv('check', '--state-dir', p.state, A, p.b);
    expect(same.code, said(same)).toBe(0);
    expect(readFileSync(join(p.b, 'f.txt'), 'utf8')).toBe('from A');
  }, 240_000);

  it('--dry-run with B remote prints the plan and changes nothing there; log lists the real runs only', () => {
    const p = fresh();
    writeFileSync(join(p.a, 'keep.txt'), 'k');
    const B = p.remote(p.b);
    expect(p.run('sync', '--one-way', p.a, B).code).toBe(0);
    writeFileSync(join(p.a, 'new.txt'), 'n');
    writeFileSync(join(p.b, 'stray.txt'), 's');

    const dry = p.run('sync', '--one-way', '--dry-run', p.a, B);
    expect(dry.code, said(dry)).toBe(0);
    expect(lines(dry.stdout)).toEqual(expect.arrayContaining(['+ new.txt', '- stray.txt']));
    expect(() => readFileSync(join(p.b, 'new.txt'))).toThrow();
    expect(readFileSync(join(p.b, 'stray.txt'), 'utf8')).toBe('s');

    const log = p.run('log', '--one-way', p.a, B);
    expect(log.code, said(log)).toBe(0);
    const rows = lines(log.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/ sync +one-way +copied 1 +deleted 0 .* exit 0$/);
  }, 240_000);

  it('conflicts with B remote: an open conflict recorded by a sync is listed from the index the remote identity keys', () => {
    const p = fresh();
    writeFileSync(join(p.a, 'c.txt'), 'base');
    const B = p.remote(p.b);
    expect(p.run('sync', p.a, B).code).toBe(0);
    writeFileSync(join(p.a, 'c.txt'), 'edited in A');
    writeFileSync(join(p.b, 'c.txt'), 'edited in B, longer');
    const skipped = p.run('sync', '--conflict', 'skip', p.a, B);
    expect(skipped.code, said(skipped)).toBe(3);

    const listed = p.run('conflicts', p.a, B);
    expect(listed.code, said(listed)).toBe(0);
    expect(lines(listed.stdout)).toEqual([expect.stringMatching(/^\S+ {2}c\.txt {2}OPEN \(skipped\) {2}\[policy skip\]$/)]);
    // the same directory named as a local path is another pair (another identity): its index holds nothing
    expect(lines(p.run('conflicts', p.a, p.b).stdout)).toEqual(['no conflicts recorded']);
    const missing = p.run('conflicts', p.a, p.remote(join(p.b, 'nope')));
    expect(missing.code, said(missing)).toBe(2);
    expect(lines(missing.stderr)).toEqual([`tsync: error: second root ${p.remote(join(p.b, 'nope'))} does not exist`]);
  }, 240_000);

  it('plan and apply with B remote: apply reaches the root as given; a root that is now another directory is refused (exit 2)', () => {
    const p = fresh();
    writeFileSync(join(p.a, 'f.txt'), 'planned');
    // B is reached through a symlink, so that the same text can later name another directory
    const b2 = join(p.a, '..', 'B2');
    mkdirSync(b2);
    const link = join(p.a, '..', 'B-link');
    symlinkSync(p.b, link);
    const B = p.remote(link);
    const planFile = join(p.state, '..', 'plan.json');
    const planned = p.run('plan', '--one-way', p.a, B, '-o', planFile);
    expect(planned.code, said(planned)).toBe(0);
    const doc = JSON.parse(readFileSync(planFile, 'utf8')) as { roots: { left: string; right: { remote: string; identity: string } } };
    expect(doc.roots.right.remote).toBe(B);
    expect(Buffer.from(doc.roots.right.identity, 'base64').toString()).toMatch(new RegExp(`^ssh://[^/]+${p.b}$`));
    expect(Buffer.from(doc.roots.left, 'base64').toString()).toBe(p.a);

    const applied = p.run('apply', planFile);
    expect(applied.code, said(applied)).toBe(0);
    expect(readFileSync(join(p.b, 'f.txt'), 'utf8')).toBe('planned');

    writeFileSync(join(p.a, 'g.txt'), 'second plan');
    expect(p.run('plan', '--one-way', p.a, B, '-o', planFile).code).toBe(0);
    rmSync(link);
    symlinkSync(b2, link);
    const refused = p.run('apply', planFile);
    expect(refused.code, said(refused)).toBe(2);
    expect(lines(refused.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^tsync: error: .*plan\\.json: ${B} is not the root the plan was made for \\(planned ssh://\\S+${p.b}, now ssh://\\S+${b2}\\); make a new plan$`)),
    ]);
    expect(() => readFileSync(join(b2, 'g.txt'))).toThrow();
    expect(() => readFileSync(join(p.b, 'g.txt'))).toThrow();
  }, 240_000);

  it('trash and restore on a remote root: lists what a sync trashed there, puts it back, and keeps what it replaces', () => {
    const p = fresh();
    writeFileSync(join(p.a, 'doc.txt'), 'old text');
    const B = p.remote(p.b);
    expect(p.run('sync', '--one-way', p.a, B).code).toBe(0);
    writeFileSync(join(p.a, 'doc.txt'), 'new text');
    expect(p.run('sync', '--one-way', p.a, B).code).toBe(0);
    expect(readFileSync(join(p.b, 'doc.txt'), 'utf8')).toBe('new text');

    const listed = p.run('trash', B);
    expect(listed.code, said(listed)).toBe(0);
    expect(lines(listed.stdout)).toEqual([expect.stringMatching(/^\d{4}-\S+Z {2}doc\.txt$/)]);

    const restored = p.run('restore', B, 'doc.txt');
    expect(restored.code, said(restored)).toBe(0);
    expect(lines(restored.stdout)).toEqual([expect.stringMatching(/^restored doc\.txt as trashed at \S+Z$/)]);
    expect(readFileSync(join(p.b, 'doc.txt'), 'utf8')).toBe('old text');
    // what stood there went to the trash: the trash now holds the version just replaced, not the restored one
    const after = p.run('trash', '--json', B);
    const entries = lines(after.stdout).map((l) => JSON.parse(l) as { path: string; stored: string });
    expect(entries.map((e) => e.path)).toEqual(['doc.txt']);
    expect(readFileSync(join(p.b, entries[0]?.stored ?? 'missing'), 'utf8')).toBe('new text');

    const none = p.run('restore', B, 'never.txt');
    expect(none.code, said(none)).toBe(2);
    expect(lines(none.stderr)).toEqual([`tsync: error: restore: the trash of ${B} holds no version of never.txt`]);
    const gone = p.run('trash', p.remote(join(p.b, 'nope')));
    expect(gone.code, said(gone)).toBe(2);
  }, 240_000);
});
