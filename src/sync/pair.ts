import type { AbsPath, BaseRecord, RelPath, Side } from '../core/types.js';
import { RACY_WINDOW_NS } from '../core/stat-cache.js';
import type { Endpoint } from '../endpoint/endpoint.js';
import { RootError, SafetyHaltError } from '../errors.js';
import { acquirePairLock, type PairLock } from '../store/lock.js';
import { ensureStateDir, StateStore } from '../store/store.js';
import { settleOwedFlush, type SettledLate } from './deferred-flush.js';
import { beginOpeningSides, type OpenedSides, type SidesFacts, type SidesOpening } from './open-sides.js';
import { otherSide } from '../core/sides.js';
import type { BaseTable } from '../store/base-table.js';
import { memoFileOf, readRemoteRootFacts, sameRemoteRootFacts, writeRemoteRootFacts, type RemoteRootFacts } from '../store/remote-root-memo.js';
import type { LinkOptions } from '../remote/open-remote.js';
import type { ResolvedRoots } from './roots.js';
import type { SyncMode } from './settings.js';

export interface PairOptions {
  readonly left: string;
  readonly right: string;
  readonly mode: SyncMode;
  readonly stateDir: string;
  readonly force: boolean;
  readonly waitSeconds: number;
  /** Read-only looks (dry runs, status, check) do not take the pair lock: they may run beside a watch. */
  readonly dryRun: boolean;
  /** --ssh, for a remote root. */
  readonly sshCommand?: string;
  /** --numeric-ids, for a remote root. */
  readonly numericIds?: boolean;
  /** --compress and --bwlimit, for a remote root's link. */
  readonly link?: LinkOptions;
  /**
   * The caller walks the roots before it acts, and awaits OpenPair.owedFlushSettled in between: a local flush the
   * last run owes is then made beside the walk (deferred-flush.ts) instead of before the pair is handed over.
   */
  readonly overlapOwedFlush?: boolean;
}

/** A pair of roots opened for work: locked, with its index open; the base is loaded on first use. */
export interface OpenPair {
  readonly roots: ResolvedRoots;
  /** Every read and write of a side goes through its endpoint (endpoint/endpoint.ts). */
  readonly endpoints: Readonly<Record<Side, Endpoint>>;
  /** The side whose root is on another machine (reached over ssh), or null. */
  readonly remote: Side | null;
  /** Why extended attributes cannot be kept on this pair (a far side without the module), or null. */
  readonly xattrsUnavailable: string | null;
  /** Why owners and groups cannot be set on the remote side (its agent may not chown), or null. */
  readonly remoteChownRefused: string | null;
  readonly store: StateStore;
  /**
   * The base in memory, loaded from the index the first time it is read (so that a worker thread can
   * start scanning while it loads, scan-pair.ts); watch cycles keep it current between commits.
   */
  readonly base: Map<RelPath, BaseRecord>;
  /** How many paths the index held when the pair was opened (known without loading the base). */
  readonly indexedPaths: number;
  /** Said once per run: from opening the index, and what the run could not keep (added as it goes). */
  readonly warnings: string[];
  root(side: 'left' | 'right'): AbsPath;
  /**
   * How recent a ctime on this side must be to count as racy: 0 where the file system has fine-grained
   * ctimes (probed once, and only on a side the run writes to: probing writes a file), else the
   * coarse-clock window.
   */
  racyWindowNs(side: 'left' | 'right', willWrite: boolean): Promise<bigint>;
  /**
   * Ends when the flush the last run owed is settled (PairOptions.overlapOwedFlush; at once without it). The base
   * may be read and the roots walked before, nothing acted on. True when it took the last run's rows back: the base
   * is then read again, and what was walked against the old one should be walked again.
   */
  owedFlushSettled(): Promise<boolean>;
  /** Releases the lock, closes the index and ends a remote side's session. */
  close(): Promise<void>;
}

export async function openPair(o: PairOptions): Promise<OpenPair> {
  return (await openPairOverlapped(o, null)).pair;
}

/** The local half of a remote pair as it is while ssh connects: its roots and limits are the memo's guess. */
export interface EarlyPair extends SidesFacts {
  readonly store: StateStore;
  readonly base: Map<RelPath, BaseRecord>;
  readonly localSide: Side;
  readonly localEndpoint: Endpoint;
  root(side: Side): AbsPath;
}

