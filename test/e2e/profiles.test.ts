// Named profiles in a config file, overridden by flags and TSYNC_* variables; bad config is exit 2.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';
import { compareTrees, snapshotTree } from '../helpers/tree.js';

describe('config profiles', () => {
  it('takes roots and options from a profile; flags and TSYNC_* variables win over it', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'keep.txt'), 'k\n');
    writeFileSync(join(sb.src, 'noise.log'), 'n\n');
    const config = join(sb.dir, 'tsync.config.json');
    writeFileSync(config, JSON.stringify({ profiles: { backup: { source: sb.src, destination: sb.dst, oneWay: true, exclude: ['*.log'], stateDir: sb.state } } }));
    const r = runCli(['sync', '--profile', 'backup'], { cwd: sb.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(sb.dst, 'keep.txt'))).toBe(true);
    expect(existsSync(join(sb.dst, 'noise.log'))).toBe(false);
    // a flag on the command line replaces the profile's excludes
    const r2 = runCli(['sync', '--exclude', 'nothing-matches'], { cwd: sb.dir, env: { TSYNC_PROFILE: 'backup' } });
    expect(r2.code, r2.stderr).toBe(0);
    expect(existsSync(join(sb.dst, 'noise.log'))).toBe(true);
  });

  const KNOWN = 'source|destination|oneWay|conflict|stateDir|checksum|force|maxDelete|concurrency|exclude|include|trash|trashKeep|fsync|flushNow|quiet';
  // Each line is exact: the file, the key path, what was expected, what was found.
  it.each([
    ['an unknown profile', { profiles: { other: {} } }, 'profiles.backup: no such profile (profiles: other)'],
    ['a wrong type', { profiles: { backup: { oneWay: 'yes' } } }, 'profiles.backup.oneWay: expected true or false, found "yes"'],
    ['an unknown key', { profiles: { backup: { sorce: 'x' } } }, `profiles.backup.sorce: expected a known key (${KNOWN}), found "sorce"`],
    ['a bad policy', { profiles: { backup: { conflict: 'maybe' } } }, 'profiles.backup.conflict: expected one of keep-both|newer|left|right|skip, found "maybe"'],
    ['a missing "profiles"', { profile: { backup: {} } }, 'profiles: missing'],
    ['a profile that is not an object', { profiles: { backup: ['x'] } }, 'profiles.backup: expected an object, found a list'],
    ['a bad list item', { profiles: { backup: { exclude: ['*.log', 3] } } }, 'profiles.backup.exclude[1]: expected a string, found 3'],
    ['an empty root', { profiles: { backup: { source: '' } } }, 'profiles.backup.source: expected a non-empty string, found ""'],
    [
      'a delete limit the flag would refuse',
      { profiles: { backup: { maxDelete: '150%' } } },
      'profiles.backup.maxDelete: expected a number of files (e.g. 100) or a share (e.g. 10%), at most 100%, found "150%"',
    ],
    ['a concurrency out of range, as a number', { profiles: { backup: { concurrency: 0 } } }, 'profiles.backup.concurrency: expected a whole number from 1 to 256, found 0'],
    ['a mistake in another profile', { profiles: { backup: {}, other: { trash: 1 } } }, 'profiles.other.trash: expected true or false, found 1'],
    ['a file that is not an object', [], 'expected an object, found a list'],
  ])('%s is a one-line error naming the file and key, exit 2, and no tree changes', (_name, doc, message) => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a.txt'), 'a\n');
    mkdirSync(join(sb.dir, 'cfg'));
    const config = join(sb.dir, 'cfg', 'c.json');
    writeFileSync(config, JSON.stringify(doc));
    const before = snapshotTree(sb.dir);
    const r = runCli(['sync', '--config', config, '--profile', 'backup', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tsync: error: ${config}: ${message}\n`);
    expect(compareTrees(before, snapshotTree(sb.dir), { identity: true })).toEqual([]);
  });

  it('a config file that is not JSON names the file', () => {
    const sb = sandbox();
    const config = join(sb.dir, 'tsync.config.json');
    writeFileSync(config, '{ "profiles": { ');
    const r = runCli(['sync', '--profile', 'backup', '--state-dir', sb.state, sb.src, sb.dst], { cwd: sb.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.startsWith(`tsync: error: ${config}: not valid JSON (`)).toBe(true);
    expect(existsSync(sb.dst)).toBe(false);
  });

  it('keys beside "profiles" are left alone, as before', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a.txt'), 'a\n');
    const config = join(sb.dir, 'c.json');
    writeFileSync(
      config,
      JSON.stringify({ $schema: 'https://example.invalid/tsync.json', profiles: { backup: { source: sb.src, destination: sb.dst, oneWay: true, maxDelete: 10, trashKeep: 14 } } }),
    );
    const r = runCli(['sync', '--config', config, '--profile', 'backup', '--state-dir', sb.state]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(sb.dst, 'a.txt'))).toBe(true);
  });

  it('a bad TSYNC_CONFLICT is rejected like the flag', () => {
    const sb = sandbox();
    const r = runCli(['sync', sb.src, sb.dst], { env: { TSYNC_CONFLICT: 'sometimes' } });
    expect(r.code).toBe(2);
  });
});
