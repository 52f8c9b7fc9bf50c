import { timing } from '../runtime/timings.js';
import { emptyWritten, flushStrategyOf, writtenSides, type WrittenPaths, type WrittenSide } from '../core/written-paths.js';
import type { Side } from '../core/types.js';
import type { CacheStamp, Endpoint } from '../endpoint/endpoint.js';
import type { StateStore } from '../store/store.js';
import type { OwedFlush, OwedSide } from '../store/unflushed.js';
import { currentBootId } from '../fs/boot-id.js';

/**
 * When what a run wrote is made durable:
 * - 'now': before the index commits (the flush is waited for: `--flush-now`, and every watch batch);
 * - 'owed': the index commits at once and records the flush as owed; the next run on the pair settles it
 *   before it trusts the base (the default of a one-shot `sync` and `apply`);
 * - 'off': never (`--no-fsync`).
 *
 * Why 'owed' never lets the index vouch for data a power cut could take back.
 *
 * The commit that owes a flush marks what it changed: each row it upserts carries the run's generation,
 * each row it removes is kept aside as it was (store/unflushed.ts), and one row holds the boot id and,
 * per written side, the mount that held the root and what to flush (the paths of a targeted flush, or
 * "syncfs"). Before the next run on the pair loads its base (pair.ts, under the pair lock):
 * - Same boot id and the same mounts: no power cut and no unmount can have happened since, so the page
 *   cache still holds every write (what it has not written back yet it will); the run makes the owed
 *   flush (the same targeted fsyncs or syncfs the old run would have made) and only then clears the
 *   marks. Until the marks are cleared the index vouches for nothing that is not in the page cache of
 *   this boot, which every reader of the trees sees. A `sync` of local roots makes that flush while it
 *   walks them (settleOwedFlush's `overlap`): it may load the base and read the trees meanwhile, since
 *   what it reads is that page cache, and it acts on nothing before the flush has ended (run-loop.ts).
 * - Another boot id, a boot id that cannot be read, another mount, or a flush that failed: the run's
 *   writes may be torn or undone in any way a power cut allows. The marked rows are dropped and the
 *   removed rows put back, in one transaction. The index is then, path by path, what it was before that
 *   run committed, except that a path the run upserted has no row at all instead of its old one.
 *
 * That is the case already argued (docs/RELIABILITY.md, and the README's "How it works"): a run stopped
 * before its index commit, by a kill or by a power cut. A power cut in the middle of a run can leave the
 * run's writes in exactly the states a power cut after its commit can (writeback is the same process,
 * before or after the commit), and the next run then met the previous base. Here it meets that base,
 * weakened where the run wrote: a path without a row has no history, so the next run infers neither an
 * edit nor a deletion there; equal contents on both sides are adopted after hashing, differing ones go
 * to the conflict policy (two-way: both versions kept, the loser in the trash or as a conflict copy) or,
 * one way, the source's version is copied over the replica's (the replica's kept in its trash). A torn
 * file is therefore never taken for an edit and never propagated over the good version. Each kind of write:
 * - a file installed (a rename over a temp file): torn, old or new, or missing; no row, so compared as above.
 * - a directory made: it may be gone on that side; no row, so it is made again, never taken for a deletion.
 * - a delete, or a move into `.tsync/trash`: the rename or unlink may be undone; the restored row is the
 *   version the run removed (the resurrected entry is that inode, unchanged), so the deletion is carried
 *   out again, as after a run killed before its commit; a trash folder that lost its entry loses nothing,
 *   since the entry is back at its path.
 * - an overwrite with the trash on (the old version linked into the trash, then the rename): any mix of
 *   the two survives; no row, so the two sides are compared and nothing is overwritten without a copy kept.
 * - a hard link made: its name may be gone, or the target's inode never written; no row for the path.
 * - a removed directory: its row and its children's rows come back; what reappeared is deleted again.
 * - the index's own commit (WAL, synchronous=NORMAL) may be lost too: then the index is exactly the one
 *   before the run, the case itself. The settling commit may be lost: the marks come back, and are then
 *   settled as lost (conservative: no history where there was some).
 * At most one run's flush is ever owed: every run that commits settles the earlier one when it opens the pair.
 * Rows no run changed keep vouching: they were vouched for by a run whose flush was settled.
 *
 * A remote side owes its flush the same way, stamped with the far machine's boot id and the far mount of
 * its root (the agent reads them there, Endpoint.cacheStamp): its writes wait in the far machine's page
 * cache, and the argument above holds there word for word. The index's own commit waits in this machine's,
 * so this machine's boot id must be the same too. The next run settles it once the far side has connected
 * (the agent makes the owed fsyncs or syncfs there), or takes the rows back if the far machine restarted.
 * A watch batch is flushed now (the watch keeps running: there is no next open).
 */
