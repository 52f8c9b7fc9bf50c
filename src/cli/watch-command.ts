import { displayPath } from '../core/paths.js';
import type { Problem, RelPath, Side } from '../core/types.js';
import { TsyncError } from '../errors.js';
import { LiveSession, type LiveCycleReport } from '../sync/live.js';
import { openPair, type OpenPair } from '../sync/pair.js';
import type { SyncSettings } from '../sync/settings.js';
import { DirtyAggregator, type DirtyBatch } from '../watch/aggregator.js';
import { watchRoot, type RootWatch } from '../watch/watcher.js';
import { EXIT, exitCodeOf, type ExitCode } from './exit-codes.js';
import { reportError } from './report-error.js';
import type { Io } from './main.js';
import { formatProblems } from './report.js';

export interface WatchOptions {
  readonly rescanIntervalMs: number;
  readonly json: boolean;
  readonly quiet: boolean;
  /** Where the live status line goes; null when stdout is not a terminal. */
  readonly statusLine: ((text: string) => void) | null;
  /** Resolves when the user asks to stop (Ctrl-C, SIGTERM); the caller wires the signals. */
  readonly stopRequested: Promise<void>;
}

/** After a watcher failed, scan this often instead (or at the rescan interval, if shorter). */
const FALLBACK_SCAN_MS = 30_000;
/** How often the in-memory base is written to the index while watching. */
const PERSIST_EVERY_MS = 1_000;

/**
 * `tsync watch A B`: one full sync, then a cycle for every batch of watcher hints, a full rescan now and
 * then as a backstop, and a clean stop on request: the cycle in flight finishes (no temp file is left),
 * the state is committed, exit 0.
 */
export async function watchCommand(settings: SyncSettings, opts: WatchOptions, io: Io): Promise<ExitCode> {
  let pair: OpenPair;
  try {
    pair = await openPair(settings);
  } catch (e) {
    return reportError(e, io);
  }
  const log = new WatchLog(io, opts, settings);
  for (const w of pair.warnings) log.warn(w);
  const live = new LiveSession(pair, settings);
  let stopping = false;
  let cycleRunning: Promise<void> = Promise.resolve();
  let watchFailed = false;
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
  const reportedFailures = new Set<string>();
  const schedule = (work: () => Promise<void>): void => {
    cycleRunning = cycleRunning.then(async () => {
      if (stopping) return;
      aggregator.pause();
      try {
        await work();
      } catch (e) {
        if (!(e instanceof TsyncError)) {
          fail(e);
          return;
        }
        if (!reportedFailures.has(e.message)) log.warn(`${e.message}; watching goes on`);
        reportedFailures.add(e.message);
      } finally {
        aggregator.resume();
      }
    });
  };

  const report = (r: LiveCycleReport): void => {
    lastSyncMs = Date.now();
    if (r.result !== null) conflicts += r.result.plan.conflicts.length;
    log.cycle(r, live.currentProblems());
    refreshStatus();
  };

  const runBatch = async (batch: DirtyBatch): Promise<void> => {
    report(await live.dirtyCycle(batch));
  };

  const refreshStatus = (): void => {
    const last = lastSyncMs === 0 ? 'never' : new Date(lastSyncMs).toLocaleTimeString();
    log.status(`watching ${live.watchedEntries} entries · last sync ${last} · pending ${aggregator.pending} · conflicts ${conflicts}${watchFailed ? ' · watcher down, scanning' : ''}`);
  };

  try {
    const startMs = Date.now();
    const onHint = (side: Side, path: RelPath | null): void => aggregator.add(side, path);
    const onFailure = (_side: Side, message: string): void => {
      if (!watchFailed) log.warn(`${message}; carrying on with a full scan every ${Math.round(Math.min(FALLBACK_SCAN_MS, opts.rescanIntervalMs) / 1000)}s`);
      watchFailed = true;
      refreshStatus();
    };
    const watched: Side[] = settings.mode === 'one-way' ? ['left'] : ['left', 'right'];
    // Watch first, then sync: a change made while the first sync runs is caught as a hint instead of
    // waiting for the periodic rescan. Hints wait (paused) until that sync is done. The roots are
    // crawled one after the other so that their garbage does not pile up (peak memory, 100k files).
    aggregator.pause();
    const watches: RootWatch[] = [];
    for (const side of watched) {
      const w = watchRoot(pair.root(side), side, { onHint, onFailure });
      watches.push(w);
      await w.ready;
    }
    report(await live.fullCycle());
    aggregator.resume();
    log.ready(live.watchedEntries, Date.now() - startMs);
    refreshStatus();

    const persistTimer = setInterval(() => schedule(() => live.persist()), PERSIST_EVERY_MS);
    let rescanTimer: NodeJS.Timeout | null = null;
    const armRescan = (): void => {
      const every = watchFailed ? Math.min(FALLBACK_SCAN_MS, opts.rescanIntervalMs) : opts.rescanIntervalMs;
      rescanTimer = setTimeout(() => {
        schedule(async () => report(await live.fullCycle()));
        armRescan();
      }, every);
    };
    armRescan();

    await Promise.race([opts.stopRequested, failed]);
    stopping = true;
    clearInterval(persistTimer);
    if (rescanTimer !== null) clearTimeout(rescanTimer);
    aggregator.close();
    await Promise.all(watches.map((w) => w.close()));
    await cycleRunning; // the cycle in flight finishes: its copies complete or clean up their temp files
    await live.persist();
    log.stopped();
    return EXIT.ok;
  } catch (e) {
    if (e instanceof TsyncError) {
      log.error(e);
      return exitCodeOf(e);
    }
    throw e;
  } finally {
    aggregator.close();
    pair.close();
  }
}

