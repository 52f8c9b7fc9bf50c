import { sourceSides } from '../core/sides.js';
import type { RelPath, Side } from '../core/types.js';
import type { EndpointWatch } from '../endpoint/endpoint.js';
import { TsyncError } from '../errors.js';
import { DirtyAggregator, type DirtyBatch } from '../watch/aggregator.js';
import { actionEvent, conflictEvent, countActions, problemEvent, type RunEvent } from './events.js';
import { openPair } from './pair.js';
import type { SyncSettings } from './settings.js';
import { endsTheSession, WatchedPair, type CycleReport } from './watched-pair.js';

export interface WatchLoopOptions {
  readonly rescanIntervalMs: number;
  /** Resolves when the user asks to stop (Ctrl-C, SIGTERM); the caller wires the signals. */
  readonly stopRequested: Promise<void>;
}

/** What a live status line shows (a terminal only; not an event). */
export interface WatchStatus {
  readonly entries: number;
  /** 0: no cycle yet. */
  readonly lastSyncMs: number;
  readonly pending: number;
  readonly conflicts: number;
  readonly watcherDown: boolean;
}

export interface WatchObserver {
  readonly event: (e: RunEvent) => void;
  /** A cycle's events, in order, told at once (one write for all their lines where they go to one stream). */
  readonly events: (es: readonly RunEvent[]) => void;
  readonly status: (s: WatchStatus) => void;
}

/** After a watcher failed, scan this often instead (or at the rescan interval, if shorter). */
const FALLBACK_SCAN_MS = 30_000;
/**
 * How long after a cycle that decided something its batch is written to the index (with the cycles that follow
 * meanwhile). Armed by a cycle, not on a clock: a watch with nothing to write does not wake up at all. A timer
 * every second cost an idle watch about 1 ms of CPU a second on the 2-core VM (the bench's idle rate): on it, each
 * wakeup of an idle Node process costs 0.2-0.7 ms however little it does (a bare `setInterval(() => {}, 1000)`
 * used 0.53 ms per wakeup, from /proc/PID/task/PID/schedstat).
 */
const PERSIST_AFTER_MS = 1_000;

/**
 * `tsync watch A B`: one full sync, then a cycle for every batch of watcher hints, a full rescan now and
 * then as a backstop, the index written in batches, and a clean stop on request: the cycle in flight
 * finishes (no temp file is left) and the last batch is persisted. Cycles never overlap. Throws a
 * TsyncError when the pair cannot be opened or the watch cannot go on.
 */
