import PQueue from 'p-queue';
import { trashFoldersAhead } from '../core/trash-folders.js';
import { isParallelPhase, PHASES, phaseOf } from '../core/order.js';
import { displayPath } from '../core/paths.js';
import { withEntry } from '../core/scanned.js';
import { Outcomes } from '../core/outcomes.js';
import type { Action, CopyAction, Expectation, KeptMeta, Outcome, PathRecord, Problem, RelPath, ScannedEntry, Side } from '../core/types.js';
import type { Copied, Endpoint, Installed } from '../endpoint/endpoint.js';
import { errCode } from '../fs/stat.js';
import { loadHasher } from '../hash/xxhash.js';
import { NO_XATTRS } from './apply-meta.js';
import { SMALL_FILE_MAX, sameStat, SourceChangedError, SourceReadError } from './copy-file.js';
import { StaleTargetError, UnsafePathError } from './guards.js';
import { copyByDelta, deltaApplies } from './delta-copy.js';
import { copyLocally } from './local-copy.js';
import { transferred } from './stream-copy.js';
import { BATCHES_IN_FLIGHT, type BatchCopied, batchingAllowed, copyBatch, intoBatches, isBatchable } from './batch-copy.js';
import { type WorkerMode, workerModeFromEnv } from '../runtime/worker-mode.js';
import { CopyWorker, copyWorkerPays, directoryRunsOf, worksInCopyWorker } from './copy-in-worker.js';
import { copyRun, SmallCopyBatcher } from './small-copy-batch.js';
import type { CopyJobResult } from './copy-worker-protocol.js';
import { errorFromFields } from './error-fields.js';
import { type CopiesShared, runsOf, shareCopies } from './shared-copies.js';
import { monotonicMs } from '../runtime/clock.js';

export interface ExecuteOptions {
  /** The two sides: every read and write goes through them (endpoint/endpoint.ts). */
  readonly endpoints: Readonly<Record<Side, Endpoint>>;
  /** Parallel operations for large files; small ones are copied synchronously (copy-file.ts). */
  readonly concurrency: number;
  /** Per side, how recent a ctime must be to count as racy (fs/ctime-probe.ts). */
  readonly racyWindowNs: Readonly<Record<Side, bigint>>;
  /** Per side, the run's trash folder name (null: --no-trash, or a side never written). */
  readonly trashStamp: Readonly<Record<Side, string | null>>;
  readonly onOutcome?: (o: Outcome) => void;
  /**
   * Whether the outcomes returned keep the records of applied actions (default: yes). A caller that takes
   * the records from onOutcome as they come (sync/cycle.ts) says no: a run of 100k copies then does not
   * hold 100k pairs of scanned entries to its end (issue 11). Outcomes that were not applied keep theirs.
   */
  readonly keepRecords?: boolean;
  /** Once aborted (Ctrl-C), no new action starts: the run ends with the outcomes of those that ran. */
  readonly stopSignal?: AbortSignal;
  /** Owner, group and xattrs copied along (default: none). */
  readonly keep?: KeptMeta;
  /** Owner or group was asked for but this process may not chown: copying another user's entry says so once. */
  readonly chownRefused?: boolean;
  /** Says what could not be kept, once per run (engine/apply-meta.ts). */
  readonly warn?: (message: string) => void;
}

export interface ExecuteResult {
  readonly outcomes: Outcomes;
  readonly bytes: number;
  /** Small copies made on each thread when a copy worker took a share (shared-copies.ts), for TSYNC_TIMINGS and tests. */
  readonly copiesShared?: CopiesShared;
}

/**
 * TEST HOOK: TSYNC_STREAM_COPIES=1 sends every copy between the sides through openRead and install (the
 * path a remote side takes) even when both sides are local, so that the e2e suites prove that path
 * (vitest.config.ts, project `stream`). Without it, two local sides copy with the kernel (copy-file.ts).
 */
function streamForced(): boolean {
  return process.env.TSYNC_STREAM_COPIES === '1';
}

/**
 * Concurrency for small streamed copies and for deletes, directories and metadata (a side is remote): each waits
 * for the far side's answer and costs it little, so many must be in flight at once for the pipe to stay full.
 * Large copies keep the run's --concurrency.
 */
const STREAMED_CONCURRENCY = 32;

