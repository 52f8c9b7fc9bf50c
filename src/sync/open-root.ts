import { type Stats, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Endpoint } from '../endpoint/endpoint.js';
import { LocalEndpoint } from '../endpoint/local-endpoint.js';
import { RootError } from '../errors.js';
import { absFromText, realpathAbs } from '../fs/paths.js';
import { parseRootSpec } from '../remote/root-spec.js';

export interface OneRootOptions {
  /** --ssh, for a remote root. */
  readonly sshCommand?: string;
  /** The command writes to the root (restore): a remote root is locked by its agent first, as a sync into it is. */
  readonly forWriting: boolean;
}

/**
 * One root on its own (`tsync trash`, `tsync restore`), behind its endpoint: a directory here, or one on
 * another machine (`host:path`, `ssh://…`) reached through its agent. It must exist and be a directory.
 * The caller closes the endpoint (which ends a remote session).
 */
export async function openOneRoot(text: string, o: OneRootOptions): Promise<Endpoint> {
  const spec = parseRootSpec(text);
  if (spec.kind === 'local') return new LocalEndpoint(existingRoot(text));
  const { openRemoteSide } = await import('../remote/open-remote.js'); // only for a remote root
  const remote = await openRemoteSide(spec, { ...(o.sshCommand === undefined ? {} : { sshCommand: o.sshCommand }), mayBeMissing: false });
  try {
    if (o.forWriting) await remote.lock();
  } catch (e) {
    await remote.endpoint.close();
    throw e;
  }
  return remote.endpoint;
}

function existingRoot(text: string): LocalEndpoint['root'] {
  let st: Stats;
  try {
    st = statSync(text); // a root that is a symlink to a directory is fine
  } catch {
    throw new RootError(`${text} does not exist`);
  }
  if (!st.isDirectory()) throw new RootError(`${text} is not a directory`);
  return realpathAbs(absFromText(resolve(text)));
}
