import PQueue from 'p-queue';
import { isParallelPhase, PHASES, phaseOf } from '../core/order.js';
import { displayPath } from '../core/paths.js';
import type { AbsPath, Action, KeptMeta, LinkAction, Outcome, PathRecord, Problem, RelPath, ScannedEntry, Side, StatId } from '../core/types.js';
import { errCode } from '../fs/stat.js';
import { loadHasher } from '../hash/xxhash.js';
import { copyFileAtomic, copySymlinkAtomic, SMALL_FILE_MAX, SourceChangedError, SourceReadError } from './copy-file.js';
import { DirAnchors, type Place } from './dir-anchors.js';
import { AncestorGuard, assertExpected, StaleTargetError, UnsafePathError } from './guards.js';
import type { Trash } from './trash.js';
import { digestOf } from '../fs/xattrs.js';
import { deleteEntry, makeDir, setLinkMeta, setMeta } from './operations.js';
import { linkAtomic } from './hard-link.js';
import { MetaWriter, NO_XATTRS } from './apply-meta.js';

export interface Roots {
  readonly left: AbsPath;
  readonly right: AbsPath;
}

export interface ExecuteOptions {
  readonly roots: Roots;
  /** Parallel operations for large files; small ones are copied synchronously (copy-file.ts). */
  readonly concurrency: number;
  /** Per side, how recent a ctime must be to count as racy (fs/ctime-probe.ts). */
  readonly racyWindowNs: Readonly<Record<Side, bigint>>;
  /** Per side, where overwritten and deleted entries are kept (null: --no-trash, or a side never written). */
  readonly trash: Readonly<Record<Side, Trash | null>>;
  readonly onOutcome?: (o: Outcome) => void;
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
  readonly outcomes: Outcome[];
  readonly bytes: number;
}

/**
 * Carries out a plan phase by phase (core/order.ts): deletes, conflict units, directories top-down,
 * copies, then metadata (directories deepest first). Each action is independent: a failure becomes
 * an outcome, never an abort.
 */
export async function executePlan(actions: readonly Action[], opts: ExecuteOptions): Promise<ExecuteResult> {
  const outcomes: Outcome[] = [];
  let bytes = 0;
  const queue = new PQueue({ concurrency: opts.concurrency });
  // copies (conflict copies too) hash what they write: load the hasher once, before the first of them
  if (actions.some((a) => a.type === 'copy' || a.type === 'conflict')) await loadHasher();
  const keep = opts.keep;
  const none = keep === undefined || (!keep.owner && !keep.group && !keep.xattrs);
  const meta = none && opts.chownRefused !== true ? null : new MetaWriter(keep ?? { owner: false, group: false, xattrs: false }, opts.warn ?? (() => undefined), opts.chownRefused === true);
  const ctx = new ActionContext(opts.roots, opts.racyWindowNs, opts.trash, meta);
  const stop = opts.stopSignal;
  const letSignalsIn = stop === undefined ? null : eventLoopTurns(SIGNAL_CHECK_MS);
  const run = async (a: Action): Promise<void> => {
    await letSignalsIn?.();
    if (stop?.aborted === true) return; // not started: no outcome, so its path keeps its old record
    const { outcome, copied } = await applyAction(a, ctx);
    bytes += copied;
    outcomes.push(outcome);
    opts.onOutcome?.(outcome);
  };
  try {
    for (const phase of PHASES) {
      const list = actions.filter((a) => phaseOf(a) === phase);
      if (isParallelPhase(phase)) {
        // Small copies run to their rename without yielding (copy-file.ts): queueing them would add a
        // scheduling round per file and no parallelism. The large ones go to the queue first, so their
        // kernel copies proceed on the thread pool while the small ones are copied here.
        const direct = list.filter(runsToCompletion);
        for (const a of list) if (!runsToCompletion(a)) void queue.add(() => run(a));
        for (const a of direct) await run(a);
        await queue.onIdle();
      } else {
        for (const a of list) await run(a);
      }
    }
  } finally {
    ctx.close();
  }
  return { outcomes, bytes };
}

/** How long the actions may run without a turn of the event loop when a stop can be asked for. */
const SIGNAL_CHECK_MS = 20;

/**
 * Small copies and the serial phases never wait for I/O, so the event loop, where a Ctrl-C handler
 * runs, would not turn until a whole phase is done. This lets it turn (one setImmediate) when more than
 * `everyMs` have passed since the last turn: a stop is seen within that much time, at almost no cost.
 */
function eventLoopTurns(everyMs: number): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
  };
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

/** What every action of a run shares: where the sides are, and which directories are known to be real. */
class ActionContext {
  private readonly guards: Record<Side, AncestorGuard>;
  private readonly anchors: Record<Side, DirAnchors>;
  /** Files this run installed, per side: what a hard link to one of them must find there. */
  private readonly installed: Record<Side, Map<RelPath, StatId>> = { left: new Map(), right: new Map() };