/**
 * Carries out a plan phase by phase (core/order.ts): deletes, conflict units, directories top-down,
 * copies, then metadata (directories deepest first). Each action is independent: a failure becomes
 * an outcome, never an abort.
 */
export async function executePlan(actions: readonly Action[], opts: ExecuteOptions): Promise<ExecuteResult> {
  const outcomes = new Outcomes();
  // nothing to write: the sides' runs are not begun (to a remote side, beginRun and endRun were two round trips
  // of every no-op run and of every watch cycle that found nothing to do)
  if (actions.length === 0) return { outcomes, bytes: 0 };
  let bytes = 0;
  const copyMode = workerModeFromEnv('TSYNC_COPY_WORKER');
  const { left, right } = opts.endpoints;
  const streamed = streamForced() || !left.isLocal || !right.isLocal;
  const queue = new PQueue({ concurrency: opts.concurrency });
  // small streamed copies get a wider queue of their own; large ones keep --concurrency (they fill the pipe alone)
  const smallQueue = streamed ? new PQueue({ concurrency: Math.max(opts.concurrency, STREAMED_CONCURRENCY) }) : null;
  // copies (conflict copies too) hash what they write: load the hasher once, before the first of them
  if (actions.some((a) => a.type === 'copy' || a.type === 'conflict')) await loadHasher();
  const keep = opts.keep ?? { owner: false, group: false, xattrs: false };
  const chownRefused = opts.chownRefused === true;
  const ctx = new ActionContext(opts.endpoints, streamed, keep, chownRefused, opts.trashStamp);
  const stop = opts.stopSignal;
  const letSignalsIn = stop === undefined ? null : eventLoopTurns(SIGNAL_CHECK_MS);
  const kept = opts.keepRecords === false ? withoutAppliedRecords : (o: Outcome): Outcome => o;
  const record = ({ outcome, copied }: Applied): void => {
    bytes += copied;
    outcomes.push(kept(outcome));
    opts.onOutcome?.(outcome);
  };
  const run = async (a: Action): Promise<void> => {
    await letSignalsIn?.();
    if (stop?.aborted === true) return; // not started: no outcome, so its path keeps its old record
    record(await applyAction(a, ctx));
  };
  // small streamed copies travel in batches (batch-copy.ts): one request per batch each way, not per file
  const batchQueue = streamed && batchingAllowed() ? new PQueue({ concurrency: BATCHES_IN_FLIGHT }) : null;
  const runBatch = async (batch: readonly CopyAction[]): Promise<void> => {
    await letSignalsIn?.();
    if (stop?.aborted === true) return;
    for (const r of await copyBatch(batch, { endpoints: opts.endpoints, keep, chownRefused })) record(appliedInBatch(r));
  };
  const sides: Side[] = ['left', 'right'];
  for (const side of sides) {
    const trashStamp = opts.trashStamp[side];
    // a far side's agent runs without the addon (only the xattr one is offered to it), so the list is not sent there
    const trashFolders = trashStamp === null || !opts.endpoints[side].isLocal ? [] : trashFoldersAhead(actions, side);
    await opts.endpoints[side].beginRun({ trashStamp, ...(trashFolders.length === 0 ? {} : { trashFolders }), keep, chownRefused, racyWindowNs: opts.racyWindowNs[side] });
  }
  // started before the first phase, so that it loads while the deletes and directories are made
  const worker = streamed ? null : startCopyWorker(actions, opts, copyMode, keep, chownRefused);
  let copiesShared: CopiesShared | undefined;
  // new small files are copied a directory at a time where the addon is in use (small-copy-batch.ts), on this
  // thread as in the worker
  const batchesHere = streamed ? null : SmallCopyBatcher.create();
  const runOfCopies = async (list: readonly CopyAction[], batcher: SmallCopyBatcher): Promise<void> => {
    const first = list[0];
    const src = first === undefined ? null : opts.endpoints[first.target === 'left' ? 'right' : 'left'].direct();
    const dst = first === undefined ? null : opts.endpoints[first.target].direct();
    await letSignalsIn?.();
    if (stop?.aborted === true) return;
    if (src === null || dst === null) {
      for (const a of list) await run(a);
      return;
    }
    await copyRun(
      batcher,
      { src, dst },
      list,
      (a) => a,
      run,
      (a, r) => record(appliedByWorker(a, r)),
    );
  };
  // small local copies: on this thread one after another (new ones in batches), or shared with the copy worker (shared-copies.ts)
  // (`list` is walked with a test rather than filtered into a second array: at 100k files it held 100k entries more)
  const copyDirect = async (list: readonly Action[], isDirect: (a: Action) => boolean): Promise<void> => {
    if (worker === null && batchesHere === null) {
      for (const a of list) if (isDirect(a)) await run(a);
      return;
    }
    const shareable = (a: Action): a is CopyAction => isDirect(a) && a.type === 'copy' && worksInCopyWorker(a);
    for (const a of list) if (isDirect(a) && !shareable(a)) await run(a);
    if (worker === null) {
      const batcher = batchesHere;
      if (batcher !== null) for (const r of runsOf(list, shareable)) await runOfCopies(r, batcher);
      return;
    }
    const hereRun = batchesHere === null ? undefined : (r: readonly CopyAction[]) => runOfCopies(r, batchesHere);
    const got = await shareCopies(list, shareable, { worker, here: run, hereRun, took: (a, r) => record(appliedByWorker(a, r)), stopping: () => stop?.aborted === true });
    copiesShared = { here: (copiesShared?.here ?? 0) + got.here, worker: (copiesShared?.worker ?? 0) + got.worker };
  };
  try {
    for (const phase of PHASES) {
      const list = actions.filter((a) => phaseOf(a) === phase);
      if (isParallelPhase(phase)) {
        const batched = batchQueue === null ? [] : list.filter(isBatchable);
        for (const batch of intoBatches(batched)) void batchQueue?.add(() => runBatch(batch));
        const inBatches = new Set<Action>(batched);
        // Small local copies run to their rename without yielding (copy-file.ts): queueing them would add a
        // scheduling round per file and no parallelism. The large ones go to the queue first, so their
        // kernel copies proceed on the thread pool while the small ones are copied here. Streamed copies
        // all go to the queue: each waits on the other end, and one at a time would be a round trip per file.
        const isDirect = smallQueue === null ? runsToCompletion : (): boolean => false;
        for (const a of list) {
          if (inBatches.has(a)) continue;
          if (smallQueue !== null && (runsToCompletion(a) || isMetadataOnly(a))) void smallQueue.add(() => run(a));
          else if (!runsToCompletion(a)) void queue.add(() => run(a));
        }
        await copyDirect(list, isDirect);
        await Promise.all([queue.onIdle(), smallQueue?.onIdle(), batchQueue?.onIdle()]);
      } else if (streamed && (phase === 'mkdirs' || phase === 'dir-metas')) {
        // Across a link each of these is a round trip, and one after another they cost a trip per directory. Run a
        // depth at a time instead (top-down for mkdirs, deepest first for metas, the order the serial loop keeps):
        // directories of one depth are none the parent of another, so they run in parallel, and every parent is
        // still made before its children and given its final mode only after them (a mode without x set on a
        // parent first would bar an unprivileged agent from its children).
        const wide = smallQueue ?? queue;
        for (const level of byDepth(list, phase === 'dir-metas')) {
          for (const a of level) void wide.add(() => run(a));
          await wide.onIdle();
        }
      } else {
        for (const a of list) await run(a);
      }
    }
  } finally {
    // the worker's run first: the main thread's runs end after every copy made on these roots
    const warned = new Set<string>(worker === null ? [] : await worker.end());
    for (const side of sides) for (const message of await opts.endpoints[side].endRun()) warned.add(message);
    for (const message of warned) opts.warn?.(message);
  }
  return copiesShared === undefined ? { outcomes, bytes } : { outcomes, bytes, copiesShared };
}

