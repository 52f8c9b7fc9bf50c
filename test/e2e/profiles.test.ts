// Named profiles in a config file, overridden by flags and TSYNC_* variables; bad config is exit 2.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';

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

  it.each([
    ['an unknown profile', { profiles: { other: {} } }, /no profile "backup" \(profiles: other\)/],
    ['an unknown key', { profiles: { backup: { sorce: 'x' } } }, /profile "backup": unknown key "sorce"/],
    ['a wrong type', { profiles: { backup: { oneWay: 'yes' } } }, /"oneWay" must be true or false/],
    ['a bad policy', { profiles: { backup: { conflict: 'maybe' } } }, /"conflict" must be one of keep-both/],
  ])('%s is a one-line error and exit 2', (_name, doc, message) => {
    const sb = sandbox();
    mkdirSync(join(sb.dir, 'cfg'));
    const config = join(sb.dir, 'cfg', 'c.json');
    writeFileSync(config, JSON.stringify(doc));
    const r = runCli(['sync', '--config', config, '--profile', 'backup', sb.src, sb.dst]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(sb.dst)).toBe(false);
  });

  it('a bad TSYNC_CONFLICT is rejected like the flag', () => {
    const sb = sandbox();
    const r = runCli(['sync', sb.src, sb.dst], { env: { TSYNC_CONFLICT: 'sometimes' } });
    expect(r.code).toBe(2);
  });
});
