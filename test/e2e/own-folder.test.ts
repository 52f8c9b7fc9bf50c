// `<root>/.tsync/` (the trash) is tsync's own: git, backup tools and `tar --exclude-caches` leave it
// alone (a .gitignore of `*` and a CACHEDIR.TAG in it), and neither mark is ever synced or counted.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runCli, sandbox } from '../helpers/cli.js';
import { put } from '../helpers/tree.js';

function run(file: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(file, args, { cwd, encoding: 'utf8' });
  expect(r.status, `${file} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('the .tsync folder in a root', () => {
  it('after a sync that trashes something: git status shows nothing of it, tar --exclude-caches skips the trash, the marks stay on their side', () => {
    const sb = sandbox();
    put(sb.src, 'notes.txt', 'first version\n');
    put(sb.dst, 'notes.txt', 'first version\n');
    run('git', ['init', '-q'], sb.dst);
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', 'notes.txt'], sb.dst);
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'notes'], sb.dst);
    const twoWay = (...extra: string[]): ReturnType<typeof runCli> => runCli(['sync', '--state-dir', sb.state, '--exclude', '.git', ...extra, sb.src, sb.dst]);
    expect(twoWay().code).toBe(0);
    put(sb.src, 'notes.txt', 'second version, edited in src\n');

    const r = twoWay();

    expect(r.code, r.stderr).toBe(0);
    // the first version was kept in dst's trash: that is what must not show up anywhere
    expect(readFileSync(join(sb.dst, 'notes.txt'), 'utf8')).toBe('second version, edited in src\n');
    expect(existsSync(join(sb.dst, '.tsync', 'trash'))).toBe(true);
    expect(lines(run('git', ['status', '--porcelain', '--untracked-files=all'], sb.dst))).toEqual([' M notes.txt']);
    const archived = lines(run('sh', ['-c', 'tar -cf - --exclude-caches . | tar -tf -'], sb.dst));
    expect(archived.filter((n) => n.includes('.tsync/trash'))).toEqual([]);
    expect(archived).toContain('./notes.txt');
    expect(readFileSync(join(sb.dst, '.tsync', 'CACHEDIR.TAG'), 'utf8')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);
    // the marks are dst's own: never copied to src, never a change
    expect(existsSync(join(sb.src, '.tsync'))).toBe(false);
    const again = twoWay('--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(lines(again.stdout).pop() ?? '{}')).toMatchObject({ type: 'summary', counts: { copy: 0, delete: 0, mkdir: 0, meta: 0, conflict: 0 } });
    expect(existsSync(join(sb.src, '.tsync'))).toBe(false);
  });

  it('keeps every version a run deletes or replaces in folders made ahead of it, the tree mirrored under the stamp (TSYNC_TIMINGS shows the job)', () => {
    const sb = sandbox();
    for (let d = 0; d < 12; d++) {
      put(sb.src, `d${d}/deep/gone.txt`, `gone ${d}\n`);
      put(sb.src, `d${d}/changed.txt`, `old ${d}\n`);
    }
    expect(sb.sync().code).toBe(0);
    for (let d = 0; d < 12; d++) {
      rmSync(join(sb.src, `d${d}/deep/gone.txt`));
      put(sb.src, `d${d}/changed.txt`, `new ${d}, longer\n`);
    }

    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env: { TSYNC_TIMINGS: '1' } });

    expect(r.code, r.stderr).toBe(0);
    // twelve folders for the deletes (d*/deep), twelve for the replaced files (d*); without /proc (project
    // no-proc) no descriptors are held, and every folder is made where it is needed
    const ahead = 'tsync timing: trash folders made ahead: 24 queued';
    if (process.env.TSYNC_NO_PROC === '1') expect(r.stderr).not.toContain(ahead);
    else expect(r.stderr).toContain(ahead);
    const [stamp, ...more] = readdirSync(join(sb.dst, '.tsync', 'trash'));
    expect(more).toEqual([]);
    for (let d = 0; d < 12; d++) {
      expect(readFileSync(join(sb.dst, '.tsync', 'trash', stamp as string, `d${d}/deep/gone.txt`), 'utf8')).toBe(`gone ${d}\n`);
      expect(readFileSync(join(sb.dst, '.tsync', 'trash', stamp as string, `d${d}/changed.txt`), 'utf8')).toBe(`old ${d}\n`);
      expect(readFileSync(join(sb.dst, `d${d}/changed.txt`), 'utf8')).toBe(`new ${d}, longer\n`);
    }
  });
});