/**
 * A copy worker for a run between two local roots with enough copies it may take (copy-in-worker.ts), or null.
 * A worker that cannot be started is no failure: the main thread copies everything, as it always could.
 */
function startCopyWorker(actions: readonly Action[], opts: ExecuteOptions, mode: WorkerMode, keep: KeptMeta, chownRefused: boolean): CopyWorker | null {
  const left = opts.endpoints.left.direct();
  const right = opts.endpoints.right.direct();
  if (left === null || right === null) return null;
  const shareablePaths = function* (): Generator<RelPath> {
    for (const a of actions) if (a.type === 'copy' && worksInCopyWorker(a)) yield a.path;
  };
  let shareable = 0;
  for (const _ of shareablePaths()) shareable++;
  if (!copyWorkerPays(mode, shareable)) return null;
  try {
    const setup = { roots: { left: left.root, right: right.root }, keep, chownRefused, racyWindowNs: opts.racyWindowNs };
    return new CopyWorker(setup, directoryRunsOf(shareablePaths()));
  } catch {
    return null;
  }
}

/**
 * A copy the worker or a batch (small-copy-batch.ts) made, or why it did not, as the outcome of its action (as
 * applyAction makes them for a copy).
 */
function appliedByWorker(a: CopyAction, r: CopyJobResult | { readonly error: Error }): Applied {
  if ('ok' in r) {
    const got = r.ok;
    // the source's stat as this thread holds it, where it is the same (as copy-file.ts finish shares it): the
    // worker's copy of it would be a second set of BigInts per file, kept in the base records to the run's end
    const scanned = a.source.stat;
    const source = sameStat(got.source.stat, scanned) ? { entry: got.source.entry, stat: scanned, observedAtNs: got.source.observedAtNs } : got.source;
    return { outcome: { action: a, status: 'applied', records: [recordFor(a.path, a.target, source, got.target)] }, copied: got.bytes };
  }
  const e = r.error instanceof Error ? r.error : errorFromFields(r.error);
  return { outcome: failure(a, e, a.target, displayPath(a.path)), copied: 0 };
}

