// ssh and the far agent take most of a second to answer, and a run with a remote root used to start them only once
// the whole engine had loaded (its modules, SQLite) and the pair was being opened. The CLI starts the connection here
// as soon as the settings are known (cli/program.ts), and the pair opening claims it (open-remote.ts) instead of
// starting its own; a connection nobody claimed (the run failed before it opened the pair) is cancelled and closed.
// One per process: a run has at most one remote root.
import type { AgentConnection, ConnectOptions } from './bootstrap.js';
import { connectAgent } from './bootstrap.js';
import type { RemoteRootSpec } from './root-spec.js';

interface Ahead {
  readonly key: string;
  readonly connection: Promise<AgentConnection>;
  readonly abort: AbortController;
  claimed: boolean;
}

let ahead: Ahead | null = null;

/** What a connection is made with: one started ahead is only handed to a run that would make the same one. */
type ConnectParams = Pick<ConnectOptions, 'sshFlag' | 'keepaliveSeconds'>;

function keyOf(spec: RemoteRootSpec, o: ConnectParams): string {
  return JSON.stringify([spec.text, o.sshFlag ?? null, o.keepaliveSeconds ?? null]);
}

/** Starts ssh and the agent for `spec` now (the spawn is synchronous), for the run to claim later. */
export function connectAhead(spec: RemoteRootSpec, o: ConnectParams): void {
  if (ahead !== null) return;
  const abort = new AbortController();
  const connection = connectAgent(spec, { ...o, signal: abort.signal });
  // a failure is the claimer's to report; one nobody claims is of no interest
  connection.catch(() => undefined);
  ahead = { key: keyOf(spec, o), connection, abort, claimed: false };
}

/** The connection started ahead for exactly this spec and these options, once; else null (the caller connects). */
export function claimConnection(spec: RemoteRootSpec, o: ConnectParams): Promise<AgentConnection> | null {
  if (ahead === null || ahead.claimed || ahead.key !== keyOf(spec, o)) return null;
  ahead.claimed = true;
  return ahead.connection;
}

/** Cancels and closes a connection started ahead that no run claimed (ssh killed if it had not answered yet). */
export async function releaseUnclaimed(): Promise<void> {
  const a = ahead;
  ahead = null;
  if (a === null || a.claimed) return;
  a.abort.abort();
  try {
    await (await a.connection).close();
  } catch {
    // cancelled before the agent answered, or failed: ssh is gone either way
  }
}

/** TSYNC_KEEPALIVE (seconds): how soon a hung link is noticed; unset: ssh's and the session's defaults. */
export function keepaliveFromEnv(): number | undefined {
  const text = process.env.TSYNC_KEEPALIVE;
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
