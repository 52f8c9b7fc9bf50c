import type { BaseChanges } from '../core/commit.js';
import { ChildIndex, VisitCount } from '../core/path-index.js';
import { expandScope, type Scope } from '../core/scope.js';
import { emptyWritten, mergeWritten, writtenPathsOf, type WrittenPaths } from '../core/written-paths.js';
import type { BaseRecord, Conflict, Problem, RelPath, Side } from '../core/types.js';
import { TsyncError } from '../errors.js';
import type { PathFilter } from '../ignore/path-filter.js';
import { dropExcluded } from '../ignore/filter-scan.js';
import { ProtocolError, RemoteLostError } from '../remote/protocol-error.js';
import { applyRescan } from '../scan/apply-rescan.js';
import { rescanPaths, rescanRoots, type LiveScan, type ScanOptions } from '../scan/scan.js';
import { RotatingTrashStamp } from '../engine/trash.js';
import { BaseTable } from '../store/base-table.js';
import type { RunRecord } from '../store/store.js';
import type { DirtyBatch } from '../watch/aggregator.js';
import { runCycle, type CycleResult } from './cycle.js';
import type { OpenPair } from './pair.js';
import { LiveEntries } from './live-entries.js';
import { persist, runRecordOf } from './persist.js';
import { prepareSides, removeLeftoversOf } from './prepare.js';
import { exitStatusOf } from './run-loop.js';
import { filterOf, scanBothSides, scanRequestOf } from './scan-pair.js';
import type { SyncSettings } from './settings.js';

/** How long a watch keeps putting what its cycles replace or delete into one trash folder. */
const TRASH_FOLDER_SPAN_MS = 60_000;

export interface CycleReport {
  readonly result: CycleResult | null;
  /** A safety guard or another typed refusal: the cycle did nothing, watching goes on. */
  readonly halted: TsyncError | null;
  readonly full: boolean;
  readonly ms: number;
}

/**
 * A watched pair between cycles: both sides' scans and the base, kept in memory and updated from what
 * each cycle re-read and applied, so a cycle only looks at dirty paths. What the cycles decided waits
 * here until `persist` writes it in one batch (see watch-loop.ts for when): a crash loses at most the
 * last batch, and the next start then finds paths that agree on both sides and records them silently.
 */
export class WatchedPair {
  /** With TSYNC_TIMINGS=1: the known paths each cycle visits, said per cycle (see timeCycle). */
  private readonly visits = process.env.TSYNC_TIMINGS === '1' ? new VisitCount() : null;
  /** Every path the base or either side knows, by directory: a dirty directory's subtree without a pass over all paths. */
  private readonly index = new ChildIndex((p) => this.pair.base.has(p) || this.sides.left.entries.has(p) || this.sides.right.entries.has(p), this.visits ?? new VisitCount());
  private readonly sides: Record<Side, LiveScan & { readonly entries: LiveEntries }> = {
    left: { entries: new LiveEntries(this.index, this.visits), problems: new Map(), below: (d) => this.index.below(d) },
    right: { entries: new LiveEntries(this.index, this.visits), problems: new Map(), below: (d) => this.index.below(d) },
  };
  private readonly pending = new Map<RelPath, BaseRecord | null>();
  private readonly pendingConflicts: Conflict[] = [];
  private readonly pendingScope = new Set<RelPath>();
  private pendingWritten: WrittenPaths = emptyWritten();
  private readonly pendingRuns: RunRecord[] = [];
  private pendingFull = false;
  private cycles = 0;
  private filter: PathFilter | null = null;
  /** One trash folder a minute, not one a cycle (engine/trash.ts RotatingTrashStamp). */
  private readonly trashStamps = new RotatingTrashStamp(TRASH_FOLDER_SPAN_MS);

  constructor(
    private readonly pair: OpenPair,
    private readonly settings: SyncSettings,
  ) {}

  get watchedEntries(): number {
    return this.sides.left.entries.size + this.sides.right.entries.size;
  }

  /** A full scan of both sides and a cycle over everything (the start, and the periodic rescan). */
  async fullCycle(): Promise<CycleReport> {
    const t0 = Date.now();
    const timed = this.timeCycle();
    // Ignore files are read afresh with every full scan: edits to them take effect there.
    this.filter = filterOf(this.pair, this.settings);
    // Rebuilt from scratch: what the index still held of paths long gone is dropped here.
    this.index.clear();
    for (const p of this.pair.base.keys()) this.index.add(p);
    const temps: Partial<Record<Side, readonly RelPath[]>> = {};
    const scans = await scanBothSides(this.pair, this.settings, this.filter);
    // with a remote side, the rescans apply both sides' ignore rules as the full scan did
    if (scans.judgedBy !== undefined) this.filter = scans.judgedBy;
    for (const side of ['left', 'right'] as const) {
      const scan = scans[side];
      this.sides[side].entries.adopt(scan.entries);
      this.sides[side].problems.clear();
      for (const p of scan.problems) this.sides[side].problems.set(p.path, p);
      temps[side] = scan.leftoverTemps;
    }
    await prepareSides(this.pair, this.settings, temps);
    return timed(await this.cycle('all', t0, true), 'all');
  }

