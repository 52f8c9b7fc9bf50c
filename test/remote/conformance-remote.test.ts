// The public conformance suite (/work/shared/conformance/run.mjs, called as is) with one root remote: every command
// it runs goes through test/remote/remote-root.mjs, which turns B (then A) into 127.0.0.1:/abs/path reached over a
// real sshd (test/helpers/sshd.ts). The three commands are set as .ci/run sets them for the local run.
//
// The suite's unreadable-file cases (none in the public subset, but the full suite has them) run the command as uid
// 65534 through setpriv: that user cannot read root's throwaway key nor write root's known_hosts, so the wrapper gets
// a second --ssh command (TSYNC_TEST_SSH_UNPRIVILEGED) with a copy of the key and known_hosts that 65534 owns. One run
// as 65534 below checks that command works, so that such cases fail for tsync's reasons only.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, projectRoot, removeTempDir } from '../helpers/cli.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';

const SUITE = '/work/shared/conformance/run.mjs';
const WRAPPER = join(projectRoot, 'test', 'remote', 'remote-root.mjs');
const CASES = 33;
const NOBODY = 65534;

let sshd: Sshd;
let tmp: string;
let unprivilegedSsh: string;

beforeAll(async () => {
  tmp = makeTempDir('tsync-conf-remote-');
  const far = join(tmp, 'far');
  mkdirSync(far);
  sshd = await startSshd({ env: { PATH: '/usr/local/bin:/usr/bin:/bin', XDG_CACHE_HOME: join(far, 'cache'), XDG_STATE_HOME: join(far, 'state') } });
  // the key and known_hosts again, owned by 65534 (ssh refuses a key others can read: 0600)
  const keys = join(tmp, 'nobody-ssh');
  mkdirSync(keys, { mode: 0o700 });
  const key = sshd.sshCommand.match(/-i (\S+)/)?.[1];
  const knownHosts = sshd.sshCommand.match(/UserKnownHostsFile=(\S+)/)?.[1];
  if (key === undefined || knownHosts === undefined) throw new Error(`unexpected ssh command ${sshd.sshCommand}`);
  copyFileSync(key, join(keys, 'key'));
  copyFileSync(knownHosts, join(keys, 'known_hosts'));
  for (const f of [keys, join(keys, 'key'), join(keys, 'known_hosts')]) chownSync(f, NOBODY, NOBODY);
  chmodSync(join(keys, 'key'), 0o600);
  chmodSync(tmp, 0o755);
  // -l root: the far side is still root's (the key is root's authorized key); only the local tsync runs as 65534
  unprivilegedSsh = `${sshd.sshCommand.replace(`-i ${key}`, `-i ${join(keys, 'key')}`).replace(`UserKnownHostsFile=${knownHosts}`, `UserKnownHostsFile=${join(keys, 'known_hosts')}`)} -l root`;
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (tmp !== undefined) removeTempDir(tmp);
});

interface SuiteRun {
  readonly code: number | null;
  readonly out: string;
}

function runSuite(side: 'left' | 'right'): Promise<SuiteRun> {
  const state = join(tmp, `state-${side}`);
  mkdirSync(state);
  const cli = `node ${WRAPPER} ${side} sync`;
  const env = {
    ...process.env,
    XDG_STATE_HOME: state,
    TSYNC_TEST_SSH: sshd.sshCommand,
    TSYNC_TEST_SSH_UNPRIVILEGED: unprivilegedSsh,
    TSYNC_ONEWAY: `${cli} --one-way`,
    TSYNC_TWOWAY: `${cli} --conflict newer`,
    TSYNC_TWOWAY_COPY: `${cli} --conflict keep-both`,
    TSYNC_VERBOSE: '1',
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SUITE], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('the public conformance suite with a remote root', () => {
  it('the unprivileged --ssh command works as uid 65534 (for the unreadable-file cases of the full suite)', () => {
    const dir = join(tmp, 'nobody-check');
    mkdirSync(join(dir, 'A'), { recursive: true });
    mkdirSync(join(dir, 'home'));
    writeFileSync(join(dir, 'A', 'f.txt'), 'as nobody');
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
    const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, WRAPPER, 'right', 'sync', '--one-way', join(dir, 'A'), join(dir, 'B')], {
      cwd: dir,
      env: { ...process.env, HOME: join(dir, 'home'), XDG_STATE_HOME: join(dir, 'home', 'state'), TSYNC_TEST_SSH: sshd.sshCommand, TSYNC_TEST_SSH_UNPRIVILEGED: unprivilegedSsh },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(readFileSync(join(dir, 'B', 'f.txt'), 'utf8')).toBe('as nobody');
    expect(existsSync(join(dir, 'home', 'state'))).toBe(true);
  }, 120_000);

  it(`passes all ${CASES} cases with B remote, and again with A remote`, async () => {
    // both runs at once: each case's time is mostly ssh connects, not CPU
    const [right, left] = await Promise.all([runSuite('right'), runSuite('left')]);
    for (const [side, run] of [
      ['B remote', right],
      ['A remote', left],
    ] as const) {
      const summary = run.out.trim().split('\n').at(-1);
      expect(summary, `${side}:\n${run.out}`).toBe(`${CASES} passed, 0 failed`);
      expect(run.code, side).toBe(0);
    }
  }, 1_500_000);
});
