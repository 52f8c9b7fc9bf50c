// Issue 13 through the built CLI: in two-way sync the metadata of a path whose contents agree converges
// field by field. The two reproductions from the issue run as the shell scripts they are (with `tsync`
// the built CLI and HOME a scratch dir, so the state index lands there), then a further run must do nothing.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { binPath, makeTempDir, removeTempDir } from '../helpers/cli.js';

interface Shell {
  readonly dir: string;
  /** Runs a script in the sandbox; returns its stdout. */
  readonly sh: (script: string) => string;
}

function sandbox(): Shell {
  const dir = makeTempDir('tsync-meta-');
  onTestFinished(() => removeTempDir(dir));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, TSYNC_BIN: binPath, TSYNC_NODE: process.execPath };
  delete env.TSYNC_STATE_DIR;
  delete env.XDG_STATE_HOME;
  const prelude = 'set -e; tsync() { "$TSYNC_NODE" "$TSYNC_BIN" "$@"; }\n';
  const sh = (script: string): string => {
    const r = spawnSync('sh', ['-c', prelude + script], { cwd: dir, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`script failed (${r.status}): ${r.stderr}\n${script}`);
    return r.stdout;
  };
  return { dir, sh };
}

/** The run's NDJSON events: the actions it carried out and its summary counts. */
function jsonRun(sh: Shell['sh'], args: string): { actions: unknown[]; counts: Record<string, number> } {
  const events = sh(`tsync sync --json ${args}`)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; counts?: Record<string, number> });
  const summary = events.find((e) => e.type === 'summary');
  return { actions: events.filter((e) => e.type === 'action'), counts: summary?.counts ?? {} };
}

const NOTHING = { copy: 0, mkdir: 0, delete: 0, meta: 0, conflict: 0, link: 0 };

/** A further run, in either order of the roots, applies nothing. */
function expectQuiet(sh: Shell['sh']): void {
  for (const args of ['A B', 'B A']) {
    const r = jsonRun(sh, args);
    expect(r.actions, `sync ${args}`).toEqual([]);
    expect(r.counts, `sync ${args}`).toEqual(NOTHING);
  }
}

describe('two-way metadata convergence (issue 13)', () => {
  it('same content with different mtimes on each side: both take the newer mtime, and it stays', () => {
    const { sh } = sandbox();
    const out = sh(`mkdir A B; echo x > A/f; tsync sync A B
echo same > A/f; touch -d @1700000000 A/f
echo same > B/f; touch -d @1700000100 B/f
tsync sync A B; tsync sync A B; stat -c '%n %Y' A/f B/f`);
    expect(out.trim().split('\n').slice(-2)).toEqual(['A/f 1700000100', 'B/f 1700000100']);
    expect(sh(`stat -c '%a' A/f B/f`).trim().split('\n')).toEqual(['644', '644']);
    expectQuiet(sh);
  });

  it('a touch on one side and a chmod on the other: both changes reach both sides', () => {
    const { sh } = sandbox();
    const out = sh(`mkdir A B; echo c > A/f; touch -d @1690000000 A/f; tsync sync A B
touch -d @1700000500 A/f; chmod +x B/f
tsync sync A B; stat -c '%n %a %Y' A/f B/f`);
    expect(out.trim().split('\n').slice(-2)).toEqual(['A/f 755 1700000500', 'B/f 755 1700000500']);
    expectQuiet(sh);
  });

  it('a symlink touched with lutimes: its mtime reaches the other side, the link is not followed', () => {
    const { dir, sh } = sandbox();
    mkdirSync(join(dir, 'A'));
    mkdirSync(join(dir, 'B'));
    writeFileSync(join(dir, 'A', 't'), 'target\n');
    symlinkSync('t', join(dir, 'A', 'l'));
    sh('touch -d @1690000000 A/t; touch -h -d @1690000000 A/l; tsync sync A B');
    sh('touch -h -d @1700000700 B/l; tsync sync A B');
    expect(sh(`stat -c '%n %Y' A/l B/l A/t B/t`).trim().split('\n')).toEqual(['A/l 1700000700', 'B/l 1700000700', 'A/t 1690000000', 'B/t 1690000000']);
    expect(lstatSync(join(dir, 'A', 'l')).isSymbolicLink()).toBe(true);
    expectQuiet(sh);
  });

  it('a directory chmod on each side: the newer side’s mode on both, and it stays', () => {
    const { sh } = sandbox();
    sh(`mkdir -p A/d B; echo k > A/d/k; tsync sync A B
chmod 700 A/d; touch -d @1690000000 A/d
chmod 750 B/d; touch -d @1700000900 B/d
tsync sync A B`);
    expect(sh(`stat -c '%n %a' A/d B/d`).trim().split('\n')).toEqual(['A/d 750', 'B/d 750']);
    expectQuiet(sh);
  });
});
