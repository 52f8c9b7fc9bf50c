// Speaks to a real agent process (the built bundle, dist/agent/tsync-agent.mjs) over pipes, as tsync does over ssh:
// the preamble line first, then the framed protocol through an RpcPeer. For the tests that hold a root's lock from
// outside a tsync run, and that send the agent requests no tsync sends.
import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { RpcPeer } from '../../src/remote/rpc-peer.js';
import { bundlePath } from '../helpers/remote-side.js';

export interface AgentSession {
  readonly peer: RpcPeer;
  readonly child: ChildProcess;
  /** The agent's stderr so far. */
  stderr(): string;
  /** Resolves with the agent's exit code once it has exited. */
  readonly exited: Promise<number | null>;
  /** Ends the session and waits for the agent to exit. */
  stop(): Promise<number | null>;
}

export async function startAgent(env: Readonly<Record<string, string>>): Promise<AgentSession> {
  const child = spawn(process.execPath, [bundlePath, 'agent'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const frames = new PassThrough();
  await new Promise<void>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) return;
      child.stdout?.off('data', onData);
      const preamble = head.subarray(0, nl).toString('utf8');
      if (!preamble.startsWith('TSYNC-AGENT ')) {
        reject(new Error(`unexpected preamble ${JSON.stringify(preamble)}`));
        return;
      }
      frames.write(head.subarray(nl + 1));
      child.stdout?.pipe(frames);
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => reject(new Error(`agent exited before its preamble: ${err}`)));
  });
  if (child.stdin === null) throw new Error('agent has no stdin');
  const peer = new RpcPeer(frames, child.stdin);
  return {
    peer,
    child,
    stderr: () => err,
    exited,
    stop: async () => {
      peer.close();
      child.stdin?.end();
      return exited;
    },
  };
}
