import { AGENT_PROTOCOL_VERSION, agentHelloLine } from './agent-version.js';
import { serveAgent } from './agent-serve.js';

export interface AgentRunOptions {
  /** Print the protocol version only (the bootstrap asks a `tsync` on the remote PATH this before using it). */
  readonly protocolOnly: boolean;
  readonly version: string;
}

/**
 * What both `tsync agent` and the bundle run: the one preamble line on stdout, then the framed protocol on stdin and
 * stdout. Nothing else may ever be written to stdout: it is the channel. Returns the exit code.
 */
export async function runAgent(o: AgentRunOptions): Promise<number> {
  if (o.protocolOnly) {
    process.stdout.write(`${AGENT_PROTOCOL_VERSION}\n`);
    return 0;
  }
  process.stdout.write(agentHelloLine(o.version));
  await serveAgent(process.stdin, process.stdout);
  return 0;
}
