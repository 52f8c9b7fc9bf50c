// The command line: bad input is one line on stderr with exit 2 and touches nothing;
// help and version.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, projectRoot, runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, put, snapshotTree } from '../helpers/tree.js';

interface BadInput {
  readonly name: string;
  /** The argv after `tsync`, given the sandbox (SRC holds file.txt, DST exists and holds only-in-dst.txt). */
  readonly args: (sb: Sandbox) => string[];
  readonly stderr: RegExp;
  /** Paths that must still not exist afterwards. */
  readonly absent?: (sb: Sandbox) => string[];
}

const syncArgs = (sb: Sandbox, ...rest: string[]): string[] => ['sync', '--one-way', '--state-dir', sb.state, ...rest];

const BAD_INPUTS: readonly BadInput[] = [
  {
    name: 'missing source',
    args: (sb) => syncArgs(sb, join(sb.dir, 'nope'), sb.dst),
    stderr: /^tsync: error: source \S+\/nope does not exist$/,
  },
  {
    name: 'missing source, missing destination (not created)',
    args: (sb) => syncArgs(sb, join(sb.dir, 'nope'), join(sb.dir, 'new-dst')),
    stderr: /^tsync: error: source \S+\/nope does not exist$/,
    absent: (sb) => [join(sb.dir, 'new-dst'), sb.state],
  },
  {
    name: 'source is a file',
    args: (sb) => syncArgs(sb, join(sb.src, 'file.txt'), sb.dst),
    stderr: /^tsync: error: source \S+\/file\.txt is not a directory$/,
  },
  {
    name: 'destination is a file',
    args: (sb) => syncArgs(sb, sb.src, join(sb.dst, 'only-in-dst.txt')),
    stderr: /^tsync: error: destination \S+\/only-in-dst\.txt is not a directory$/,
  },
  {
    name: 'destination below a file',
    args: (sb) => syncArgs(sb, sb.src, join(sb.dst, 'only-in-dst.txt', 'sub')),
    stderr: /^tsync: error: destination \S+ is not a directory/,
  },
  {
    name: 'same directory twice',
    args: (sb) => syncArgs(sb, sb.dst, sb.dst),
    stderr: /^tsync: error: source and destination are the same directory/,
  },
  {
    name: 'same directory twice, once through a symlink',
    args: (sb) => {
      symlinkSync(sb.dst, join(sb.dir, 'alias'));
      return syncArgs(sb, join(sb.dir, 'alias'), sb.dst);
    },
    stderr: /^tsync: error: source and destination are the same directory/,
  },
  {
    name: 'DST inside SRC',
    args: (sb) => syncArgs(sb, sb.src, join(sb.src, 'inner')),
    stderr: /^tsync: error: destination \S+\/inner is inside source /,
    absent: (sb) => [join(sb.src, 'inner')],
  },
  {
    name: 'SRC inside DST',
    args: (sb) => {
      put(sb.dst, 'sub/file.txt', 'a source inside the destination\n');
      return syncArgs(sb, join(sb.dst, 'sub'), sb.dst);
    },
    stderr: /^tsync: error: source \S+\/sub is inside destination /,
  },
  {
    name: 'unknown option',
    args: (sb) => syncArgs(sb, '--bogus', sb.src, sb.dst),
    stderr: /^tsync: error: unknown option '--bogus' \(see tsync --help\)$/,
  },
  {
    name: 'missing argument',
    args: (sb) => syncArgs(sb, sb.src),
    stderr: /^tsync: error: missing required argument 'dst' \(or a --profile that names it\)$/,
  },
  {
    name: 'sync without arguments',
    args: (sb) => ['sync', '--state-dir', sb.state],
    stderr: /^tsync: error: missing required argument 'src' \(or a --profile that names it\)$/,
  },
  {
    name: 'two-way into a directory that does not exist: refused, with what to do',
    args: (sb) => ['sync', '--state-dir', sb.state, sb.src, join(sb.dir, 'new-b')],
    stderr: /^tsync: error: \S+\/new-b does not exist; create it first \(mkdir -p \S+\/new-b\) if this is the first sync$/,
    absent: (sb) => [join(sb.dir, 'new-b')],
  },
  {
    name: 'two-way into a missing directory whose name needs quoting',
    args: (sb) => ['sync', '--state-dir', sb.state, join(sb.dir, "it's new"), sb.dst],
    stderr: /^tsync: error: \S+\/it's new does not exist; create it first \(mkdir -p '\S+\/it'\\''s new'\) if this is the first sync$/,
    absent: (sb) => [join(sb.dir, "it's new")],
  },
  {
    name: 'bad --max-delete (not a number)',
    args: (sb) => syncArgs(sb, '--max-delete', 'lots', sb.src, sb.dst),
    stderr: /^tsync: error: --max-delete lots: expected a number of files \(e\.g\. 100\) or a share \(e\.g\. 10%\)$/,
  },
  {
    name: 'bad --max-delete (over 100%)',
    args: (sb) => syncArgs(sb, '--max-delete', '150%', sb.src, sb.dst),
    stderr: /^tsync: error: --max-delete 150%: a share must be between 0% and 100%$/,
  },
  {
    name: 'bad --max-delete (negative)',
    args: (sb) => syncArgs(sb, '--max-delete=-5', sb.src, sb.dst),
    stderr: /^tsync: error: --max-delete -5: /,
  },
  {
    name: 'bad --concurrency',
    args: (sb) => syncArgs(sb, '--concurrency', '0', sb.src, sb.dst),
    stderr: /^tsync: error: --concurrency 0: /,
  },
  {
    name: 'bad --conflict',
    args: (sb) => syncArgs(sb, '--conflict', 'whatever', sb.src, sb.dst),
    stderr: /^tsync: error: option '--conflict <policy>' argument 'whatever' is invalid/,
  },
  {
    name: 'state dir is a file',
    args: (sb) => ['sync', '--one-way', '--state-dir', join(sb.src, 'file.txt'), sb.src, sb.dst],
    stderr: /^tsync: error: cannot create the state directory \S+\/file\.txt \(EEXIST\); choose another with --state-dir or \$TSYNC_STATE_DIR$/,
  },
];

