import { otherSide, sideLabel } from '../core/sides.js';
import type { KeptMeta, Side } from '../core/types.js';
import type { Endpoint } from '../endpoint/endpoint.js';
import { LocalEndpoint } from '../endpoint/local-endpoint.js';
import { machineIdentity } from '../remote/machine-id.js';
import type { LinkOptions } from '../remote/open-remote.js';
import { parseRootSpec, requireAtMostOneRemote } from '../remote/root-spec.js';
import type { RemoteRootFacts } from '../store/remote-root-memo.js';
import { assertDistinctRoots, resolveOne, resolveRoots, type ResolvedRoots } from './roots.js';
import type { SyncMode } from './settings.js';

export interface SidesOptions {
  readonly left: string;
  readonly right: string;
  readonly mode: SyncMode;
  /** --ssh, for a remote root. */
  readonly sshCommand?: string;
  /** --numeric-ids, for a remote root. */
  readonly numericIds?: boolean;
  /** --compress and --bwlimit, for a remote root's link. */
  readonly link?: LinkOptions;
  /** What the run keeps: a far side without its own xattr library is offered ours only when xattrs are kept. */
  readonly keep?: KeptMeta;
}

/** The two roots of a pair, resolved, each behind its endpoint. */
export interface OpenedSides {
  readonly roots: ResolvedRoots;
  readonly endpoints: Readonly<Record<Side, Endpoint>>;
  /** The side on another machine, if any. */
  readonly remote: Side | null;
  /** Why extended attributes cannot be kept on this pair (null: they can, where asked for). */
  readonly xattrsUnavailable: string | null;
  /** The remote side's agent may not set owners and groups (it does not run as root): null when it may, or there is none. */
  readonly remoteChownRefused: string | null;
  /** Takes the far side's own lock on its root (nothing for two local roots). */
  lockRemote(): Promise<void>;
}

/**
 * Resolves both roots before anything is read or written. A remote root (`host:path`, `ssh://…`) is
 * resolved by its agent on its own machine; at most one root may be remote (the index stays local).
 */
export async function openSides(o: SidesOptions): Promise<OpenedSides> {
  const opening = await beginOpeningSides(o);
  return opening.kind === 'ready' ? opening.sides : (await opening.connected()).sides;
}

/** What of the opened sides this machine knows before the far side answers: all but the far endpoint and lock. */
export type SidesFacts = Pick<OpenedSides, 'roots' | 'remote' | 'xattrsUnavailable' | 'remoteChownRefused'>;

export type SidesOpening =
  | { readonly kind: 'ready'; readonly sides: OpenedSides }
  | {
      readonly kind: 'connecting';
      readonly remote: Side;
      /** The remote root as written (its text names the memo of it, store/remote-root-memo.ts). */
      readonly remoteText: string;
      readonly localEndpoint: Endpoint;
      /** The sides as they are if the far side answers with these facts (a guess to start work on, pair.ts). */
      guessed(facts: RemoteRootFacts): SidesFacts;
      /** Waits for the agent's answer: the sides, and the facts to compare a guess with. */
      connected(): Promise<{ readonly sides: OpenedSides; readonly facts: RemoteRootFacts }>;
    };

/**
 * Starts opening the sides: two local roots are resolved at once; for a remote one, ssh is started now and
 * `connected` waits for its agent, so that the caller may do local work in between.
 */
export async function beginOpeningSides(o: SidesOptions): Promise<SidesOpening> {
  const specs = { left: parseRootSpec(o.left), right: parseRootSpec(o.right) };
  requireAtMostOneRemote(specs.left, specs.right);
  const rules = { createRight: o.mode === 'one-way', allowMissing: o.mode === 'two-way' };
  if (specs.left.kind === 'local' && specs.right.kind === 'local') {
    const roots = resolveRoots(o.left, o.right, rules);
    return {
      kind: 'ready',
      sides: {
        roots,
        endpoints: { left: new LocalEndpoint(roots.left), right: new LocalEndpoint(roots.right) },
        remote: null,
        xattrsUnavailable: null,
        remoteChownRefused: null,
        lockRemote: async () => undefined,
      },
    };
  }
  const remoteSide: Side = specs.left.kind === 'remote' ? 'left' : 'right';
  const localSide = otherSide(remoteSide);
  const spec = specs[remoteSide];
  if (spec.kind !== 'remote') throw new Error('unreachable: one spec is remote');
  const mayBeMissing = (side: Side): boolean => rules.allowMissing || (side === 'right' && rules.createRight);
  const local = resolveOne(side(o, localSide), sideLabel(localSide, o.mode), mayBeMissing(localSide));
  const localEndpoint = new LocalEndpoint(local.path);
  // loaded only for a remote root: a local pair never pays for the ssh, bootstrap and wire modules
  const { openRemoteSide } = await import('../remote/open-remote.js');
  // ssh starts here (its spawn is synchronous); the promise is awaited by `connected`
  const opening = openRemoteSide(spec, {
    ...(o.sshCommand === undefined ? {} : { sshCommand: o.sshCommand }),
    mayBeMissing: mayBeMissing(remoteSide),
    numericIds: o.numericIds === true,
    ...(o.link === undefined ? {} : { link: o.link }),
    offerXattrAddon: o.keep?.xattrs === true,
  });
  // a failure before `connected` is asked for is reported by `connected`, not as an unhandled rejection
  opening.catch(() => undefined);
  const pick = <T>(forLocal: T, forRemote: T): Record<Side, T> => (remoteSide === 'right' ? { left: forLocal, right: forRemote } : { left: forRemote, right: forLocal });
  const factsOf = (facts: RemoteRootFacts): SidesFacts => {
    const ids = pick(local.path, facts.identity);
    const missing = pick(local.missing, facts.missing);
    return {
      roots: { left: ids.left, right: ids.right, leftText: o.left, rightText: o.right, leftMissing: missing.left, rightMissing: missing.right },
      remote: remoteSide,
      xattrsUnavailable: facts.xattrs
        ? null
        : `extended attributes are not kept: the agent on ${spec.host} runs without @napi-rs/xattr (its platform is not this machine's, so this tsync's build of it cannot serve there: install tsync there to keep them; --no-xattrs silences this)`,
      remoteChownRefused: facts.mayChown ? null : `owner and group are not kept on ${spec.host}: its agent runs as a user who may not chown (log in as root there, or --no-owner --no-group)`,
    };
  };
  return {
    kind: 'connecting',
    remote: remoteSide,
    remoteText: spec.text,
    localEndpoint,
    guessed: factsOf,
    connected: async () => {
      const remote = await opening;
      const paths = pick(local.path, remote.realPath);
      try {
        // a "remote" root on this very machine (ssh to localhost) must not be the local root or inside it
        if (remote.machine === machineIdentity()) assertDistinctRoots(paths.left, paths.right, o.left, o.right, o.mode);
      } catch (e) {
        await remote.endpoint.close();
        throw e;
      }
      const facts: RemoteRootFacts = { identity: remote.identity, missing: remote.missing, xattrs: remote.xattrs, mayChown: remote.mayChown };
      return {
        facts,
        sides: { ...factsOf(facts), endpoints: pick<Endpoint>(localEndpoint, remote.endpoint), lockRemote: () => remote.lock() },
      };
    },
  };
}

function side(o: SidesOptions, s: Side): string {
  return s === 'left' ? o.left : o.right;
}