  constructor(
    readonly roots: Roots,
    private readonly racyWindowNs: Readonly<Record<Side, bigint>>,
    private readonly trash: Readonly<Record<Side, Trash | null>>,
    private readonly meta: MetaWriter | null,
  ) {
    this.guards = { left: new AncestorGuard(roots.left), right: new AncestorGuard(roots.right) };
    this.anchors = { left: new DirAnchors(roots.left, this.guards.left), right: new DirAnchors(roots.right, this.guards.right) };
  }

  hasTrash(side: Side): boolean {
    return this.trash[side] !== null;
  }

  /** Runs `use` with `path` pinned through its directory's descriptor (dir-anchors.ts). */
  at<T>(side: Side, path: RelPath, use: (place: Place) => T): T {
    const place = this.anchors[side].place(path);
    try {
      return use(place);
    } finally {
      place.release();
    }
  }

  /** Deletes what the scan saw at `path`: a file or link goes to the trash (if any), a directory is removed. */
  remove(side: Side, path: RelPath, expect: Action['expect'], label: string): void {
    const trash = this.trash[side];
    this.at(side, path, ({ fdPath }) => {
      if (trash !== null && expect !== null && expect.kind !== 'dir') {
        assertExpected(fdPath, expect, label);
        trash.moveToTrash(path, fdPath);
      } else {
        deleteEntry(fdPath, expect, label);
      }
    });
    this.guards[side].forget(path);
    this.anchors[side].forget(path);
  }

  /** Creates a directory; the guard trusts it from then on. */
  makeDir(side: Side, path: RelPath, source: ScannedEntry, label: string): ScannedEntry {
    const meta = this.meta;
    if (meta?.chownRefused === true) this.at(side === 'left' ? 'right' : 'left', path, ({ fdPath }) => meta.noteOwnerLeft(fdPath));
    const made = this.at(side, path, ({ fdPath }) => makeDir(fdPath, source, label));
    this.guards[side].trust(path, made.stat.ino);
    return made;
  }

  /**
   * Fixes metadata in place to the action's (possibly merged, core/merge-meta.ts) entry. Owner and group
   * are in the entry; xattr values are not (only their digest), so they are read from whichever side holds
   * the merged digest now: the other side, or the target itself when the merge kept the target's xattrs.
   */
  setMeta(side: Side, path: RelPath, source: ScannedEntry, expect: Action['expect'], label: string): ScannedEntry {
    const meta = this.meta;
    const e = source.entry;
    if (e.kind === 'symlink') {
      const owner = meta === null ? undefined : (abs: Buffer) => meta.applyToSymlink(abs, e);
      return this.at(side, path, ({ fdPath }) => setLinkMeta(fdPath, e, expect, label, owner));
    }
    if (meta === null) return this.at(side, path, ({ fdPath }) => setMeta(fdPath, source, expect, label));
    const other = side === 'left' ? 'right' : 'left';
    let xattrs = this.at(other, path, ({ fdPath }) => meta.sourceXattrs(fdPath, label));
    if (xattrs !== null && e.xattrs !== undefined && digestOf(xattrs) !== e.xattrs) {
      const own = this.at(side, path, ({ fdPath }) => meta.sourceXattrs(fdPath, label));
      if (own !== null && digestOf(own) === e.xattrs) xattrs = own;
    }
    const chosen = xattrs;
    return this.at(side, path, ({ fdPath }) => setMeta(fdPath, source, expect, label, (fd) => meta.applyToFile(fd, fdPath, e, chosen, label)));
  }

  /** Every directory above `path` must be a real directory: refuse (UnsafePathError) before touching it. */
  assertParents(side: Side, path: RelPath): void {
    this.anchors[side].assertParents(path);
  }

  /** Closes the directory descriptors of the run. */
  close(): void {
    this.anchors.left.closeAll();
    this.anchors.right.closeAll();
    this.trash.left?.close();
    this.trash.right?.close();
  }