/** Watch output: a status line on a terminal, one line per cycle otherwise, NDJSON with --json. */
class WatchLog {
  private readonly reported = new Set<string>();
  private statusShown = false;

  constructor(
    private readonly io: Io,
    private readonly opts: WatchOptions,
    private readonly settings: SyncSettings,
  ) {}

  ready(entries: number, ms: number): void {
    if (this.opts.json) this.json({ event: 'ready', entries, ms });
    else if (!this.opts.quiet && this.opts.statusLine === null) this.line(`watching ${entries} entries (ready in ${ms} ms)`);
  }

  cycle(r: LiveCycleReport, problems: readonly Problem[]): void {
    if (r.halted !== null) {
      const key = `halt:${r.halted.message}`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.clearStatus();
        this.io.err(`tsync: halted: ${r.halted.message} (watching goes on)`);
      }
      if (this.opts.json) this.json({ event: 'halted', message: r.halted.message });
      return;
    }
    const res = r.result;
    if (res === null) return;
    // A problem is told once, not on every cycle that still sees it.
    const fresh = problems.filter((p) => !this.reported.has(`${p.side}:${p.path}:${p.code}`));
    for (const p of fresh) this.reported.add(`${p.side}:${p.path}:${p.code}`);
    const actionProblems = res.outcomes.flatMap((o) => (o.problem === undefined ? [] : [o.problem]));
    const toTell = [...fresh, ...actionProblems];
    const applied = res.outcomes.filter((o) => o.status === 'applied');
    if (this.opts.json) {
      for (const o of applied) this.json({ event: 'action', type: o.action.type, path: displayPath(o.action.path), target: o.action.target });
      for (const c of res.plan.conflicts) this.json({ event: 'conflict', path: displayPath(c.path), resolution: c.resolution, copyName: c.copyName === null ? null : displayPath(c.copyName) });
      for (const p of toTell) this.json({ event: 'problem', side: p.side, path: displayPath(p.path), code: p.code, message: p.message });
      if (applied.length > 0 || toTell.length > 0 || r.full) this.json({ event: 'cycle', full: r.full, applied: applied.length, problems: toTell.length, bytes: res.bytes, ms: r.ms });
      return;
    }
    if (toTell.length > 0) this.clearStatus();
    for (const line of formatProblems({ problems: toTell, mode: this.settings.mode })) this.io.err(line);
    for (const c of res.plan.conflicts) this.io.err(`tsync: conflict on ${displayPath(c.path)}${c.copyName === null ? ' left unresolved' : `: the other version is kept as ${displayPath(c.copyName)}`}`);
    if (this.opts.quiet || this.opts.statusLine !== null || (applied.length === 0 && !r.full)) return;
    const count = (t: string): number => applied.filter((o) => o.action.type === t).length;
    this.line(`${new Date().toISOString()} ${r.full ? 'full sync' : 'sync'}: ${count('copy')} copied, ${count('delete')} deleted, ${count('mkdir')} dirs created, ${res.plan.conflicts.length} conflicts (${r.ms} ms)`);
  }

  status(text: string): void {
    if (this.opts.statusLine === null || this.opts.json || this.opts.quiet) return;
    this.statusShown = true;
    this.opts.statusLine(text);
  }

  warn(message: string): void {
    this.clearStatus();
    if (this.opts.json) this.json({ event: 'warning', message });
    else this.io.err(`tsync: warning: ${message}`);
  }

  error(e: TsyncError): void {
    this.clearStatus();
    this.io.err(`tsync: error: ${e.message}`);
  }

  stopped(): void {
    this.clearStatus();
    if (this.opts.json) this.json({ event: 'stopped' });
    else if (!this.opts.quiet) this.line('stopped; state saved');
  }

  private clearStatus(): void {
    if (this.statusShown && this.opts.statusLine !== null) this.opts.statusLine('');
    this.statusShown = false;
  }

  private line(text: string): void {
    this.clearStatus();
    this.io.out(text);
  }

  private json(obj: Record<string, unknown>): void {
    this.io.out(JSON.stringify({ time: new Date().toISOString(), ...obj }));
  }
}