/**
 * Opens the pair. With a remote root, ssh and the agent take most of a second to answer, and this side
 * would wait idle; so when the last run left a memo of the far root (store/remote-root-memo.ts), the
 * local half is opened at once on the memo's word (the pair lock, without waiting for it; the index,
 * its owed flush settled as far as this machine can, deferred-flush.ts; the base) and `whileConnecting`
 * starts on it (run-loop.ts walks the local root; `early` is its result, null if it failed, and the
 * caller awaits it only once it has asked the far side to scan). Once the agent answers, the half and
 * that work are kept only if the answer is exactly the memo's: the same root identity (so the same lock
 * and index), missing or not, and the same limits (so the same settings). Otherwise, or if opening the
 * half failed, it is dropped (the lock released, the index closed) and the pair opened as without a
 * memo; a real error then surfaces there. Kept work was done under the pair lock, as it would have been
 * after the connect, so nothing another run does to the index can fall in between.
 */
export async function openPairOverlapped<T>(o: PairOptions, whileConnecting: ((p: EarlyPair) => Promise<T>) | null): Promise<{ pair: OpenPair; early: Promise<T | null> | null }> {
  const opening = await beginOpeningSides(o);
  if (opening.kind === 'ready') return { pair: await pairOn(o, opening.sides, null), early: null };
  const memo = memoFileOf(o.stateDir, opening.remoteText, o.sshCommand ?? process.env.TSYNC_SSH ?? '');
  const guess = readRemoteRootFacts(memo);
  const early = guess !== null && whileConnecting !== null ? await startEarly(o, opening, guess, whileConnecting) : null;
  let connected: Awaited<ReturnType<typeof opening.connected>>;
  try {
    connected = await opening.connected();
  } catch (e) {
    early?.half.close();
    throw e;
  }
  const { sides, facts } = connected;
  const guessed = guess !== null && sameRemoteRootFacts(guess, facts);
  if (early !== null && guessed) return { pair: await pairOn(o, sides, early.half), early: early.result };
  early?.half.close();
  const pair = await pairOn(o, sides, null);
  // written once the state dir is known to exist (opening the pair made it)
  if (!guessed) writeRemoteRootFacts(memo, facts);
  return { pair, early: null };
}

type RemoteOpening = Extract<SidesOpening, { kind: 'connecting' }>;

/**
 * Opens the local half on the memo's guess and starts `work` on it. The work is not waited for: it goes on
 * (handing the thread back now and then, as the local walk does) while ssh connects, the pair is opened and
 * the far side is asked to scan. Its result is null if it failed: the caller then does that work itself.
 */
async function startEarly<T>(
  o: PairOptions,
  opening: RemoteOpening,
  guess: RemoteRootFacts,
  work: (p: EarlyPair) => Promise<T>,
): Promise<{ half: LocalHalf; result: Promise<T | null> } | null> {
  const facts = opening.guessed(guess);
  const localSide = otherSide(opening.remote);
  let half: LocalHalf;
  try {
    // no waiting for the lock on a guess: a busy lock is waited for (or reported) by the pair opened for real
    half = await openLocalHalf(o, facts.roots, { [localSide]: opening.localEndpoint }, 0);
  } catch {
    return null;
  }
  const h = half;
  const root = (side: Side): AbsPath => (side === 'left' ? facts.roots.left : facts.roots.right);
  // a failure (or the half closed under it, when the guess proves wrong) is a null result, never an unhandled rejection
  const result = (async () =>
    work({
      ...facts,
      store: h.store,
      get base() {
        return h.base();
      },
      localSide,
      localEndpoint: opening.localEndpoint,
      root,
    }))().catch(() => null);
  return { half, result };
}

/** What a pair holds on this machine: its lock, its index, and the base loaded from it. */
interface LocalHalf {
  readonly lock: PairLock;
  readonly store: StateStore;
  /** From opening the index, and from settling the owed flush. */
  readonly warnings: string[];
  /** How many paths the index held when the pair was opened (known without loading the base). */
  indexedPaths(): number;
  /** Loaded on first use. */
  base(): BaseTable;
  /**
   * The far side's part of the owed flush, once the far endpoint is open (deferred-flush.ts OwedSettling);
   * nothing when there is none. Rows taken back there make the base and the count be read again.
   */
  settleFarPart(endpoints: Readonly<Record<Side, Endpoint>>): Promise<void>;
  /** The local flush made beside the walk (PairOptions.overlapOwedFlush), once it has ended (true: rows taken back); false when there is none. */
  settleInFlight(): Promise<boolean>;
  /** Closes the index and releases the lock. */
  close(): void;
}

