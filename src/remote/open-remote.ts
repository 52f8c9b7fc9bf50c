// Opens the remote side of a pair: ssh to the host, start the agent (bootstrap.ts), open an RPC session
// over its stdio, and have the agent resolve and (for a run that writes) lock its root.
import { hostname } from 'node:os';
import * as v from 'valibot';
import type { AbsPath } from '../core/types.js';
import { connectAgent } from './bootstrap.js';
import { claimConnection, keepaliveFromEnv } from './preconnect.js';
import { engineErrorFromWire } from './engine-errors.js';
import { idMapOf } from './id-map.js';
import { readNameTables } from './name-tables.js';
import { RemoteEndpoint } from './remote-endpoint.js';
import type { RemoteRootSpec } from './root-spec.js';
import { RpcPeer } from './rpc-peer.js';
import { parseWire } from './wire-shapes.js';
import { localXattrAddon } from './xattr-addon.js';

export interface RemoteSide {
  readonly endpoint: RemoteEndpoint;
  /** The root's real path on the far machine (a binary string, like a local AbsPath). */
  readonly realPath: AbsPath;
  /** What the state index knows the root by: the far machine's identity and the real path. */
  readonly identity: AbsPath;
  /** The far machine's identity (machine-id.ts): equal to ours when the "remote" root is on this machine. */
  readonly machine: string;
  readonly missing: boolean;
  /** The agent may set owners and groups there (root or CAP_CHOWN). */
  readonly mayChown: boolean;
  /** The far side can read and write extended attributes (its Node finds @napi-rs/xattr). */
  readonly xattrs: boolean;
  /** Takes the agent's lock on its root (root-lock.ts): two machines syncing into it take turns (exit 5). */
  lock(): Promise<void>;
}

export interface RemoteOpenOptions {
  /** --ssh (else TSYNC_SSH, else ssh). */
  readonly sshCommand?: string;
  /** A missing root is not an error here (one-way destination, two-way's guard decides). */
  readonly mayBeMissing: boolean;
  /** --numeric-ids: owners and groups keep their numbers across machines instead of being matched by name. */
  readonly numericIds?: boolean;
  /** Keepalive, in seconds: ssh's ServerAlive and the session's own ping (tests make it short). */
  readonly keepaliveSeconds?: number;
  /** --compress and --bwlimit. */
  readonly link?: LinkOptions;
  /** Offer this machine's xattr binary to an agent that has none (xattr-addon.ts): when the run keeps xattrs. */
  readonly offerXattrAddon?: boolean;
}

export interface LinkOptions {
  /** --compress: file data crosses deflated (frame.ts), both ways, if the agent agrees at `open`. */
  readonly compress: boolean;
  /** --bwlimit: bytes per second this side sends, and reads (null: no limit). */
  readonly bytesPerSecond: number | null;
}

const opened = v.object({
  root: v.pipe(v.string(), v.startsWith('/')),
  missing: v.boolean(),
  host: v.string(),
  machine: v.string(),
  uid: v.number(),
  mayChown: v.boolean(),
  xattrs: v.boolean(),
  names: v.object({ users: v.map(v.number(), v.string()), groups: v.map(v.number(), v.string()) }),
  compress: v.optional(v.boolean()),
  xattrAddon: v.optional(v.picklist(['native', 'loaded', 'needed', 'unusable'])),
});

const addonReply = v.object({ xattrs: v.boolean() });

export async function openRemoteSide(spec: RemoteRootSpec, o: RemoteOpenOptions): Promise<RemoteSide> {
  const keepalive = o.keepaliveSeconds ?? keepaliveFromEnv();
  const params = { ...(o.sshCommand === undefined ? {} : { sshFlag: o.sshCommand }), ...(keepalive === undefined ? {} : { keepaliveSeconds: keepalive }) };
  // started by the CLI while the engine loaded, if it was (preconnect.ts)
  const conn = await (claimConnection(spec, params) ?? connectAgent(spec, params));
  const rate = o.link?.bytesPerSecond ?? null;
  const peer = new RpcPeer(conn.stdout, conn.stdin, {
    errorFromWire: engineErrorFromWire,
    ...(rate === null ? {} : { bytesPerSecond: rate }),
    ...(keepalive === undefined ? {} : { keepaliveIntervalMs: keepalive * 1000, lostAfterMs: keepalive * 3000 }),
  });
  const disconnect = async (): Promise<void> => {
    peer.close();
    await conn.close();
  };
  try {
    const compress = o.link?.compress === true;
    const addon = o.offerXattrAddon === true ? localXattrAddon() : null;
    const offer = addon === null ? null : { name: addon.name, sha256: addon.sha256, platform: addon.platform };
    const got = parseWire(opened, await peer.call('open', { path: spec.path, mayBeMissing: o.mayBeMissing, compress, ...(offer === null ? {} : { xattrAddon: offer }) }), 'open reply');
    // the binary travels once per far machine (and version of it): the agent caches it
    const xattrs =
      got.xattrAddon === 'needed' && addon !== null && offer !== null
        ? parseWire(addonReply, await peer.call('xattrAddon', { offer, bytes: addon.bytes }), 'xattrAddon reply').xattrs
        : got.xattrs;
    // both sides read deflated frames always; each sends them only once both agreed (the agent did, by its reply)
    if (compress && got.compress === true) peer.compressData(true);
    const realPath = got.root as AbsPath;
    return {
      endpoint: new RemoteEndpoint(peer, realPath, disconnect, idMapOf(readNameTables(), got.names, o.numericIds === true)),
      realPath,
      identity: `ssh://${got.machine}${realPath}` as AbsPath,
      machine: got.machine,
      missing: got.missing,
      xattrs,
      mayChown: got.mayChown,
      lock: async () => {
        await peer.call('lock', { clientHost: hostname(), clientPid: process.pid });
      },
    };
  } catch (e) {
    await disconnect();
    throw e;
  }
}
