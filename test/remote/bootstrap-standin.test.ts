// The bootstrap (src/remote/bootstrap.ts and its sh script) through the ssh stand-in: the remote command runs with
// sh on this machine, in a far-side environment of its own (test/helpers/remote-side.ts). Mocked: only the network
// hop (ssh itself); the script, node, the bundle cache and the agent are real. test/remote/sshd.test.ts covers the
// same paths over a real sshd.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/exit-codes.js';
import { packageVersion } from '../../src/cli/version.js';
import { RemoteUnreachableError } from '../../src/errors.js';
import { AGENT_PROTOCOL_VERSION } from '../../src/remote/agent-version.js';
import { type AgentConnection, type ConnectOptions, connectAgent, readBundle } from '../../src/remote/bootstrap.js';
import { parseRootSpec, type RemoteRootSpec } from '../../src/remote/root-spec.js';
import { binPath } from '../helpers/cli.js';
import { bundlePath, type RemoteSide, remoteSide, standinSsh } from '../helpers/remote-side.js';

const spec = parseRootSpec('laptop:notes') as RemoteRootSpec;
const bundle = readFileSync(bundlePath);
const cachedName = readBundle(bundlePath, packageVersion()).identity.name;
/** The protocol this tsync speaks, and one it does not. */
const OURS = AGENT_PROTOCOL_VERSION;
const OTHER = AGENT_PROTOCOL_VERSION + 1;

function connect(side: RemoteSide, extra: ConnectOptions = {}): Promise<AgentConnection> {
  return connectAgent(spec, { sshFlag: standinSsh, env: side.env, bundlePath, stdinIsTty: false, timeoutMs: 30_000, ...extra });
}

async function failure(p: Promise<AgentConnection>): Promise<RemoteUnreachableError> {
  try {
    const c = await p;
    await c.close();
  } catch (e) {
    expect(e).toBeInstanceOf(RemoteUnreachableError);
    expect(exitCodeOf(e as RemoteUnreachableError)).toBe(6);
    return e as RemoteUnreachableError;
  }
  throw new Error('connected, but a failure was expected');
}

// Hiding every node the script looks for takes a private mount namespace (root and unshare): /dev/null is bound over
// each one there, so `[ -f ]` no longer holds, while the rest of the machine keeps its node.
const NODE_PLACES = ['/usr/local/bin/node', '/usr/bin/node', '/opt/homebrew/bin/node', '/opt/local/bin/node'];
const canHideNode = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

/** Reads what the agent sends after its first line, until `bytes` bytes came. */
function readBytes(c: AgentConnection, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (s: string) => {
      got += s;
      if (got.length >= bytes) resolve(got);
    });
  });
}