export type Durability = 'now' | 'owed' | 'off';

export function durabilityOf(flush: boolean, flushNow: boolean): Durability {
  if (!flush) return 'off';
  return flushNow ? 'now' : 'owed';
}

/** Where each written side's writes wait until flushed (Endpoint.cacheStamp; a remote side's is the far machine's). */
export type CacheStamps = Readonly<Partial<Record<Side, CacheStamp | null>>>;

/** The cache stamps of the sides `written` touched, asked of their endpoints (one round trip for a remote side). */
export async function cacheStampsOf(endpoints: Readonly<Record<Side, Endpoint>>, written: WrittenPaths): Promise<CacheStamps> {
  const stamps: Partial<Record<Side, CacheStamp | null>> = {};
  for (const side of writtenSides(written)) stamps[side] = await endpoints[side].cacheStamp();
  return stamps;
}

/** Which written sides must be flushed now, and the flush the others owe (null: nothing is owed). */
export function owedFlushOf(written: WrittenPaths, stamps: CacheStamps, rootsMade: Readonly<Record<Side, boolean>>): { readonly now: WrittenPaths; readonly owed: OwedFlush | null } {
  const now: Record<Side, WrittenSide> = { ...emptyWritten() };
  // this machine's boot: the index's own commit waits in its page cache (the record's boot id)
  const bootId = currentBootId();
  const sides: Partial<Record<Side, OwedSide>> = {};
  for (const side of writtenSides(written)) {
    const w = written[side];
    const stamp = stamps[side] ?? null;
    if (bootId === null || stamp === null) {
      now[side] = w;
      continue;
    }
    const paths = flushStrategyOf(w) === 'targeted' ? { inodes: [...w.inodes], dirs: [...w.dirs] } : null;
    sides[side] = { rootMade: rootsMade[side], mount: stamp.mount, bootId: stamp.bootId, paths };
  }
  const owed = bootId === null || Object.keys(sides).length === 0 ? null : { bootId, sides };
  return { now, owed };
}

/** What settling asks of the index: the owed flush, and its settlement. */
export type OwedStore = Pick<StateStore, 'owedFlush' | 'settleOwedFlush'>;
/** What settling asks of a side's endpoint: where its writes wait, and its flushes. */
export type FlushingEndpoint = Pick<Endpoint, 'isLocal' | 'cacheStamp' | 'flush' | 'flushFileSystem'>;

/** What the pair opening needs to settle a flush owed by the last run. */
export interface OwedContext {
  readonly store: OwedStore;
  /** The sides' endpoints; the far one is absent while ssh connects (then its part waits, see OwedSettling). */
  readonly endpoints: Readonly<Partial<Record<Side, FlushingEndpoint>>>;
  /** A dry run reads only: in the same boot it leaves the flush owed (the page cache serves its reads). */
  readonly dryRun: boolean;
  /**
   * The caller walks the roots while a local flush goes on, and waits for it (OwedSettling.inFlight) before it
   * acts on the base: the flush is then made beside the walk instead of before it.
   */
  readonly overlap?: boolean;
}

/** How a flush made beside the walk ended: its warning, and whether the rows were taken back (the base must then be read again). */
export interface SettledLate {
  readonly warning: string | null;
  readonly lost: boolean;
}

/** How far settling got before the base is loaded. */
export interface OwedSettling {
  /** For the run to print, or null. */
  readonly warning: string | null;
  /**
   * Null when it is settled. Otherwise the owed flush includes the far side, whose endpoint is not open yet,
   * and everything this machine can check held (its boot, the local roots' mounts): the far side's part is
   * done by calling this once it has connected. Until then the base may be read but the run must not act
   * on it; `lost` says the rows were taken back (the base must then be read again).
   */
  readonly farPart: ((endpoints: Readonly<Record<Side, FlushingEndpoint>>) => Promise<SettledLate>) | null;
  /**
   * Null when it is settled (or waits for the far part). Otherwise (OwedContext.overlap, every owed side local, this
   * boot and these mounts checked) the flush and the clearing of the marks are under way: the base may be read and
   * the roots walked meanwhile, but the run must not act on the base before this has ended. It never rejects
   * before the caller awaits it (a rejection is the caller's error then, as a failed settle at the open was).
   */
  readonly inFlight: Promise<SettledLate> | null;
}

