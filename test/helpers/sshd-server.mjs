// A real OpenSSH server on 127.0.0.1, shared by the remote-root tests (through test/helpers/sshd.ts) and by
// `npm run bench:remote` (bench/remote.mjs): its own free port, a throwaway host key and user key (ssh-keygen) in its
// own temp dir, so several can run in parallel. Nothing is mocked: the client side is the system's ssh, and the
// session's environment is what sshd gives it (SetEnv below, the login shell's rc files).
// If sshd is missing, startSshd() throws: the remote tests fail loudly instead of being skipped (.ci/run installs it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';

/**
 * @typedef {object} SshdOptions
 * @property {Readonly<Record<string, string>>} [env] Variables every session gets (sshd_config SetEnv): the remote PATH and XDG_CACHE_HOME of a test.
 * @property {boolean} [passwordAuth] Offer password authentication too (so that a client without BatchMode would ask for one).
 */

/**
 * @typedef {object} Sshd
 * @property {'127.0.0.1'} host
 * @property {number} port
 * @property {string} sshCommand A --ssh value that logs in with the throwaway key, checks the throwaway host key (strict), on this port.
 * @property {string} sshCommandNoPort The same without the port (give one in an ssh:// root, or reach a closed port).
 * @property {string} dir The temp dir holding the keys, config and known_hosts.
 * @property {string} wrongKey A key pair that sshd does not accept.
 * @property {() => string} log The sshd log so far (for a failing test's message).
 * @property {() => Promise<void>} stop
 */

/**
 * @param {SshdOptions} [opts]
 * @returns {Promise<Sshd>}
 */
export async function startSshd(opts = {}) {
  if (!existsSync(SSHD_PATH)) throw new Error(`${SSHD_PATH} is missing: install openssh-server (.ci/run does); the remote-root tests need a real sshd`);
  // the privilege separation directory sshd insists on
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'tsync-sshd-'));
  const hostKey = join(dir, 'host_key');
  const userKey = join(dir, 'user_key');
  const wrongKey = join(dir, 'wrong_key');
  for (const key of [hostKey, userKey, wrongKey]) keygen(key);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${userKey}.pub`));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(config, sshdConfig(dir, port, hostKey, opts));
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (/** @type {string} */ s) => {
      log += s;
    });
    const started = await listening(child, () => log);
    if (!started) {
      // another process took the port between freePort() and sshd's bind: try another
      if (attempt < 5 && /Bind to port|Address already in use/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start:\n${log}`);
    }
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8')}`);
    // the host key is known under both the bare address and [address]:port, so any port given later still checks it
    const sshCommandNoPort = `ssh -F /dev/null -i ${userKey} -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts} -o LogLevel=ERROR`;
    const sshCommand = `${sshCommandNoPort} -p ${port}`;
    return { host: '127.0.0.1', port, sshCommand, sshCommandNoPort, dir, wrongKey, log: () => log, stop: () => stop(child, dir) };
  }
}

/** @param {string} dir @param {number} port @param {string} hostKey @param {SshdOptions} opts */
function sshdConfig(dir, port, hostKey, opts) {
  const lines = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // the temp dir is not root-owned 0755 all the way up in every environment
    'StrictModes no',
    // the tests run as root
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    `PasswordAuthentication ${opts.passwordAuth === true ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PrintMotd no',
  ];
  const env = Object.entries(opts.env ?? {});
  if (env.length > 0) lines.push(`SetEnv ${env.map(([k, v]) => `"${k}=${v}"`).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** @param {string} path */
function keygen(path) {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsync-test', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}${r.error?.message ?? ''}`);
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves true once sshd says it listens, false if it exits first.
 * @param {import('node:child_process').ChildProcess} child @param {() => string} log
 * @returns {Promise<boolean>}
 */
function listening(child, log) {
  return new Promise((resolve) => {
    const check = () => {
      if (/Server listening on/.test(log())) done(true);
    };
    const done = (/** @type {boolean} */ ok) => {
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      resolve(ok);
    };
    const onExit = () => done(false);
    child.stderr?.on('data', check);
    child.once('exit', onExit);
  });
}

/** @param {import('node:child_process').ChildProcess} child @param {string} dir @returns {Promise<void>} */
async function stop(child, dir) {
  if (child.exitCode === null && child.signalCode === null) {
    /** @type {Promise<void>} */
    const exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