describe('connectAgent through the ssh stand-in', () => {
  it('sends the bundle once, caches it privately, and runs it from the cache the next time', async () => {
    const side = remoteSide();
    const first = await connect(side);
    expect([first.agentVersion, first.protocol, first.bundleBytesSent]).toEqual([packageVersion(), OURS, bundle.length]);
    expect(await first.close()).toBe(0);
    expect(readdirSync(side.agentCache)).toEqual([cachedName]);
    const cached = join(side.agentCache, cachedName);
    expect(readFileSync(cached).equals(bundle)).toBe(true);
    expect(statSync(cached).mode & 0o777).toBe(0o600);
    expect(statSync(side.agentCache).mode & 0o777).toBe(0o700);

    const second = await connect(side);
    expect(second.bundleBytesSent).toBe(0);
    expect(await second.close()).toBe(0);
  });

  it('replaces a corrupt cached bundle without running it', async () => {
    const side = remoteSide();
    const marker = join(side.dir, 'corrupt-bundle-ran');
    mkdirSync(side.agentCache, { recursive: true });
    writeFileSync(join(side.agentCache, cachedName), `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    const c = await connect(side);
    expect(c.bundleBytesSent).toBe(bundle.length);
    await c.close();
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(side.agentCache, cachedName)).equals(bundle)).toBe(true);
  });

  it('lets concurrent first connects install the bundle side by side: one whole file, no temp left', async () => {
    const side = remoteSide();
    const all = await Promise.all([1, 2, 3, 4].map(() => connect(side)));
    expect(all.every((c) => c.protocol === OURS)).toBe(true);
    await Promise.all(all.map((c) => c.close()));
    expect(readdirSync(side.agentCache)).toEqual([cachedName]);
    expect(readFileSync(join(side.agentCache, cachedName)).equals(bundle)).toBe(true);
  });

  it('never shows a torn bundle: a second connect during a slow transfer installs its own copy beside it', async () => {
    const side = remoteSide();
    // an ssh that passes the bundle on in 20 slices, 20 ms apart (the stand-in behind it runs the script)
    const slice = Math.ceil(bundle.length / 20);
    const slowSsh = side.addScript(
      'slow-ssh',
      `node -e 'const fs=require("fs");const b=Buffer.alloc(${slice});(function step(){const n=fs.readSync(0,b,0,b.length,null);if(n===0)return;fs.writeSync(1,b.subarray(0,n));setTimeout(step,20)})()' | ${standinSsh} "$@"`,
    );
    const slow = connect(side, { sshFlag: slowSsh });
    const firstNames = async (): Promise<string[]> => {
      for (;;) {
        const names = existsSync(side.agentCache) ? readdirSync(side.agentCache) : [];
        if (names.length > 0) return names;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    // while the first copy is being written, only its temp file is there
    expect(await firstNames()).toEqual([expect.stringMatching(new RegExp(`^${cachedName.replaceAll('.', '\\.')}\\.tmp-\\d+$`))]);
    const fast = await connect(side);
    expect(fast.bundleBytesSent).toBe(bundle.length);
    const first = await slow;
    expect(first.bundleBytesSent).toBe(bundle.length);
    await Promise.all([fast.close(), first.close()]);
    expect(readdirSync(side.agentCache)).toEqual([cachedName]);
    expect(readFileSync(join(side.agentCache, cachedName)).equals(bundle)).toBe(true);
  });

  it('refuses a bundle damaged on the way, and keeps nothing of it', async () => {
    const side = remoteSide();
    // an ssh whose channel flips one bit of the 100th byte
    const flippingSsh = side.addScript(
      'flipping-ssh',
      `node -e 'let seen=0;process.stdin.on("data",(b)=>{if(seen<=99&&seen+b.length>99)b[99-seen]^=1;seen+=b.length;process.stdout.write(b)})' | ${standinSsh} "$@"`,
    );
    const e = await failure(connect(side, { sshFlag: flippingSsh }));
    expect([e.reason, e.message]).toEqual(['bundle', 'cannot start the tsync agent on laptop: bundle sha256 mismatch after transfer']);
    expect(readdirSync(side.agentCache)).toEqual([]);
  });

  it('uses a tsync on the remote PATH that speaks our protocol, and sends nothing', async () => {
    const side = remoteSide();
    const { log } = side.addRealTsync();
    const c = await connect(side);
    expect([c.agentVersion, c.protocol, c.bundleBytesSent]).toEqual([packageVersion(), OURS, 0]);
    expect(await c.close()).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('agent --protocol\nagent\n');
    expect(existsSync(side.agentCache)).toBe(false);
  });

  it('gives the probes no stdin: a remote tsync that reads it while answering --protocol cannot eat the channel', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then cat >/dev/null; echo ${OURS}; exit 0; fi; exec node ${binPath} "$@"`);
    const c = await connect(side, { timeoutMs: 10_000 });
    expect([c.protocol, c.bundleBytesSent]).toEqual([OURS, 0]);
    expect(await c.close()).toBe(0);
  });

  it('passes over a tsync on the PATH that speaks another protocol, and sends the bundle', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${OTHER}; exit 0; fi; echo "TSYNC-AGENT 9.0.0 ${OTHER}"; cat >/dev/null`);
    const c = await connect(side);
    expect([c.agentVersion, c.protocol, c.bundleBytesSent]).toEqual([packageVersion(), OURS, bundle.length]);
    await c.close();
  });

  it('refuses an agent whose first line names another protocol, naming both versions', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${OURS}; exit 0; fi; echo "TSYNC-AGENT 9.0.0 ${OTHER}"; cat >/dev/null`);
    const e = await failure(connect(side));
    expect(e.reason).toBe('protocol');
    expect(e.message).toBe(
      `the tsync agent on laptop (tsync 9.0.0) speaks protocol ${OTHER}, this tsync ${packageVersion()} speaks protocol ${OURS}: install the same tsync on both sides, or remove the remote one`,
    );
  });

  it('hands over the bytes that follow the first line, and skips a login greeting before it', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${OURS}; exit 0; fi; echo "Welcome!"; printf "TSYNC-AGENT 9.0.0 ${OURS}\\nFRAME-BYTES"; cat >/dev/null`);
    const c = await connect(side);
    expect(await readBytes(c, 'FRAME-BYTES'.length)).toBe('FRAME-BYTES');
    await c.close();
  });

  it('says which Node the far side has when it is older than 20', async () => {
    const side = remoteSide();
    side.addScript('node', 'if [ "$1" = --version ]; then echo v18.19.0; exit 0; fi; exit 1');
    const e = await failure(connect(side));
    expect(e.reason).toBe('node-too-old');
    expect(e.message).toBe(`laptop has Node v18.19.0 (${join(side.bin, 'node')}); tsync needs Node >= 20 on the remote side`);
  });

  it.skipIf(!canHideNode)(`says so in one line when the far side has no node at all${canHideNode ? '' : ' [skipped: needs root and unshare -m]'}`, async () => {
    const side = remoteSide();
    rmSync(join(side.bin, 'node'));
    const places = NODE_PLACES.join(' ');
    const noNodeSsh = side.addScript('no-node-ssh', `exec unshare -m sh -c 'for n in ${places}; do [ -e $n ] && mount --bind /dev/null $n; done; exec ${standinSsh} "$@"' sh "$@"`);
    const e = await failure(connect(side, { sshFlag: noNodeSsh }));
    expect([e.reason, e.message]).toEqual([
      'node-missing',
      `laptop has no Node.js; tsync needs Node >= 20 on the remote side (no node on PATH (${side.env.PATH}) nor in /usr/local/bin, /usr/bin, /opt/homebrew/bin)`,
    ]);
  });

  it('reports a far side that answers with something else than the agent', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${OURS}; exit 0; fi; echo "TSYNC-AGENT what"; exit 0`);
    expect((await failure(connect(side))).message).toMatch(/^bad handshake from laptop: "TSYNC-AGENT what"$/);
    const silent = remoteSide();
    silent.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${OURS}; exit 0; fi; echo "oops" >&2; exit 3`);
    const e = await failure(connect(silent));
    expect([e.reason, e.message]).toEqual(['handshake', 'the tsync agent on laptop did not start (exit 3): oops']);
  });

  it('gives up on a far side that says nothing, at the preamble deadline', async () => {
    const side = remoteSide();
    side.addScript('tsync', `if [ "$2" = --protocol ]; then echo ${OURS}; exit 0; fi; exec sleep 60`);
    const e = await failure(connect(side, { timeoutMs: 1_000 }));
    expect([e.reason, e.message]).toEqual(['timeout', 'no answer from laptop within 1 s']);
  });

  it("quotes ssh's last words when ssh cannot connect, and names a missing ssh", async () => {
    const side = remoteSide();
    const fakeSsh = side.addScript('fake-ssh', 'echo "debug noise" >&2; echo "ssh: connect to host laptop port 22: Connection refused" >&2; exit 255');
    const e = await failure(connect(side, { sshFlag: fakeSsh }));
    expect([e.reason, e.message]).toEqual(['ssh', 'cannot reach laptop: ssh: connect to host laptop port 22: Connection refused']);
    const missing = await failure(connect(side, { sshFlag: join(side.dir, 'no-such-ssh') }));
    expect(missing.reason).toBe('ssh');
    expect(missing.message).toMatch(/^cannot reach laptop: cannot run .*no-such-ssh: spawn .* ENOENT$/);
  });
});
