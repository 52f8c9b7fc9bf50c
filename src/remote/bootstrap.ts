// Starts the agent on the far side over ssh and reads the preamble (bootstrap-script.ts describes it), so that the
// caller gets two byte streams positioned where the binary frames begin.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { RemoteUnreachableError } from '../errors.js';
import { packageVersion } from '../cli/version.js';
import { AGENT_HELLO, AGENT_PROTOCOL_VERSION } from './agent-version.js';
import { type BundleIdentity, bootstrapCommand, bundleName, MIN_NODE_MAJOR, NEED_BUNDLE, REMOTE_ERROR } from './bootstrap-script.js';
import type { RemoteRootSpec } from './root-spec.js';
import { buildSshArgv } from './ssh-command.js';

export interface ConnectOptions {
  /** The --ssh value; else TSYNC_SSH from `env`; else `ssh`. */
  readonly sshFlag?: string;
  /** The ssh process's environment, and where TSYNC_SSH is read (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Whether a person can answer prompts (default: this process's stdin is a TTY); without one, BatchMode. */
  readonly stdinIsTty?: boolean;
  /** How long the whole preamble may take: connect, start, bundle transfer (default 60 s). */
  readonly timeoutMs?: number;
  readonly keepaliveSeconds?: number;
  /** The single-file agent (default: dist/agent/tsync-agent.mjs of this install). */
  readonly bundlePath?: string;
  /** Aborted before the agent answered: ssh is killed and the promise rejects (reason 'cancelled'). */
  readonly signal?: AbortSignal;
}

export interface AgentConnection {
  readonly child: ChildProcess;
  /** Frames to the agent. */
  readonly stdin: Writable;
  /** Frames from the agent, starting right after the TSYNC-AGENT line. */
  readonly stdout: Readable;
  readonly agentVersion: string;
  readonly protocol: number;
  /** Bytes of the bundle sent in this connect: 0 when the far side used its cache or its own tsync. */
  readonly bundleBytesSent: number;
  /** The last lines ssh (and the agent) wrote on stderr, for a message when the link is lost. */
  stderrTail(): string;
  /** Ends the agent's stdin and waits for ssh to exit (killing it after a grace period); resolves to its exit code. */
  close(): Promise<number | null>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** A preamble longer than this without the agent's line is not a tsync agent talking. */
const MAX_PREAMBLE_BYTES = 64 * 1024;
const STDERR_TAIL_BYTES = 4096;
const CLOSE_GRACE_MS = 5_000;

export function defaultBundlePath(): string {
  // dist/remote/bootstrap.js and the bundled CLI in dist/bundle/ both sit one level below dist/
  return fileURLToPath(new URL('../agent/tsync-agent.mjs', import.meta.url));
}

export function readBundle(path: string, version: string): { bytes: Buffer; identity: BundleIdentity } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RemoteUnreachableError(`the agent bundle is missing (${path}: ${(e as Error).message}); run npm run build`, 'bundle');
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, identity: { name: bundleName(version, sha256), sha256, size: bytes.length } };
}

/**
 * Runs ssh to `spec.host` with the bootstrap script, answers its preamble (sending the bundle when asked), and
 * resolves once the agent has said TSYNC-AGENT with our protocol version. Every failure is a RemoteUnreachableError
 * (exit 6) with one line that says what is missing: ssh's own last words, Node's absence or age, or both versions.
 */
