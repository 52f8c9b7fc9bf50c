import { parseRootSpec, type RemoteRootSpec } from '../remote/root-spec.js';
import type { SyncSettings } from '../sync/settings.js';

/**
 * Runs `run` with the connection to a remote root already under way (remote/preconnect.ts): ssh and the far agent
 * answer while the engine's modules load, instead of after. Only for settings that are valid (null: a usage error,
 * which never starts ssh) and a pair with exactly one remote root; a local pair loads nothing more. The run claims
 * the connection when it opens the pair, and one it did not claim is cancelled when it ends.
 */
export async function withConnectionAhead<T>(settings: Pick<SyncSettings, 'left' | 'right' | 'sshCommand'> | null, run: () => Promise<T>): Promise<T> {
  const spec = settings === null ? null : soleRemoteRoot(settings.left, settings.right);
  if (spec === null) return run();
  const { connectAhead, keepaliveFromEnv, releaseUnclaimed } = await import('../remote/preconnect.js');
  const keepalive = keepaliveFromEnv();
  connectAhead(spec, { ...(settings?.sshCommand === undefined ? {} : { sshFlag: settings.sshCommand }), ...(keepalive === undefined ? {} : { keepaliveSeconds: keepalive }) });
  try {
    return await run();
  } finally {
    await releaseUnclaimed();
  }
}

/** The remote root of a pair with exactly one; null otherwise, and for a root that does not parse (the run says why). */
function soleRemoteRoot(left: string, right: string): RemoteRootSpec | null {
  try {
    const remote = [parseRootSpec(left), parseRootSpec(right)].filter((s): s is RemoteRootSpec => s.kind === 'remote');
    return remote.length === 1 ? (remote[0] ?? null) : null;
  } catch {
    return null;
  }
}
