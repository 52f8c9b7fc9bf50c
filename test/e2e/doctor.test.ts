// `tsync doctor [A B]`, run as the built CLI on real temp trees: one line per check, --json, exit 1 on a fail,
// and nothing left behind in the roots or the state dir. The verdicts' thresholds are unit-tested in
// test/unit/doctor-verdicts.test.ts; here the real machine's numbers must reach them.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { lines, makeTempDir, removeTempDir, runCli, type RunOptions } from '../helpers/cli.js';
import { handOver, unprivileged } from '../helpers/unprivileged.js';

interface Check {
  readonly check: string;
  readonly subject: string | null;
  readonly verdict: 'ok' | 'warn' | 'fail';
  readonly message: string;
  readonly fix: string | null;
}

interface Setup {
  readonly dir: string;
  readonly a: string;
  readonly b: string;
  readonly state: string;
}

function setup(): Setup {
  const dir = makeTempDir('tsync-doctor-');
  onTestFinished(() => removeTempDir(dir));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  mkdirSync(join(a, 'sub', 'deeper'), { recursive: true });
  mkdirSync(b);
  writeFileSync(join(a, 'f.txt'), 'one\n');
  writeFileSync(join(a, 'sub', 'g.txt'), 'two\n');
  return { dir, a, b, state: join(dir, 'state') };
}