export function connectAgent(spec: RemoteRootSpec, opts: ConnectOptions = {}): Promise<AgentConnection> {
  const version = packageVersion();
  const { bytes, identity } = readBundle(opts.bundlePath ?? defaultBundlePath(), version);
  const env = opts.env ?? process.env;
  const { file, args } = buildSshArgv({
    spec,
    sshFlag: opts.sshFlag,
    env,
    stdinIsTty: opts.stdinIsTty ?? process.stdin.isTTY === true,
    remoteCommand: bootstrapCommand(AGENT_PROTOCOL_VERSION, identity),
    keepaliveSeconds: opts.keepaliveSeconds,
  });
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const { stdin, stdout, stderr } = child as ChildProcess & { stdin: Writable; stdout: Readable; stderr: Readable };

  let tail = '';
  stderr.setEncoding('utf8');
  // drained for the whole session: a full stderr pipe would stall ssh, and the tail explains a lost link
  stderr.on('data', (s: string) => {
    tail = (tail + s).slice(-STDERR_TAIL_BYTES);
  });
  const stderrTail = (): string => tail;
  const lastStderrLine = (): string => tail.trimEnd().split('\n').pop()?.trim() ?? '';
  // a write after ssh died fails with EPIPE; the exit is what gets reported
  stdin.on('error', () => undefined);

  return new Promise<AgentConnection>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let preambleBytes = 0;
    let bundleBytesSent = 0;
    const noise: string[] = [];
    let settled = false;

    const finish = (e: RemoteUnreachableError | null, connection?: AgentConnection): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stdout.off('readable', onReadable);
      child.off('close', onClose);
      child.off('error', onSpawnError);
      opts.signal?.removeEventListener('abort', onAbort);
      if (e !== null) {
        child.kill('SIGTERM');
        reject(e);
      } else if (connection !== undefined) resolve(connection);
    };
    const fail = (message: string, reason: RemoteUnreachableError['reason']): void => finish(new RemoteUnreachableError(message, reason));

    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => fail(`no answer from ${spec.host} within ${Math.round(timeoutMs / 1000)} s${withDetail(lastStderrLine())}`, 'timeout'), timeoutMs);

    const onLine = (line: string): 'more' | 'done' => {
      const words = line.split(' ');
      if (words[0] === REMOTE_ERROR) {
        // final: the script exits right after it; no need to wait for ssh to wind down
        const remoteError = line.slice(REMOTE_ERROR.length + 1);
        fail(remoteErrorMessage(spec.host, remoteError), remoteErrorReason(remoteError));
        return 'done';
      }
      if (words[0] === NEED_BUNDLE) {
        if (words[1] !== identity.name || words[2] !== String(identity.size)) {
          fail(`bad handshake from ${spec.host}: asked for ${words.slice(1).join(' ')}, expected ${identity.name} ${identity.size}`, 'handshake');
          return 'done';
        }
        stdin.write(bytes);
        bundleBytesSent += bytes.length;
        return 'more';
      }
      if (words[0] === AGENT_HELLO) {
        const agentVersion = words[1] ?? '';
        const protocol = /^\d+$/.test(words[2] ?? '') ? Number(words[2]) : Number.NaN;
        if (words.length !== 3 || agentVersion === '' || Number.isNaN(protocol)) {
          fail(`bad handshake from ${spec.host}: ${JSON.stringify(line)}`, 'handshake');
        } else if (protocol !== AGENT_PROTOCOL_VERSION) {
          fail(
            `the tsync agent on ${spec.host} (tsync ${agentVersion}) speaks protocol ${protocol}, this tsync ${version} speaks protocol ${AGENT_PROTOCOL_VERSION}: install the same tsync on both sides, or remove the remote one`,
            'protocol',
          );
        } else {
          const close = (): Promise<number | null> => closeChild(child, stdin);
          finish(null, { child, stdin, stdout, agentVersion, protocol, bundleBytesSent, stderrTail, close });
        }
        return 'done';
      }
      if (noise.length < 5) noise.push(line);
      return 'more';
    };

    function onReadable(): void {
      for (let chunk: Buffer | null = stdout.read(); chunk !== null; chunk = stdout.read()) {
        buffered = Buffer.concat([buffered, chunk]);
        preambleBytes += chunk.length;
        for (let nl = buffered.indexOf(10); nl >= 0 && !settled; nl = buffered.indexOf(10)) {
          const line = buffered.subarray(0, nl).toString('utf8').replace(/\r$/, '');
          buffered = buffered.subarray(nl + 1);
          if (onLine(line) === 'done') {
            // what came after the agent's line is the first frame: give it back to the stream
            if (buffered.length > 0) stdout.unshift(buffered);
            return;
          }
        }
        if (!settled && preambleBytes > MAX_PREAMBLE_BYTES) {
          fail(`bad handshake from ${spec.host}: ${MAX_PREAMBLE_BYTES} bytes without the agent's first line${withDetail(noise[0] ?? '')}`, 'handshake');
          return;
        }
      }
    }

    function onClose(code: number | null, signal: NodeJS.Signals | null): void {
      if (code === 255) {
        // OpenSSH exits 255 for its own errors: refused, unknown host, host key, authentication
        fail(`cannot reach ${spec.host}: ${lastStderrLine() || 'ssh exited 255'}`, 'ssh');
      } else {
        const how = signal !== null ? `killed by ${signal}` : `exit ${code}`;
        fail(`the tsync agent on ${spec.host} did not start (${how})${withDetail(lastStderrLine() || noise.join(' / '))}`, 'handshake');
      }
    }

    function onSpawnError(e: Error): void {
      fail(`cannot reach ${spec.host}: cannot run ${file}: ${e.message}`, 'ssh');
    }

    function onAbort(): void {
      fail(`the connection to ${spec.host} was no longer needed`, 'cancelled');
    }

    stdout.on('readable', onReadable);
    child.on('close', onClose);
    child.on('error', onSpawnError);
    if (opts.signal?.aborted === true) onAbort();
    else opts.signal?.addEventListener('abort', onAbort);
  });
}

function withDetail(detail: string): string {
  return detail === '' ? '' : `: ${detail}`;
}

function remoteErrorReason(remoteError: string): RemoteUnreachableError['reason'] {
  const what = remoteError.split(' ')[0];
  return what === 'node-missing' || what === 'node-too-old' ? what : 'bundle';
}

function remoteErrorMessage(host: string, remoteError: string): string {
  const [what = '', ...rest] = remoteError.split(' ');
  if (what === 'node-missing') return `${host} has no Node.js; tsync needs Node >= ${MIN_NODE_MAJOR} on the remote side (${rest.join(' ')})`;
  if (what === 'node-too-old') return `${host} has Node ${rest[0] ?? '?'} (${rest.slice(1).join(' ')}); tsync needs Node >= ${MIN_NODE_MAJOR} on the remote side`;
  return `cannot start the tsync agent on ${host}: ${remoteError}`;
}

async function closeChild(child: ChildProcess, stdin: Writable): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  stdin.end();
  const timer = setTimeout(() => child.kill('SIGTERM'), CLOSE_GRACE_MS);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