describe('bad input', () => {
  for (const c of BAD_INPUTS) {
    it(`${c.name}: exit 2, one line on stderr, nothing touched`, () => {
      const sb = sandbox();
      put(sb.src, 'file.txt', 'in SRC\n');
      // DST exists and differs from SRC: any run that went ahead would change it.
      put(sb.dst, 'only-in-dst.txt', 'in DST\n');
      const args = c.args(sb);
      const srcBefore = snapshotTree(sb.src);
      const dstBefore = snapshotTree(sb.dst);

      const r = runCli(args);

      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const errLines = lines(r.stderr);
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(c.stderr);
      expect(compareTrees(srcBefore, snapshotTree(sb.src), { identity: true })).toEqual([]);
      expect(compareTrees(dstBefore, snapshotTree(sb.dst), { identity: true })).toEqual([]);
      for (const p of c.absent?.(sb) ?? []) expect(existsSync(p), `${p} must not exist`).toBe(false);
    });
  }
});

describe('help and version', () => {
  const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

  it('tsync --help lists the sync command and the exit codes', () => {
    const r = runCli(['--help']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: tsync /);
    expect(r.stdout).toMatch(/^\s+sync \[options\] \[src\] \[dst\]/m);
    expect(r.stdout).toContain('Exit codes:');
    for (const code of [0, 1, 2, 3, 4, 5, 6]) expect(r.stdout).toMatch(new RegExp(`^\\s+${code}  \\S`, 'm'));
  });

  it('tsync without arguments: the usage on stderr, exit 2 (a usage error, as git and rsync do)', () => {
    const r = runCli([]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^Usage: tsync /);
    expect(r.stderr).toMatch(/^\s+sync \[options\] \[src\] \[dst\]/m);
  });

  it('tsync sync --help shows the options, examples and exit codes', () => {
    const r = runCli(['sync', '--help']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: tsync sync \[options\] \[src\] \[dst\]/);
    for (const opt of ['--one-way', '--state-dir', '--checksum', '-n, --dry-run', '--force', '--max-delete']) expect(r.stdout).toContain(opt);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toMatch(/^\s+tsync sync --one-way \S+ \S+/m);
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toMatch(/^\s+4 {2}a safety guard halted the run/m);
  });

  it('tsync help sync is the same as tsync sync --help', () => {
    expect(runCli(['help', 'sync']).stdout).toBe(runCli(['sync', '--help']).stdout);
  });

  for (const flag of ['--version', '-V']) {
    it(`tsync ${flag} prints package.json's version`, () => {
      const r = runCli([flag]);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    });
  }

  it('runs from any working directory (bin resolves dist/ and package.json itself)', () => {
    const sb = sandbox();
    mkdirSync(join(sb.dir, 'cwd'));
    writeFileSync(join(sb.dir, 'cwd', 'package.json'), '{"version":"9.9.9-wrong"}');
    const r = runCli(['--version'], { cwd: join(sb.dir, 'cwd') });
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
