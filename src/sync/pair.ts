import type { AbsPath, BaseRecord, RelPath, Side } from '../core/types.js';
import { RACY_WINDOW_NS } from '../core/stat-cache.js';
import type { Endpoint } from '../endpoint/endpoint.js';
import { RootError, SafetyHaltError } from '../errors.js';
import { acquirePairLock, type PairLock } from '../store/lock.js';
import { ensureStateDir, StateStore } from '../store/store.js';
import { settleOwedFlush } from './deferred-flush.js';
import { openSides } from './open-sides.js';
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
  /** Releases the lock, closes the index and ends a remote side's session. */
  close(): Promise<void>;
}

export async function openPair(o: PairOptions): Promise<OpenPair> {
  const sides = await openSides(o);
  const { roots, endpoints } = sides;
  const closeEndpoints = async (): Promise<void> => {
    // a local endpoint holds nothing between runs (its run state is closed by the executor); a remote one ends its session
    await Promise.allSettled([endpoints.left.close(), endpoints.right.close()]);
  };
  let lock: PairLock = { release: () => undefined };
  let store: StateStore | null = null;
  try {
    ensureStateDir(o.stateDir);
    if (!o.dryRun) {
      lock = await acquirePairLock(o.stateDir, roots.left, roots.right, o.waitSeconds);
      await sides.lockRemote();
    }
    const opened = StateStore.open(o.stateDir, roots.left, roots.right);
    store = opened.store;
    if (!o.dryRun) store.ensureWritable();
    // before the base is trusted: the flush the last run left owed is made, or its rows are taken back
    const owedWarning = await settleOwedFlush({ store, endpoints, remote: sides.remote, rootOf: (side) => (side === 'left' ? roots.left : roots.right), dryRun: o.dryRun });
    const indexedPaths = store.countBase();
    if (o.mode === 'two-way') guardMissingRoots(roots, indexedPaths, o.force);
    const s = store;
    let base: Map<RelPath, BaseRecord> | null = null;
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
      store: s,
      get base() {
        base ??= s.loadBase();
        return base;
      },
      indexedPaths,
      warnings: [opened.warning, owedWarning].filter((w): w is string => w !== null),
      root: (side) => (side === 'left' ? roots.left : roots.right),
      close: async () => {
        try {
          await closeEndpoints();
          s.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    store?.close();
    lock.release();
    await closeEndpoints();
    throw e;
  }
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