async function openLocalHalf(o: PairOptions, roots: ResolvedRoots, endpoints: Partial<Record<Side, Endpoint>>, lockWaitSeconds: number): Promise<LocalHalf> {
  let lock: PairLock = { release: () => undefined };
  let store: StateStore | null = null;
  try {
    ensureStateDir(o.stateDir);
    if (!o.dryRun) lock = await acquirePairLock(o.stateDir, roots.left, roots.right, lockWaitSeconds);
    const opened = StateStore.open(o.stateDir, roots.left, roots.right);
    store = opened.store;
    if (!o.dryRun) store.ensureWritable();
    // before the base is trusted: the flush the last run left owed is made, or its rows are taken back
    // (a far side's part waits for the far endpoint: settleFarPart)
    const owed = await settleOwedFlush({ store, endpoints, dryRun: o.dryRun, overlap: o.overlapOwedFlush === true });
    const s = store;
    const l = lock;
    const warnings = [opened.warning, owed.warning].filter((w): w is string => w !== null);
    let farPart = owed.farPart;
    let inFlight = owed.inFlight;
    let base: BaseTable | null = null;
    let indexed: number | null = null;
    const adopt = (settled: SettledLate): void => {
      if (settled.warning !== null) warnings.push(settled.warning);
      if (settled.lost) {
        base = null;
        indexed = null;
      }
    };
    return {
      lock,
      store,
      warnings,
      indexedPaths: () => {
        indexed ??= s.countBase();
        return indexed;
      },
      base: () => {
        base ??= s.loadBase();
        return base;
      },
      settleFarPart: async (all) => {
        if (farPart === null) return;
        const settled = await farPart(all);
        farPart = null;
        adopt(settled);
      },
      settleInFlight: async () => {
        if (inFlight === null) return false;
        const settled = await inFlight;
        inFlight = null;
        adopt(settled);
        return settled.lost;
      },
      close: () => {
        try {
          s.close();
        } finally {
          l.release();
        }
      },
    };
  } catch (e) {
    store?.close();
    lock.release();
    throw e;
  }
}

/** The pair on its opened sides: the local half opened here unless it was while ssh connected, then the far lock and the guards. */
async function pairOn(o: PairOptions, sides: OpenedSides, prepared: LocalHalf | null): Promise<OpenPair> {
  const { roots, endpoints } = sides;
  const closeEndpoints = async (): Promise<void> => {
    // a local endpoint holds nothing between runs (its run state is closed by the executor); a remote one ends its session
    await Promise.allSettled([endpoints.left.close(), endpoints.right.close()]);
  };
  let half = prepared;
  try {
    half ??= await openLocalHalf(o, roots, endpoints, o.waitSeconds);
    await half.settleFarPart(endpoints);
    if (!o.dryRun) await sides.lockRemote();
    if (o.mode === 'two-way') guardMissingRoots(roots, half.indexedPaths(), o.force);
  } catch (e) {
    half?.close();
    await closeEndpoints();
    throw e;
  }
  const h = half;
  const probed: Partial<Record<'left' | 'right', bigint>> = {};
  return {
    racyWindowNs: async (side, willWrite) => {
      const known = probed[side];
      if (known !== undefined) return known;
      if (!willWrite) return RACY_WINDOW_NS;
      // asked once the run is about to write, i.e. after a missing root has been created
      const fine = await endpoints[side].hasFineCtime();
      probed[side] = fine ? 0n : RACY_WINDOW_NS;
      return probed[side];
    },
    roots,
    endpoints,
    remote: sides.remote,
    xattrsUnavailable: sides.xattrsUnavailable,
    remoteChownRefused: sides.remoteChownRefused,
    store: h.store,
    get base() {
      return h.base();
    },
    get indexedPaths() {
      return h.indexedPaths();
    },
    warnings: h.warnings,
    root: (side) => (side === 'left' ? roots.left : roots.right),
    owedFlushSettled: () => h.settleInFlight(),
    close: async () => {
      try {
        // a flush still under way (the run ended before it asked) ends before the index closes: it clears the marks there
        await h.settleInFlight().catch(() => undefined);
        await closeEndpoints();
      } finally {
        h.close();
      }
    },
  };
}

/**
 * Two-way: a root that is gone is an unmounted disk until proven otherwise. With a base, propagating
 * its absence would delete everything on the other side: halt. Without one, it is simply a bad argument.
 */
function guardMissingRoots(roots: ResolvedRoots, indexedPaths: number, force: boolean): void {
  for (const [missing, text] of [
    [roots.leftMissing, roots.leftText],
    [roots.rightMissing, roots.rightText],
  ] as const) {
    if (!missing) continue;
    // Still refused, not created: a missing root may be a disk that is not mounted yet. Say what a first sync needs.
    if (indexedPaths === 0) throw new RootError(`${text} does not exist; create it first (mkdir -p ${shellQuoted(text)}) if this is the first sync`);
    if (!force)
      throw new SafetyHaltError(`${text} is missing but held ${indexedPaths} entries at the last sync; refusing to propagate that (an unmounted disk?); use --force if it is really meant`);
  }
}

/** A path as it can be pasted into a POSIX shell. */
function shellQuoted(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
