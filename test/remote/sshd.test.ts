// connectAgent against a real OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts), with the system's ssh client: the
// far side's PATH and cache are what sshd gives the session (SetEnv), and the remote command goes through the login
// shell. Nothing is mocked but the far side's contents (a fake old node, a fake tsync of another protocol).
// These tests are not skipped when sshd is missing: startSshd() throws (.ci/run installs openssh-server).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.js';
import { RemoteUnreachableError } from '../../src/errors.js';
import { AGENT_PROTOCOL_VERSION } from '../../src/remote/agent-version.js';
import { type AgentConnection, type ConnectOptions, connectAgent, readBundle } from '../../src/remote/bootstrap.js';
import { parseRootSpec, type RemoteRootSpec } from '../../src/remote/root-spec.js';
import { bundlePath, type RemoteSide, remoteSide } from '../helpers/remote-side.js';
import { type Sshd, type SshdOptions, startSshd } from '../helpers/sshd.js';

const bundle = readFileSync(bundlePath);
const cachedName = readBundle(bundlePath, packageVersion()).identity.name;
const spec = parseRootSpec('127.0.0.1:notes') as RemoteRootSpec;

const servers: Sshd[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** An sshd whose sessions see this far side's PATH and cache dir. */
async function sshdFor(side: RemoteSide, opts: SshdOptions = {}): Promise<Sshd> {
  const sshd = await startSshd({ env: { PATH: side.env.PATH, XDG_CACHE_HOME: side.env.XDG_CACHE_HOME }, ...opts });
  servers.push(sshd);
  return sshd;
}

function connect(sshd: Sshd, extra: ConnectOptions = {}, to: RemoteRootSpec = spec): Promise<AgentConnection> {
  return connectAgent(to, { sshFlag: sshd.sshCommand, bundlePath, stdinIsTty: false, timeoutMs: 30_000, ...extra });
}

async function failure(p: Promise<AgentConnection>): Promise<RemoteUnreachableError> {
  try {
    const c = await p;
    await c.close();
  } catch (e) {
    expect(e).toBeInstanceOf(RemoteUnreachableError);
    return e as RemoteUnreachableError;
  }
  throw new Error('connected, but a failure was expected');
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('connectAgent over a real sshd', () => {
  it('(a) starts the tsync found on the remote PATH, sending no bundle', async () => {
    const side = remoteSide();
    const { log } = side.addRealTsync();
    const c = await connect(await sshdFor(side));
    expect([c.agentVersion, c.protocol, c.bundleBytesSent]).toEqual([packageVersion(), AGENT_PROTOCOL_VERSION, 0]);
    expect(await c.close()).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('agent --protocol\nagent\n');
    expect(existsSync(side.agentCache)).toBe(false);
  });

  it('(b) without tsync on the remote PATH, sends the bundle once; the next connect runs it from the cache', async () => {
    const side = remoteSide();
    const sshd = await sshdFor(side);
    const first = await connect(sshd);
    expect([first.agentVersion, first.protocol, first.bundleBytesSent]).toEqual([packageVersion(), AGENT_PROTOCOL_VERSION, bundle.length]);
    expect(await first.close()).toBe(0);
    expect(readFileSync(join(side.agentCache, cachedName)).equals(bundle)).toBe(true);
    // the port from an ssh:// root reaches ssh too
    const second = await connect(sshd, { sshFlag: sshd.sshCommandNoPort }, parseRootSpec(`ssh://127.0.0.1:${sshd.port}/~/notes`) as RemoteRootSpec);
    expect(second.bundleBytesSent).toBe(0);
    expect(await second.close()).toBe(0);
  });

  it('replaces a corrupt cached bundle instead of running it', async () => {
    const side = remoteSide();
    const marker = join(side.dir, 'corrupt-bundle-ran');
    mkdirSync(side.agentCache, { recursive: true });
    writeFileSync(join(side.agentCache, cachedName), `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    const c = await connect(await sshdFor(side));
    expect(c.bundleBytesSent).toBe(bundle.length);
    await c.close();
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(side.agentCache, cachedName)).equals(bundle)).toBe(true);
  });

  it('(c) a node older than 20 first on the remote PATH: one line naming it', async () => {
    const side = remoteSide();
    side.addScript('node', 'if [ "$1" = --version ]; then echo v18.19.0; exit 0; fi; exit 1');
    const e = await failure(connect(await sshdFor(side)));
    expect([e.reason, e.message]).toEqual(['node-too-old', `127.0.0.1 has Node v18.19.0 (${join(side.bin, 'node')}); tsync needs Node >= 20 on the remote side`]);
  });

  it('(d) refuses an agent of another protocol, naming both versions', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${AGENT_PROTOCOL_VERSION}; exit 0; fi; echo "TSYNC-AGENT 9.0.0 ${AGENT_PROTOCOL_VERSION + 1}"; cat >/dev/null`);
    const e = await failure(connect(await sshdFor(side)));
    expect(e.reason).toBe('protocol');
    expect(e.message).toMatch(
      new RegExp(`^the tsync agent on 127\\.0\\.0\\.1 \\(tsync 9\\.0\\.0\\) speaks protocol ${AGENT_PROTOCOL_VERSION + 1}, this tsync \\S+ speaks protocol ${AGENT_PROTOCOL_VERSION}: `),
    );
  });

  it("(e) a closed port: RemoteUnreachableError with ssh's own reason, before the preamble deadline", async () => {
    const side = remoteSide();
    const sshd = await sshdFor(side);
    const port = await closedPort();
    const to = parseRootSpec(`ssh://127.0.0.1:${port}/x`) as RemoteRootSpec;
    const e = await failure(connect(sshd, { sshFlag: sshd.sshCommandNoPort, timeoutMs: 20_000 }, to));
    expect([e.reason, e.message]).toEqual(['ssh', `cannot reach 127.0.0.1: ssh: connect to host 127.0.0.1 port ${port}: Connection refused`]);
  });

  it('(f) without a terminal and without a usable key, fails at once instead of asking for a password', async () => {
    const side = remoteSide();
    const sshd = await sshdFor(side, { passwordAuth: true });
    const asked = join(side.dir, 'password-asked');
    // ssh calls SSH_ASKPASS for any password prompt (SSH_ASKPASS_REQUIRE=force): the marker shows a prompt happened
    const askpass = side.addScript('askpass', `echo asked >>${asked}; echo wrong-password`);
    const wrongKey = sshd.sshCommand.replace(/-i \S+/, `-i ${sshd.wrongKey}`);
    const env = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
    const e = await failure(connect(sshd, { sshFlag: wrongKey, env }));
    expect(e.reason).toBe('ssh');
    expect(e.message).toMatch(/^cannot reach 127\.0\.0\.1: .*Permission denied \(publickey,password\)/);
    expect(existsSync(asked)).toBe(false);
    // the control: with a terminal, no BatchMode, and the same ssh does ask
    await failure(connect(sshd, { sshFlag: wrongKey, env, stdinIsTty: true }));
    expect(existsSync(asked)).toBe(true);
  });
});