  /** Re-reads the dirty paths (null: the whole side) and runs a cycle scoped to them. */
  async dirtyCycle(dirty: DirtyBatch): Promise<CycleReport> {
    if (dirty.whole.length > 0) return this.fullCycle();
    const t0 = Date.now();
    const timed = this.timeCycle();
    const before = (p: RelPath): boolean =>
      this.pair.base.get(p)?.entry.kind === 'dir' || this.sides.left.entries.get(p)?.entry.kind === 'dir' || this.sides.right.entries.get(p)?.entry.kind === 'dir';
    const wasDir = new Set([...dirty.left, ...dirty.right].filter(before));
    for (const side of ['left', 'right'] as const) {
      if (dirty[side].length === 0) continue;
      const temps = this.pair.remote === side ? await this.rescanRemote(side, dirty[side]) : rescanPaths(this.scanOptions(side), this.sides[side], dirty[side]);
      await removeLeftoversOf(this.pair, this.settings.mode, side, temps);
    }
    const scope = expandScope(
      [...dirty.left, ...dirty.right],
      (p) => wasDir.has(p) || before(p),
      (d) => this.index.below(d),
    );
    return timed(await this.cycle(scope, t0, false), scope);
  }

  /**
   * With TSYNC_TIMINGS=1, one line per cycle on stderr: how many paths it planned for and how many known
   * paths it visited (entries of either side, base rows, directory-index children), against what is
   * known, and its CPU time. A dirty cycle must visit about what changed, not the tree: the e2e tests
   * read these counts instead of timing anything. Not a contract beyond that.
   */
  private timeCycle(): (report: CycleReport, scope: Scope) => CycleReport {
    const visits = this.visits;
    if (visits === null) return (report) => report;
    const visitedNow = (): number => visits.n + (this.pair.base instanceof BaseTable ? this.pair.base.visited : 0);
    const before = visitedNow();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    return (report, scope) => {
      const used = process.cpuUsage(cpu);
      const known = this.pair.base.size + this.watchedEntries;
      const scoped = scope === 'all' ? 'all' : String(scope.size);
      process.stderr.write(
        `tsync timing: watch cycle (${report.full ? 'full' : 'dirty'}): scope ${scoped} paths, visited ${visitedNow() - before} of ${known} known; ${(performance.now() - t0).toFixed(1)} ms, cpu ${((used.user + used.system) / 1000).toFixed(1)} ms\n`,
      );
      return report;
    };
  }

  /** Whether cycles decided something that `persist` has not written yet. */
  get hasPending(): boolean {
    return this.pending.size > 0 || this.pendingConflicts.length > 0 || this.pendingRuns.length > 0;
  }

  /** Writes what the cycles since the last call decided, through the same persist stage as a sync. */
  async persist(): Promise<void> {
    if (!this.hasPending) return;
    const upserts = new Map<RelPath, BaseRecord>();
    const removals: RelPath[] = [];
    for (const [p, rec] of this.pending) {
      if (rec === null) removals.push(p);
      else upserts.set(p, rec);
    }
    // an open (skipped) conflict is seen again by every cycle that looks at it: keep its latest sighting
    const latestOpen = new Map(this.pendingConflicts.filter((c) => c.resolution === 'skipped').map((c) => [c.path, c]));
    const conflicts = [...this.pendingConflicts.filter((c) => c.resolution !== 'skipped'), ...latestOpen.values()];
    const batch = {
      changes: { upserts, removals },
      conflicts,
      openConflictScope: this.pendingFull ? ('all' as const) : new Set(this.pendingScope),
      runs: [...this.pendingRuns],
      written: this.pendingWritten,
      atMs: Date.now(),
    };
    this.pending.clear();
    this.pendingConflicts.length = 0;
    this.pendingScope.clear();
    this.pendingWritten = emptyWritten();
    this.pendingRuns.length = 0;
    this.pendingFull = false;
    // a watch batch waits for its flush (deferred-flush.ts): a long-running watch has no next open to owe it to
    await persist(this.pair, batch, this.settings.flush ? 'now' : 'off');
  }

  /** The directories of a side's last scan (what its watch should cover). */
  dirs(side: Side): Set<RelPath> {
    return this.sides[side].entries.dirPaths();
  }

  currentProblems(): Problem[] {
    return [...this.sides.left.problems.values(), ...this.sides.right.problems.values()];
  }