/** The actions grouped by the depth of their paths, shallowest first (or deepest first), each group in list order. */
function byDepth(list: readonly Action[], deepestFirst: boolean): Action[][] {
  const levels = new Map<number, Action[]>();
  for (const a of list) {
    const depth = slashesIn(a.path);
    const level = levels.get(depth);
    if (level === undefined) levels.set(depth, [a]);
    else level.push(a);
  }
  return [...levels.keys()].sort((x, y) => (deepestFirst ? y - x : x - y)).map((d) => levels.get(d) ?? []);
}

function slashesIn(path: string): number {
  let n = 0;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) n++;
  return n;
}

/** An applied outcome without its records (see ExecuteOptions.keepRecords). */
function withoutAppliedRecords(o: Outcome): Outcome {
  if (o.status !== 'applied' || o.records === undefined) return o;
  const { records: _records, ...rest } = o;
  return rest;
}

/** How long the actions may run without a turn of the event loop when a stop can be asked for. */
const SIGNAL_CHECK_MS = 20;

/**
 * Small copies and the serial phases never wait for I/O, so the event loop, where a Ctrl-C handler
 * runs, would not turn until a whole phase is done. This lets it turn (one setImmediate) when more than
 * `everyMs` have passed since the last turn: a stop is seen within that much time, at almost no cost.
 */