/**
 * Settles the flush the last run owes, before the base is loaded: made and cleared, or (another boot
 * here or on the far machine, another mount, a failed flush) the run's rows taken back.
 *
 * Why a local walk made while the far part waits stays true when that part then finds the rows lost:
 * what a walk takes from the base is a local file's hash, when the file's inode, size and times are still
 * those a row recorded. This machine's boot is the one the rows were recorded in (checked here first), so
 * the page cache holds what the last run wrote or read on this side, and the recorded hash is the
 * content. A lost far side takes back what the rows say of the far files, not of these.
 */
export async function settleOwedFlush(c: OwedContext): Promise<OwedSettling> {
  const owed = c.store.owedFlush();
  if (owed === null) return { warning: null, farPart: null, inFlight: null };
  const present: Partial<Record<Side, FlushingEndpoint>> = {};
  let waiting = false;
  for (const side of ['left', 'right'] as const) {
    if (owed.sides[side] === undefined) continue;
    const endpoint = c.endpoints[side];
    if (endpoint === undefined) waiting = true;
    else present[side] = endpoint;
  }
  const why = await whyLost(owed, present);
  if (why !== null) return { warning: takeBack(c.store, owed, why), farPart: null, inFlight: null };
  if (!waiting && c.overlap === true && !c.dryRun && Object.values(present).every((e) => e.isLocal)) {
    // Why acting is all that must wait. The boot and the mounts were checked just now, so every write the last
    // run made is in this boot's page cache or on disk, and a walk that reads the files sees it (the argument
    // for a local walk beside the far part, above, word for word). Acting is what must not happen on rows that
    // a failed flush then takes back, and the marks are cleared only once the flush has ended, as before.
    const inFlight = (async (): Promise<SettledLate> => {
      const warning = await flushAndSettle(c, owed, present);
      return { warning, lost: warning !== null };
    })();
    // a rejection stays the awaiting caller's; this only keeps it from being unhandled meanwhile
    inFlight.catch(() => undefined);
    return { warning: null, farPart: null, inFlight };
  }
  if (!waiting) return { warning: await flushAndSettle(c, owed, present), farPart: null, inFlight: null };
  return {
    warning: null,
    inFlight: null,
    farPart: async (endpoints) => {
      const farWhy = await whyLost(owed, endpoints);
      if (farWhy !== null) return { warning: takeBack(c.store, owed, farWhy), lost: true };
      const warning = await flushAndSettle(c, owed, endpoints);
      return { warning, lost: warning !== null };
    },
  };
}

/** Flushes what is owed and clears the marks; a failed flush takes the rows back (its warning is returned). */
async function flushAndSettle(c: OwedContext, owed: OwedFlush, endpoints: Partial<Record<Side, FlushingEndpoint>>): Promise<string | null> {
  if (c.dryRun) return null;
  if (!(await flushOwed(owed, endpoints))) return takeBack(c.store, owed, 'their flush failed');
  c.store.settleOwedFlush('flushed', owed.bootId);
  return null;
}

function takeBack(store: OwedStore, owed: OwedFlush, why: string): string {
  const { dropped, restored } = store.settleOwedFlush('lost', owed.bootId);
  return `the last run's writes may not have reached the disk (${why} before they were flushed): ${dropped} paths it recorded are compared afresh, without history, and ${restored} deletions are checked again`;
}

/** Null when every write the owed run made on the sides given is still in the page cache it was made in (or on disk); else why not. */
async function whyLost(owed: OwedFlush, endpoints: Partial<Record<Side, FlushingEndpoint>>): Promise<string | null> {
  if (currentBootId() !== owed.bootId) return 'the machine restarted';
  for (const side of ['left', 'right'] as const) {
    const s = owed.sides[side];
    const endpoint = endpoints[side];
    if (s === undefined || endpoint === undefined) continue;
    const now = await endpoint.cacheStamp();
    if (now === null || now.bootId !== (s.bootId ?? owed.bootId)) return endpoint.isLocal ? 'the machine restarted' : 'the remote machine restarted';
    if (s.mount === null || now.mount !== s.mount) return 'a root was unmounted';
  }
  return null;
}

async function flushOwed(owed: OwedFlush, endpoints: Partial<Record<Side, FlushingEndpoint>>): Promise<boolean> {
  try {
    for (const side of ['left', 'right'] as const) {
      const s = owed.sides[side];
      const endpoint = endpoints[side];
      if (s === undefined || endpoint === undefined) continue;
      const lines = s.paths === null ? await endpoint.flushFileSystem() : await endpoint.flush({ inodes: new Set(s.paths.inodes), dirs: new Set(s.paths.dirs) }, s.rootMade);
      for (const line of lines) timing(`owed flush ${side}: ${line}`);
    }
    return true;
  } catch (e) {
    timing(`owed flush failed: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}
