// Operations details through the built CLI: trash retention, restore --at, --quiet, and the conflicts
// listing after a last-write-wins resolution.
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';

const T0 = Math.floor(Date.now() / 1000) - 86_400;

describe('operations', () => {
  it('--trash-keep prunes trash folders older than the retention at the start of a run', () => {
    const sb = sandbox();
    for (let i = 0; i < 4; i++) writeFileSync(join(sb.src, `f${i}`), `${i}\n`);
    expect(sb.sync().code).toBe(0);
    const old = join(sb.dst, '.tsync', 'trash', '2020-01-01T00-00-00.000Z');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'ancient.txt'), 'old\n');
    writeFileSync(join(sb.src, 'f0'), 'changed\n');
    expect(sb.sync('--trash-keep', '30').code).toBe(0);
    const stamps = readdirSync(join(sb.dst, '.tsync', 'trash'));
    expect(stamps).not.toContain('2020-01-01T00-00-00.000Z');
    expect(stamps).toHaveLength(1); // this run's, holding the old f0
  });

  it('restore --at picks the newest version trashed at or before that time', async () => {
    const sb = sandbox();
    for (let i = 0; i < 4; i++) writeFileSync(join(sb.src, `keep${i}`), `${i}\n`);
    writeFileSync(join(sb.src, 'doc.txt'), 'version 1\n');
    expect(sb.sync().code).toBe(0);
    writeFileSync(join(sb.src, 'doc.txt'), 'version 2\n');
    expect(sb.sync().code).toBe(0); // version 1 goes to the trash
    await new Promise((r) => setTimeout(r, 10));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 10)); // the next run's trash folder is later than `between`
    writeFileSync(join(sb.src, 'doc.txt'), 'version 3\n');
    expect(sb.sync().code).toBe(0); // version 2 goes to the trash
    const r = runCli(['restore', sb.dst, 'doc.txt', '--at', between]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'doc.txt'), 'utf8')).toBe('version 1\n');
    const none = runCli(['restore', sb.dst, 'doc.txt', '--at', '2000-01-01T00:00:00Z']);
    expect(none.code).toBe(2);
  });

  it('--quiet prints nothing on success', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a'), 'a\n');
    const r = sb.sync('--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('conflicts lists a newest-wins resolution whose loser went to the trash', () => {
    const sb = sandbox();
    mkdirSync(sb.dst);
    for (let i = 0; i < 4; i++) writeFileSync(join(sb.src, `keep${i}`), `${i}\n`);
    writeFileSync(join(sb.src, 'doc.txt'), 'v0\n');
    const two = (...extra: string[]): ReturnType<typeof runCli> => runCli(['sync', '--state-dir', sb.state, ...extra, sb.src, sb.dst]);
    expect(two().code).toBe(0);
    writeFileSync(join(sb.src, 'doc.txt'), 'from A\n');
    utimesSync(join(sb.src, 'doc.txt'), T0, T0);
    writeFileSync(join(sb.dst, 'doc.txt'), 'from B, newer\n');
    utimesSync(join(sb.dst, 'doc.txt'), T0 + 60, T0 + 60);
    expect(two('--conflict', 'newer').code).toBe(0);
    const listed = runCli(['conflicts', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(listed.stdout).toMatch(/doc\.txt .*second root's version keeps the name, the other went to the trash/);
  });
});