function eventLoopTurns(everyMs: number): () => Promise<void> {
  let last = monotonicMs();
  return async () => {
    if (monotonicMs() - last < everyMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = monotonicMs();
  };
}

/** A delete of a file or link, or metadata set in place: no file data travels, whatever its size. */
function isMetadataOnly(a: Action): boolean {
  return a.type === 'delete' || a.type === 'meta';
}

/** A copy of a symlink or of a file small enough to be copied with synchronous calls. */
function runsToCompletion(a: Action): boolean {
  if (a.type !== 'copy') return false;
  const e = a.source.entry;
  return e.kind === 'symlink' || (e.kind === 'file' && e.size <= SMALL_FILE_MAX);
}

interface Applied {
  readonly outcome: Outcome;
  readonly copied: number;
}

/** What every action of a run shares: the two sides, and how copies between them travel. */
class ActionContext {
  constructor(
    readonly endpoints: Readonly<Record<Side, Endpoint>>,
    /** Copies between the sides go through openRead and install (a remote side, or the test hook). */
    private readonly streamed: boolean,
    private readonly keep: KeptMeta,
    private readonly chownRefused: boolean,
    private readonly trashStamp: Readonly<Record<Side, string | null>>,
  ) {}

  hasTrash(side: Side): boolean {
    return this.trashStamp[side] !== null;
  }

  /**
   * Fixes metadata in place to the action's (possibly merged, core/merge-meta.ts) entry. xattr values are
   * not in the entry (only their digest): the other side's are read and sent along (the target keeps its
   * own instead where they hold the merged digest).
   */
  async setMeta(side: Side, path: RelPath, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry> {
    const e = source.entry;
    // none wanted ('' is the digest of no attributes): the target is given none without a read of the other side's,
    // as copyEntry does; what a read could find is a change made since the scan, which the next run sees by its
    // ctime. A directory whose mtime alone changed cost a read here (a round trip to a far side) per directory.
    const xattrs = !this.keep.xattrs || e.kind === 'symlink' ? null : e.xattrs === '' ? NO_XATTRS : await this.endpoints[other(side)].readXattrs(path, label);
    return this.endpoints[side].setMeta(path, source, expect, xattrs, label);
  }

  /** Creates a directory; without the right to chown, says once that another user's one now belongs to us. */
  async makeDir(side: Side, path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry> {
    if (this.chownRefused) await this.endpoints[other(side)].noteOwnerLeft(path);
    return this.endpoints[side].makeDir(path, source, label);
  }

  /** Copies `from` (a file or symlink as scanned on `fromSide`) to `toSide`, atomically. */
  async copyEntry(fromSide: Side, fromPath: RelPath, from: ScannedEntry, toSide: Side, toPath: RelPath, expect: Expectation): Promise<Copied> {
    const src = this.endpoints[fromSide];
    const dst = this.endpoints[toSide];
    if (fromSide === toSide) return dst.copyWithin(fromPath, from, toPath, expect);
    const e = from.entry;
    if (e.kind === 'symlink') return { target: await dst.installSymlink(toPath, from, expect), source: from, bytes: 0 };
    if (e.kind !== 'file') throw new Error(`cannot copy a ${e.kind}`);
    const a = src.direct();
    const b = dst.direct();
    if (!this.streamed && a !== null && b !== null) return copyLocally(a, fromPath, from, b, toPath, expect);
    const label = displayPath(toPath);
    // none at scan time means none now: adding one changes the ctime, which the read checks
    const xattrs = !this.keep.xattrs ? null : e.xattrs === '' ? NO_XATTRS : await src.readXattrs(fromPath, label);
    if (this.chownRefused) await src.noteOwnerLeft(fromPath);
    if (deltaApplies(src, dst, from, expect)) {
      const viaDelta = await copyByDelta({ src, dst, fromPath, from, toPath, expect, xattrs, label });
      if (viaDelta !== null) return viaDelta;
    }
    const read = await src.openRead(fromPath, from);
    let got: Installed;
    try {
      got = await dst.install(toPath, from, expect, read.chunks, xattrs);
    } catch (e) {
      read.cancel?.();
      throw e;
    }
    return transferred(await read.done, got, label);
  }
}

function other(side: Side): Side {
  return side === 'left' ? 'right' : 'left';
}

function recordFor(path: RelPath, targetSide: Side, source: ScannedEntry, target: ScannedEntry): PathRecord {
  const entry = target.entry.kind === 'file' && source.entry.kind === 'file' ? source.entry : target.entry;
  return targetSide === 'right' ? { path, entry, left: source, right: target } : { path, entry, left: target, right: source };
}

async function applyAction(a: Action, ctx: ActionContext): Promise<Applied> {
  const sourceSide: Side = a.target === 'right' ? 'left' : 'right';
  const label = displayPath(a.path);
  const target = ctx.endpoints[a.target];
  const applied = (records: PathRecord[], copied = 0): Applied => ({ outcome: { action: a, status: 'applied', records }, copied });
  try {
    switch (a.type) {
      // remove, makeDir and setMeta reach the path through its parents' descriptors and refuse a parent that is not a
      // real directory themselves (endpoint.ts): no assertParents first, which to a remote side was a round trip more
      case 'delete':
        await target.remove(a.path, a.expect, label);
        return applied([]);
      case 'mkdir': {
        const made = await ctx.makeDir(a.target, a.path, a.source, label);
        return applied([recordFor(a.path, a.target, a.source, made)]);
      }
      case 'meta': {
        const set = await ctx.setMeta(a.target, a.path, a.source, a.expect, label);
        // the entry as set: owner or xattrs that could not be set are not recorded as agreed
        return applied([recordFor(a.path, a.target, withEntry(a.source, set.entry), set)]);
      }
      case 'copy': {
        const r = await ctx.copyEntry(sourceSide, a.path, a.source, a.target, a.path, a.expect);
        return applied([recordFor(a.path, a.target, r.source, r.target)], r.bytes);
      }
      case 'conflict':
        return await resolveConflict(a, ctx);
      case 'link': {
        await ctx.endpoints[sourceSide].assertUnchanged(a.path, a.source, label);
        const linked = await target.link(a.path, a.linkTo, a.linkToExpect, a.source, a.expect, label);
        return applied([recordFor(a.path, a.target, a.source, linked)]);
      }
    }
  } catch (e) {
    return { outcome: failure(a, e, a.target, label), copied: 0 };
  }
}

/** A batched copy's result as the outcome of its action (as applyAction makes them for a copy). */
function appliedInBatch({ action: a, result }: BatchCopied): Applied {
  if ('ok' in result) return { outcome: { action: a, status: 'applied', records: [recordFor(a.path, a.target, result.ok.source, result.ok.target)] }, copied: result.ok.bytes };
  return { outcome: failure(a, result.error, a.target, displayPath(a.path)), copied: 0 };
}

/**
 * The conflict unit (see ConflictAction): preserve the loser under copyName on its own side, then put
 * the winner in its place, then send the preserved copy to the winner's side. Each step runs only if
 * the one before it worked, so the loser is never overwritten unless a copy of it already exists.
 */
async function resolveConflict(a: Extract<Action, { type: 'conflict' }>, ctx: ActionContext): Promise<Applied> {
  const loserSide = a.target;
  const winnerSide: Side = loserSide === 'left' ? 'right' : 'left';
  const records: PathRecord[] = [];
  let copied = 0;
  const label = displayPath(a.path);
  try {
    // 1. keep the loser: a conflict copy beside it, or (copyName null) the trash, which the
    //    replacement below fills on its way (it refuses to replace what it cannot keep)
    const saved = a.copyName === null ? null : await ctx.copyEntry(loserSide, a.path, a.loser, loserSide, a.copyName, null);
    if (a.copyName === null && !ctx.hasTrash(loserSide)) throw new Error('no trash to keep the losing version in');
    copied += saved?.bytes ?? 0;
    // 2. the winner takes the name
    if (a.winner.entry.kind === 'dir') {
      await ctx.endpoints[loserSide].remove(a.path, a.expect, label); // a mkdir action follows
    } else {
      const installed = await ctx.copyEntry(winnerSide, a.path, a.winner, loserSide, a.path, a.expect);
      copied += installed.bytes;
      records.push(recordFor(a.path, loserSide, installed.source, installed.target));
    }
    // 3. the conflict copy reaches the winner's side too
    if (saved !== null && a.copyName !== null) {
      const sent = await ctx.copyEntry(loserSide, a.copyName, saved.target, winnerSide, a.copyName, null);
      copied += sent.bytes;
      records.push(recordFor(a.copyName, winnerSide, sent.source, sent.target));
    }
    return { outcome: { action: a, status: 'applied', records }, copied };
  } catch (e) {
    const f = failure(a, e, loserSide, label);
    return { outcome: { ...f, records }, copied };
  }
}

function failure(a: Action, e: unknown, side: Side, label: string): Outcome {
  if (e instanceof StaleTargetError) {
    return { action: a, status: 'stale', problem: { path: a.path, side, code: 'stale', message: `${e.message}; left alone for the next run` } };
  }
  let problem: Problem;
  if (e instanceof SourceReadError) {
    const sourceSide: Side = side === 'left' ? 'right' : 'left';
    problem = { path: a.path, side: sourceSide, code: e.errno === 'ENOENT' ? 'vanished' : 'unreadable', message: e.message };
  } else if (e instanceof SourceChangedError) problem = { path: a.path, side, code: 'changed-during-copy', message: `${e.message}; not recorded, the next run copies it again` };
  else if (e instanceof UnsafePathError) problem = { path: a.path, side, code: 'unsafe-path', message: `${label}: ${e.message}` };
  else {
    const code = errCode(e);
    const detail = code === 'EUNKNOWN' && e instanceof Error ? `: ${e.message}` : '';
    problem = { path: a.path, side, code: code === 'ENOENT' ? 'vanished' : 'io-error', message: `${label}: cannot ${verbOf(a)} (${code}${detail})` };
  }
  return { action: a, status: 'failed', problem };
}

function verbOf(a: Action): string {
  switch (a.type) {
    case 'copy':
      return 'copy';
    case 'delete':
      return 'delete';
    case 'mkdir':
      return 'create directory';
    case 'meta':
      return 'set metadata of';
    case 'conflict':
      return 'resolve conflict on';
    case 'link':
      return 'hard-link';
  }
}