/** Every name below `dir`, recursively: what a probe left behind would show up in. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function doctorJson(args: readonly string[], opts?: RunOptions): { code: number | null; checks: Check[]; stderr: string } {
  const r = runCli(['doctor', '--json', ...args], opts);
  return { code: r.code, checks: lines(r.stdout).map((l) => JSON.parse(l) as Check), stderr: r.stderr };
}

const find = (checks: readonly Check[], check: string, subject?: string): Check | undefined => checks.find((c) => c.check === check && (subject === undefined || c.subject === subject));
const onLinux = process.platform === 'linux';

describe('tsync doctor A B', () => {
  it('on two healthy roots: every check reports, none fails, exit 0, and the roots and the state dir are as before', () => {
    const s = setup();
    expect(runCli(['sync', '--state-dir', s.state, s.a, s.b]).code).toBe(0);
    const before = { a: listing(s.a), b: listing(s.b), state: listing(s.state) };

    const text = runCli(['doctor', '--state-dir', s.state, s.a, s.b]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    const heads = lines(text.stdout).filter((l) => !l.startsWith('     fix: '));
    for (const l of heads) expect(l).toMatch(/^(ok {3}|warn )\S/);
    for (const name of ['root', 'inotify', 'ctime', 'case', 'hardlink', 'sparse', 'xattr', 'filesystems', 'state-dir', 'state-space', 'index']) {
      expect(
        heads.some((l) => l.split(' ').filter(Boolean)[1]?.replace(/:$/, '') === name),
        `a line for ${name}`,
      ).toBe(true);
    }

    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b]);
    expect(code).toBe(0);
    for (const root of [s.a, s.b]) {
      expect(find(checks, 'root', root)?.verdict).toBe('ok');
      expect(find(checks, 'hardlink', root)?.verdict).toBe('ok');
      expect(find(checks, 'ctime', root)?.verdict).toBe('ok');
    }
    if (onLinux) {
      // tmp dirs on Linux file systems are case-sensitive (macOS APFS is not, by default); after the sync each root has 3 directories
      expect(find(checks, 'case', s.a)?.message).toBe('case-sensitive');
      expect(find(checks, 'inotify')?.message).toMatch(/^6 directories under the roots need 6 watches; .*limits: \d+ watches, \d+ instances per user$/);
    }
    // GitHub's macOS runners use APFS as it ships: case-insensitive. Linux has no such file system without root (mount).
    if (process.platform === 'darwin') expect(find(checks, 'case', s.a)).toMatchObject({ verdict: 'warn', message: expect.stringMatching(/^case-insensitive: /) });
    expect(find(checks, 'filesystems')?.message).toMatch(/^both roots are on one file system/);
    expect(find(checks, 'state-dir')?.message).toBe('writable');
    expect(find(checks, 'index')?.message).toMatch(/^[\d.]+ (bytes|KiB|MiB), 4 paths; last successful run \d+ seconds? ago$/);

    expect({ a: listing(s.a), b: listing(s.b), state: listing(s.state) }).toEqual(before);
  });

  it('a pair never synced: the state dir that does not exist yet is fine, and doctor does not create it', () => {
    const s = setup();
    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b]);
    expect(code).toBe(0);
    expect(find(checks, 'state-dir')?.message).toMatch(/^does not exist yet; .* is writable, so the first sync creates it$/);
    expect(find(checks, 'index')?.message).toBe('no index yet: this pair has not been synced');
    expect(readdirSync(s.dir).sort()).toEqual(['a', 'b']);
  });

  it('a missing root is a fail line (with what to do), the other root is still checked, exit 1, no stack trace', () => {
    const s = setup();
    const gone = join(s.dir, 'unmounted');
    const r = runCli(['doctor', '--state-dir', s.state, s.a, gone]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`fail root ${gone}: does not exist (an unmounted disk?)\n     fix: mount it, or create it (mkdir -p) if this is the first sync`);
    const { checks } = doctorJson(['--state-dir', s.state, s.a, gone]);
    expect(find(checks, 'case', s.a)?.verdict).toBeDefined();
    expect(find(checks, 'filesystems')).toBeUndefined();
    expect(find(checks, 'index')).toBeUndefined();
  });

  it('a state dir path that is a file fails, exit 1', () => {
    const s = setup();
    writeFileSync(s.state, 'not a directory\n');
    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b]);
    expect(code).toBe(1);
    expect(find(checks, 'state-dir')).toMatchObject({ verdict: 'fail', message: `${s.state} is not a directory` });
    expect(find(checks, 'state-dir')?.fix).toMatch(/--state-dir/);
  });

  const { runAs, skipReason, suffix } = unprivileged();
  it.skipIf(skipReason !== null)(`a state dir we cannot write to fails, exit 1${suffix}`, () => {
    const s = setup();
    mkdirSync(s.state);
    handOver(s.dir);
    chmodSync(s.state, 0o500);
    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b], { asUser: runAs, cwd: s.dir });
    expect(code).toBe(1);
    expect(find(checks, 'state-dir')).toMatchObject({ verdict: 'fail', message: `not writable: cannot create a file in ${s.state} (EACCES)` });
    expect(listing(s.state)).toEqual([]);
  });

  it.skipIf(skipReason !== null)(`a root we cannot write to (a read-only one-way source) warns that its features go unchecked, exit 0${suffix}`, () => {
    const s = setup();
    handOver(s.dir);
    chmodSync(s.a, 0o555);
    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b], { asUser: runAs, cwd: s.dir });
    expect(code).toBe(0);
    expect(find(checks, 'features', s.a)).toMatchObject({ verdict: 'warn', message: expect.stringMatching(/^cannot create a probe directory in it \(EACCES\)/) });
    expect(find(checks, 'case', s.a)).toBeUndefined();
    expect(find(checks, 'case', s.b)?.verdict).toBeDefined();
  });

  it('reads the index without the pair lock and without writing to it: works while another tsync holds the lock', () => {
    const s = setup();
    expect(runCli(['sync', '--state-dir', s.state, s.a, s.b]).code).toBe(0);
    const lockFile = readdirSync(s.state).find((n) => n.endsWith('.lock')) ?? '';
    const dbFile = join(s.state, lockFile.replace(/\.lock$/, '.db'));
    const digest = (): string => createHash('sha256').update(readFileSync(dbFile)).digest('hex');
    const before = digest();
    // the lock as tsync takes it (src/store/lock.ts): an exclusive transaction on the lock file, held by this process
    const lock = new Database(join(s.state, lockFile), { timeout: 0 });
    onTestFinished(() => {
      lock.close();
    });
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    expect(runCli(['sync', '--state-dir', s.state, s.a, s.b]).code).toBe(5);

    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b]);
    expect(code).toBe(0);
    expect(find(checks, 'index')?.verdict).toBe('ok');
    expect(digest()).toBe(before);
  });

  it('a last run that left conflicts is a warning that says so', () => {
    const s = setup();
    expect(runCli(['sync', '--state-dir', s.state, s.a, s.b]).code).toBe(0);
    writeFileSync(join(s.a, 'f.txt'), 'edited in a\n');
    writeFileSync(join(s.b, 'f.txt'), 'edited in b, differently\n');
    expect(runCli(['sync', '--conflict', 'skip', '--state-dir', s.state, s.a, s.b]).code).toBe(3);
    const { code, checks } = doctorJson(['--state-dir', s.state, s.a, s.b]);
    expect(code).toBe(0);
    expect(find(checks, 'index')?.verdict).toBe('warn');
    expect(find(checks, 'index')?.message).toMatch(/the last run, \d+ seconds? ago, ended with exit 3 \(conflicts left unresolved\); last successful run \d+ seconds? ago$/);
  });

  it('one root alone is a usage error (exit 2)', () => {
    const s = setup();
    const r = runCli(['doctor', s.a]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tsync: error: doctor takes two roots or none (tsync doctor [A B])\n');
  });
});

describe('tsync doctor (no roots)', () => {
  it('checks the inotify limits and the state dir only', () => {
    const s = setup();
    const { code, checks } = doctorJson(['--state-dir', s.state]);
    expect(code).toBe(0);
    expect(checks.map((c) => c.check)).toEqual(['inotify', 'listing', 'state-dir', 'state-space']);
    // npm install built the native listing, and the CLI's bundle finds it (where /proc anchors paths: not in the no-proc project)
    if (onLinux && process.env.TSYNC_NO_PROC !== '1') expect(find(checks, 'listing')).toMatchObject({ verdict: 'ok', message: expect.stringMatching(/^native: /) });
    if (onLinux) expect(find(checks, 'inotify')?.message).toMatch(/^your processes hold \d+ watches in \d+ instances now; limits: \d+ watches, \d+ instances per user$/);
    expect(find(checks, 'state-space')?.message).toMatch(/ free of .* \(\d+\.\d%\)$/);
  });
});
