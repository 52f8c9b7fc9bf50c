import { runAgent } from '../../remote/agent-run.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import { packageVersion } from '../version.js';

/**
 * `tsync agent [--protocol]`: the far side of a remote root, started over ssh by the bootstrap (remote/bootstrap.ts)
 * when this tsync is on the remote PATH. Not for people: its stdout is a binary channel after the first line.
 */
export async function agentCommand(flags: { protocol?: boolean }): Promise<ExitCode> {
  const code = await runAgent({ protocolOnly: flags.protocol === true, version: packageVersion() });
  return code === 0 ? EXIT.ok : EXIT.partial;
}