export async function runWatchLoop(settings: SyncSettings, opts: WatchLoopOptions, observer: WatchObserver): Promise<void> {
  const pair = await openPair(settings);
  const emit = observer.event;
  for (const w of pair.warnings) emit({ type: 'warning', message: w });
  const watched = new WatchedPair(pair, settings);
  const told = new Set<string>();
  let stopping = false;
  let cycleRunning: Promise<void> = Promise.resolve();
  let watcherDown = false;
  let lastSyncMs = 0;
  let conflicts = 0;

  const aggregator = new DirtyAggregator({
    quietMs: 3,
    maxDelayMs: 50,
    collapseAbove: 256,
    onBatch: (batch) => schedule(() => runBatch(batch)),
  });

  // A cycle that throws must neither break the chain (every later cycle would be skipped) nor become an
  // unhandled rejection (Node would end the process mid-write). A TsyncError (the state index cannot be
  // written, say) is reported once and watching goes on: what is on disk stays, and an index that lags
  // behind only costs the next start a re-hash. Anything else is a bug: watching stops with it.
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined); // observed below, by the race with the stop request
  const schedule = (work: () => Promise<void>): void => {
    cycleRunning = cycleRunning.then(async () => {
      if (stopping) return;
      aggregator.pause();
      try {
        await work();
      } catch (e) {
        // a lost remote session ends the watch (exit 6), said once, not as a warning per cycle
        if (!(e instanceof TsyncError) || endsTheSession(e)) {
          fail(e);
          return;
        }
        if (!told.has(`failure:${e.message}`)) emit({ type: 'warning', message: `${e.message}; watching goes on` });
        told.add(`failure:${e.message}`);
      } finally {
        aggregator.resume();
      }
    });
  };

  const refreshStatus = (): void => observer.status({ entries: watched.watchedEntries, lastSyncMs, pending: aggregator.pending, conflicts, watcherDown });

  let persistTimer: NodeJS.Timeout | null = null;
  /** The batch is written PERSIST_AFTER_MS after the first cycle that left something to write. */
  const persistSoon = (): void => {
    if (persistTimer !== null || stopping || !watched.hasPending) return;
    persistTimer = setTimeout(() => {
      persistTimer = null;
      schedule(() => watched.persist());
    }, PERSIST_AFTER_MS);
  };

  const report = (r: CycleReport): void => {
    persistSoon();
    lastSyncMs = Date.now();
    if (r.result !== null) conflicts += r.result.plan.conflicts.length;
    observer.events(cycleEvents(r, watched, told));
    refreshStatus();
  };

  // Only the sides whose edits propagate are watched: a one-way destination is set right by the rescans.
  const sides = sourceSides(settings.mode);
  const watches: EndpointWatch[] = [];
  /** After every full scan: watch the directories it found unwatched, drop watches of those it found gone. */
  const adoptScanned = async (): Promise<void> => {
    for (const [i, side] of sides.entries()) {
      for (const d of (await watches[i]?.adopt(watched.dirs(side))) ?? []) aggregator.add(side, d);
    }
  };

  const runBatch = async (batch: DirtyBatch): Promise<void> => {
    const r = await watched.dirtyCycle(batch);
    report(r);
    if (r.full) await adoptScanned();
  };

  let rescanTimer: NodeJS.Timeout | null = null;
  try {
    const startMs = Date.now();
    const onHint = (side: Side, path: RelPath | null): void => aggregator.add(side, path);
    const onFailure = (_side: Side, message: string): void => {
      if (!watcherDown) emit({ type: 'warning', message: `${message}; carrying on with a full scan every ${Math.round(Math.min(FALLBACK_SCAN_MS, opts.rescanIntervalMs) / 1000)}s` });
      watcherDown = true;
      refreshStatus();
    };
    // Watch first, then sync: a change made while the first sync runs is caught as a hint instead of
    // waiting for the periodic rescan. Hints wait (paused) until that sync is done. The directories the
    // index knows are watched without listing the tree; those it does not know (made since the last
    // sync) are found by the full scan, watched then, and re-read by the first dirty cycle.
    aggregator.pause();
    // from the index, not the base: the base loads during the first scan, while the worker walks (scan-pair.ts)
    const knownDirs = pair.indexedPaths === 0 ? undefined : pair.store.dirPaths();
    // a remote side's agent watches its own root and sends the hints (remote/agent-watch.ts)
    for (const side of sides) watches.push(await pair.endpoints[side].watch(side, knownDirs, { onHint, onFailure }));
    report(await watched.fullCycle());
    await adoptScanned();
    aggregator.resume();
    emit({ type: 'ready', entries: watched.watchedEntries, ms: Date.now() - startMs });
    refreshStatus();

    const armRescan = (): void => {
      const every = watcherDown ? Math.min(FALLBACK_SCAN_MS, opts.rescanIntervalMs) : opts.rescanIntervalMs;
      rescanTimer = setTimeout(() => {
        schedule(async () => {
          report(await watched.fullCycle());
          await adoptScanned();
        });
        armRescan();
      }, every);
    };
    armRescan();

    // A remote side's session ending ends the watch: what finished cycles decided is still persisted (it
    // came from confirmed actions only), then the loss is thrown (exit 6).
    const sessionEnded = Promise.race([pair.endpoints.left.ended(), pair.endpoints.right.ended()]).then((reason) => {
      throw reason;
    });
    sessionEnded.catch(() => undefined); // a normal stop closes the session later: that end is no failure
    let lost: unknown = null;
    try {
      await Promise.race([opts.stopRequested, failed, sessionEnded]);
    } catch (e) {
      if (!endsTheSession(e)) throw e;
      lost = e;
    }
    stopping = true;
    if (persistTimer !== null) clearTimeout(persistTimer);
    if (rescanTimer !== null) clearTimeout(rescanTimer);
    aggregator.close();
    await Promise.all(watches.map((w) => w.close()));
    await cycleRunning; // the cycle in flight finishes: its copies complete or clean up their temp files
    await watched.persist();
    if (lost !== null) throw lost;
    emit({ type: 'stopped' });
  } finally {
    if (persistTimer !== null) clearTimeout(persistTimer);
    if (rescanTimer !== null) clearTimeout(rescanTimer);
    aggregator.close();
    await pair.close();
  }
}

/**
 * The events of one cycle: its actions, conflicts and problems, then a `cycle` event when it did
 * something or was a full scan. A problem a scan keeps finding is told once, not on every cycle.
 */
function cycleEvents(r: CycleReport, watched: WatchedPair, told: Set<string>): RunEvent[] {
  if (r.halted !== null) return [{ type: 'halted', message: r.halted.message }];
  const res = r.result;
  if (res === null) return [];
  const fresh = watched.currentProblems().filter((p) => !told.has(`${p.side}:${p.path}:${p.code}`));
  for (const p of fresh) told.add(`${p.side}:${p.path}:${p.code}`);
  const toTell = [...fresh, ...res.outcomes.problems()];
  const applied = res.outcomes.appliedActions();
  const events: RunEvent[] = [...Array.from(res.outcomes, (o) => actionEvent(o.action, o.status)), ...res.plan.conflicts.map(conflictEvent), ...toTell.map(problemEvent)];
  if (applied.length > 0 || toTell.length > 0 || res.plan.conflicts.length > 0 || r.full) {
    events.push({
      type: 'cycle',
      full: r.full,
      counts: countActions(applied),
      applied: applied.length,
      conflicts: res.plan.conflicts.length,
      problems: toTell.length,
      bytes: res.bytes,
      ms: r.ms,
    });
  }
  return events;
}