  /** Copies `from` (a file or symlink as scanned on `fromSide`) to `toSide`, atomically. */
  async copyEntry(
    fromSide: Side,
    fromPath: RelPath,
    from: ScannedEntry,
    toSide: Side,
    toPath: RelPath,
    expect: Action['expect'],
  ): Promise<{ target: ScannedEntry; source: ScannedEntry; bytes: number }> {
    const label = displayPath(toPath);
    const trash = this.trash[toSide];
    const beforeRename = (): void => this.anchors[toSide].assertParents(toPath);
    beforeRename();
    const to = this.anchors[toSide].place(toPath);
    try {
      // Whatever the rename replaces is linked into the trash first (never over what cannot be kept).
      const keepReplaced = expect !== null && trash !== null ? (): void => trash.keepCopyOf(toPath, to.fdPath) : (): void => undefined;
      const e = from.entry;
      const meta = this.meta;
      if (e.kind === 'symlink') {
        const target = copySymlinkAtomic({
          ...(meta === null ? {} : { applyMeta: (tmpAbs: Buffer) => meta.applyToSymlink(tmpAbs, e) }),
          targetDirAbs: to.dirFdPath,
          targetAbs: to.fdPath,
          linkTarget: Buffer.from(e.target, 'latin1'),
          mtimeNs: e.mtimeNs,
          expect,
          label,
          beforeRename,
          keepReplaced,
        });
        return { target, source: from, bytes: 0 };
      }
      if (e.kind !== 'file') throw new Error(`cannot copy a ${e.kind}`);
      const fromPlace = this.anchors[fromSide].place(fromPath);
      try {
        // none at scan time means none now: adding one changes the ctime, which the copy checks (copy-file.ts)
        const xattrs = meta === null ? null : e.xattrs === '' && meta.keepsXattrs ? NO_XATTRS : meta.sourceXattrs(fromPlace.fdPath, label);
        if (meta?.chownRefused === true) meta.noteOwnerLeft(fromPlace.fdPath);
        const r = await copyFileAtomic({
          ...(meta === null ? {} : { applyMeta: (fd: number, tmpAbs: Buffer) => meta.applyToFile(fd, tmpAbs, e, xattrs, label) }),
          sourceAbs: fromPlace.fdPath,
          targetDirAbs: to.dirFdPath,
          targetAbs: to.fdPath,
          source: from,
          expect,
          label,
          beforeRename,
          keepReplaced,
          sourceRacyWindowNs: this.racyWindowNs[fromSide],
        });
        this.installed[toSide].set(toPath, r.target.stat);
        return { target: r.target, source: r.source, bytes: r.bytes };
      } finally {
        fromPlace.release();
      }
    } finally {
      to.release();
    }
  }

  /** Makes `a.path` on the target one more name of the inode at `a.linkTo` there (hard-link.ts). */
  link(fromSide: Side, a: LinkAction): ScannedEntry {
    const label = displayPath(a.path);
    const linkTo = a.linkToExpect ?? this.installed[a.target].get(a.linkTo) ?? null;
    if (linkTo === null) throw new StaleTargetError(`${label}: ${displayPath(a.linkTo)}, which it is a hard link of, was not installed`);
    const trash = this.trash[a.target];
    const beforeRename = (): void => this.anchors[a.target].assertParents(a.path);
    beforeRename();
    const to = this.anchors[a.target].place(a.path);
    try {
      const keepReplaced = a.expect !== null && trash !== null ? (): void => trash.keepCopyOf(a.path, to.fdPath) : (): void => undefined;
      return this.at(fromSide, a.path, (from) =>
        this.at(a.target, a.linkTo, (leader) =>
          linkAtomic({
            sourceAbs: from.fdPath,
            source: a.source,
            linkToAbs: leader.fdPath,
            linkTo,
            targetDirAbs: to.dirFdPath,
            targetAbs: to.fdPath,
            expect: a.expect,
            label,
            beforeRename,
            keepReplaced,
          }),
        ),
      );
    } finally {
      to.release();
    }
  }
}

function recordFor(path: RelPath, targetSide: Side, source: ScannedEntry, target: ScannedEntry): PathRecord {
  const entry = target.entry.kind === 'file' && source.entry.kind === 'file' ? source.entry : target.entry;
  return targetSide === 'right' ? { path, entry, left: source, right: target } : { path, entry, left: target, right: source };
}

async function applyAction(a: Action, ctx: ActionContext): Promise<Applied> {
  const sourceSide: Side = a.target === 'right' ? 'left' : 'right';
  const label = displayPath(a.path);
  const applied = (records: PathRecord[], copied = 0): Applied => ({ outcome: { action: a, status: 'applied', records }, copied });
  try {
    switch (a.type) {
      case 'delete':
        ctx.assertParents(a.target, a.path);
        ctx.remove(a.target, a.path, a.expect, label);
        return applied([]);
      case 'mkdir': {
        ctx.assertParents(a.target, a.path);
        const made = ctx.makeDir(a.target, a.path, a.source, label);
        return applied([recordFor(a.path, a.target, a.source, made)]);
      }
      case 'meta': {
        ctx.assertParents(a.target, a.path);
        const target = ctx.setMeta(a.target, a.path, a.source, a.expect, label);
        // the entry as set: owner or xattrs that could not be set are not recorded as agreed
        return applied([recordFor(a.path, a.target, { ...a.source, entry: target.entry }, target)]);
      }
      case 'copy': {
        const r = await ctx.copyEntry(sourceSide, a.path, a.source, a.target, a.path, a.expect);
        return applied([recordFor(a.path, a.target, r.source, r.target)], r.bytes);
      }
      case 'conflict':
        return await resolveConflict(a, ctx);
      case 'link': {
        const target = ctx.link(sourceSide, a);
        return applied([recordFor(a.path, a.target, a.source, target)]);
      }
    }
  } catch (e) {
    return { outcome: failure(a, e, a.target, label), copied: 0 };
  }
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
      ctx.assertParents(loserSide, a.path);
      ctx.remove(loserSide, a.path, a.expect, label); // a mkdir action follows
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