  private async cycle(scope: Scope, t0: number, full: boolean): Promise<CycleReport> {
    const left = { side: 'left' as const, entries: this.sides.left.entries, problems: [...this.sides.left.problems.values()], linked: this.sides.left.entries.linked };
    const right = { side: 'right' as const, entries: this.sides.right.entries, problems: [...this.sides.right.problems.values()], linked: this.sides.right.entries.linked };
    let result: CycleResult;
    try {
      result = await runCycle(this.pair, this.settings, { left, right, scope, trashStamp: this.trashStamps.at(Date.now()) });
    } catch (e) {
      // a lost remote session is no refusal: the watch ends with it (watch-loop.ts)
      if (e instanceof TsyncError && !endsTheSession(e)) return { result: null, halted: e, full, ms: Date.now() - t0 };
      throw e;
    }
    // Hashing may have found more problems; keep them with the scan.
    for (const p of [...left.problems, ...right.problems]) this.sides[p.side].problems.set(p.path, p);
    this.absorb(result, scope);
    this.logCycle(result, t0, this.cycles++ === 0);
    return { result, halted: null, full, ms: Date.now() - t0 };
  }

  /**
   * A run-log row for the first cycle (the watch's opening sync) and for each later cycle that applied
   * something, met a conflict, or had an action refused or fail. Problems a scan keeps finding (an
   * unreadable file) do not make a row each cycle: they are in the row of the cycle that did something.
   */
  private logCycle(r: CycleResult, t0: number, first: boolean): void {
    const acted = r.outcomes.anyAppliedOrProblem();
    if (!first && !acted && r.plan.conflicts.length === 0) return;
    const exitCode = exitStatusOf(r);
    this.pendingRuns.push(runRecordOf('watch', this.settings.mode, t0, { outcomes: r.outcomes, bytes: r.bytes, conflicts: r.plan.conflicts.length, problems: r.problems.length, exitCode }));
  }

  /** Brings the in-memory scans and base up to date with what the cycle applied. */
  private absorb(r: CycleResult, scope: Scope): void {
    for (const o of r.outcomes) {
      if (o.action.type === 'delete' && o.status === 'applied') this.sides[o.action.target].entries.delete(o.action.path);
      for (const rec of o.records ?? []) {
        this.sides.left.entries.set(rec.path, rec.left);
        this.sides.right.entries.set(rec.path, rec.right);
      }
    }
    advanceBase(this.pair.base, r.changes);
    for (const p of r.changes.upserts.keys()) this.index.add(p);
    for (const [p, rec] of r.changes.upserts) this.pending.set(p, rec);
    for (const p of r.changes.removals) this.pending.set(p, null);
    for (const c of r.plan.conflicts) this.pendingConflicts.push(c);
    if (scope === 'all') this.pendingFull = true;
    else for (const p of scope) this.pendingScope.add(p);
    mergeWritten(this.pendingWritten, writtenPathsOf(r.outcomes, r.trashStamp));
  }

  /**
   * A remote side's dirty paths, re-read by its agent (which applies no ignore files) and filtered here
   * with both sides' rules, as scan-pair.ts filters a full scan: a path is never seen on one side and
   * hidden on the other. Rules of directories read for the first time are learnt from the agent's reply.
   */
  private async rescanRemote(side: Side, paths: readonly RelPath[]): Promise<readonly RelPath[]> {
    const filter = this.filter ?? filterOf(this.pair, this.settings);
    const roots = rescanRoots(this.sides[side], paths);
    const fresh = await this.pair.endpoints[side].rescan(scanRequestOf(this.pair, this.settings, side, filter), roots);
    filter.learnTexts(fresh.rulesRead ?? new Map());
    try {
      dropExcluded(fresh.entries, fresh.problems, filter);
    } finally {
      filter.closeDirs();
    }
    applyRescan(this.sides[side], roots, fresh);
    return fresh.leftoverTemps;
  }

  private scanOptions(side: Side): ScanOptions {
    return {
      root: this.pair.root(side),
      side,
      base: this.pair.base,
      sideRecord: this.pair.store.sideRecordLookup(this.pair.base, side),
      checksum: this.settings.checksum,
      keep: this.settings.keep,
      filter: this.filter ?? filterOf(this.pair, this.settings),
    };
  }
}

/** Moves the in-memory base on to the next one, as the index will hold it once the batch is persisted. */
function advanceBase(base: Map<RelPath, BaseRecord>, changes: BaseChanges): void {
  for (const p of changes.removals) base.delete(p);
  for (const [p, rec] of changes.upserts) base.set(p, rec);
}

/** The remote side's session ended (the link is gone, or the far side spoke nonsense): nothing more can be done on it. */
export function endsTheSession(e: unknown): boolean {
  return e instanceof RemoteLostError || e instanceof ProtocolError;
}
