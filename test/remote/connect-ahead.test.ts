// The CLI starts ssh for a remote root before the engine loads (cli/connect-ahead.ts, remote/preconnect.ts), and the
// run claims that connection when it opens the pair. Checked through a stand-in ssh that logs each time it is run and
// then runs the real agent (test/helpers/ssh-standin.sh): a run connects exactly once, and a run that fails before it
// opens the pair cancels the connection it started instead of leaving an agent behind.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { standinSsh } from '../helpers/remote-side.js';
import { put } from '../helpers/tree.js';
import { until } from '../helpers/wait.js';

interface Setup {
  readonly dir: string;
  readonly state: string;
  readonly ssh: string;
  readonly log: string;
  readonly env: Record<string, string>;
}

function setup(): Setup {
  const dir = makeTempDir('tsync-ahead-');
  onTestFinished(() => removeTempDir(dir));
  const log = join(dir, 'ssh-calls.log');
  const ssh = join(dir, 'logging-ssh');
  writeFileSync(ssh, `#!/bin/sh\necho call >>'${log}'\nexec '${standinSsh}' "$@"\n`);
  chmodSync(ssh, 0o755);
  // the bundle cache in the test's own dir: the agents this test starts can be told apart by it
  return { dir, state: join(dir, 'state'), ssh, log, env: { XDG_CACHE_HOME: join(dir, 'cache') } };
}

const calls = (s: Setup): number => {
  try {
    return readFileSync(s.log, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length;
  } catch {
    return 0;
  }
};

/** Processes whose command line names this test's bundle cache: its agents. */
function agentsOf(s: Setup): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(join(s.dir, 'cache')));
}

describe('the connection to a remote root, started before the engine loads', () => {
  it('is the one the run uses: one ssh per run', () => {
    const s = setup();
    const a = join(s.dir, 'a');
    const b = join(s.dir, 'b');
    mkdirSync(b);
    put(a, 'x.txt', 'x\n');
    for (let run = 1; run <= 2; run++) {
      const r = runCli(['sync', '--one-way', '--ssh', s.ssh, '--state-dir', s.state, a, `127.0.0.1:${b}`], { env: s.env, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(calls(s)).toBe(run);
    }
    expect(readFileSync(join(b, 'x.txt'), 'utf8')).toBe('x\n');
  });

  it('is cancelled when the run fails before it opens the pair: exit 2 for the missing source, no agent left running', async () => {
    const s = setup();
    const b = join(s.dir, 'b');
    mkdirSync(b);
    // a hang guard, not a timing: a run that waited on the connection it started ran until the agent gave up (45 s)
    const r = runCli(['sync', '--one-way', '--ssh', s.ssh, '--state-dir', s.state, join(s.dir, 'no-such-source'), `127.0.0.1:${b}`], { env: s.env, timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('no-such-source');
    // it was started (so the check below can see something to cancel), and nothing of it is left: the far side's
    // processes end once the connection's pipes close, a few milliseconds after the CLI (in CI, under load, one was
    // still there at the instant of a single look: a bundle install reading its stdin). They end so whether the run
    // cancelled the connection or merely exited (checked with the cancel switched off), so this holds the run to
    // leaving no agent behind, not to the cancel itself
    expect(calls(s)).toBe(1);
    await until(
      () => agentsOf(s).length === 0,
      5_000,
      () => `still running 5 s after the run: ${agentsOf(s).join('; ')}`,
    );
  });

  it('is not started for a usage error: exit 2 and no ssh at all', () => {
    const s = setup();
    const r = runCli(['sync', '--conflict', 'sideways', '--ssh', s.ssh, '--state-dir', s.state, join(s.dir, 'a'), `127.0.0.1:${join(s.dir, 'b')}`], { env: s.env, timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(calls(s)).toBe(0);
  });
});
