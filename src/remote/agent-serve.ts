import type { Readable, Writable } from 'node:stream';

/**
 * Serves the framed protocol on the agent's stdin and stdout until the client closes stdin.
 *
 * Placeholder, to be replaced by the lead with the real agent (the endpoint behind the wire helper's RPC peer): for
 * now it serves nothing, only waits for stdin to end, so that the bootstrap (ssh, bundle, preamble) can be built and
 * tested on its own. It resolves, and the agent exits 0, when the client ends the session.
 */
export async function serveAgent(input: Readable, _output: Writable): Promise<void> {
  input.resume();
  await new Promise<void>((resolve, reject) => {
    input.once('end', resolve);
    input.once('close', resolve);
    input.once('error', reject);
  });
}
