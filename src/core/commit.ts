import { isBlocked, blockedPaths } from './blocked.js';
import type { Scope } from './scope.js';
import { isRacy, RACY_CTIME, RACY_WINDOW_NS, sideRecordOf } from './stat-cache.js';
import type { Base, BaseRecord, Entry, Outcome, Plan, RelPath, ScannedEntry, Side, SideRecord, Snapshot } from './types.js';

export interface BaseChanges {
  readonly upserts: ReadonlyMap<RelPath, BaseRecord>;
  readonly removals: readonly RelPath[];
}

export interface NextBaseInput {
  readonly base: Base;
  readonly left: Snapshot;
  readonly right: Snapshot;
  readonly plan: Plan;
  readonly outcomes: Iterable<Outcome>;
  /** The planner's scope: records outside it are not looked at. */
  readonly scope?: Scope;
  /** Per side, how recent a ctime must be to count as racy (stat-cache.ts); default: the coarse-clock window. */
  readonly racyWindowNs?: Readonly<Record<Side, bigint>>;
  /**
   * An empty map to collect the next records in, which becomes the upserts (default: a plain Map). A run of
   * 100k copies makes 100k of them: the caller may hand a map that keeps them compact (store/base-table.ts).
   */
  readonly records?: Map<RelPath, BaseRecord>;
}

/**
 * The next base, as a diff against the current one. It changes only from what actually happened:
 * paths that already agreed, and actions the engine applied. A stale or failed action leaves its path's
 * record as it was, so the next run sees the difference again; that is what makes a crash harmless.
 */
export function nextBase({ outcomes, scope = 'all', ...input }: NextBaseInput): BaseChanges {
  const next = new NextBase(input);
  for (const o of outcomes) next.add(o);
  return next.finish(scope);
}

/**
 * nextBase one outcome at a time, as the engine reports them (issue 11, memory): each outcome's records
 * become base records at once, so a run need not keep every copy's scanned entries (both sides' stats)
 * until the end. The records are taken in the order added, as nextBase takes the outcomes' order.
 */
export class NextBase {
  private readonly base: Base;
  private readonly left: Snapshot;
  private readonly right: Snapshot;
  private readonly racyWindowNs: Readonly<Record<Side, bigint>>;
  /** The next record per path. Becomes the upserts at finish. */
  private readonly records: Map<RelPath, BaseRecord>;
  /** Paths to remove from the base (never one that has a next record). */
  private readonly removed = new Set<RelPath>();
  /** Paths whose metadata a run set on one side so far: a merge may set it on both (merge-meta.ts). */
  private readonly metaSet = new Map<RelPath, Side>();

  constructor({ base, left, right, plan, racyWindowNs = COARSE, records = new Map() }: Omit<NextBaseInput, 'outcomes' | 'scope'>) {
    this.base = base;
    this.records = records;
    this.left = left;
    this.right = right;
    this.racyWindowNs = racyWindowNs;
    const agreeing = agreeingBaseOf(base);
    for (const path of plan.agreed) {
      const l = left.entries.get(path);
      const r = right.entries.get(path);
      if (l === undefined || r === undefined) continue;
      // The common case of a quiet run: the record is what the base holds already; nothing to write
      // (checked before any record is built: on a no-op run that is every path; a base that can answer
      // from its own columns does, and builds no record either).
      const known = agreeing?.recordAgrees(path, l, r, racyWindowNs) ?? null;
      if (known === true) continue;
      if (known === null) {
        const old = base.get(path);
        if (old !== undefined && recordsAgreed(old, l, r, racyWindowNs)) continue;
      }
      this.records.set(path, { entry: mergedEntry(l.entry, r.entry), left: this.recordOf(l, 'left'), right: this.recordOf(r, 'right') });
    }
  }

  private recordOf(s: ScannedEntry, side: Side): SideRecord {
    return sideRecordOf(s.stat, s.observedAtNs, this.racyWindowNs[side]);
  }

  /** Takes one outcome's effect on the base: a delete applied, and the records (verified facts even when a later step of the same action failed: conflict units). */
  add(o: Outcome): void {
    const a = o.action;
    const { records, removed } = this;
    if (a.type === 'delete' && o.status === 'applied' && !records.has(a.path)) removed.add(a.path);
    for (const rec of o.records ?? []) {
      let record: BaseRecord = { entry: rec.entry, left: this.recordOf(rec.left, 'left'), right: this.recordOf(rec.right, 'right') };
      if (a.type === 'meta' && rec.path === a.path) {
        // The other side's half of this record is its scan; if a meta action set that side too, its own record is the truth.
        // (Looked up only here: for the other outcomes, a first copy's 100k among them, the lookup found nothing to use.)
        const earlier = this.metaSet.get(a.path) === otherSide(a.target) ? records.get(rec.path) : undefined;
        if (earlier !== undefined) {
          record = a.target === 'left' ? { ...record, right: earlier.right } : { ...record, left: earlier.left };
        }
        this.metaSet.set(a.path, a.target);
      }
      removed.delete(rec.path);
      records.set(rec.path, record);
    }
  }

  /** The changes, once every outcome was added. `scope`: the planner's; records outside it are not looked at. */
  finish(scope: Scope = 'all'): BaseChanges {
    const { base, left, right, records, removed } = this;
    // Records for paths that are gone from both sides (and not hidden by a scan problem) are dropped.
    const blocked = blockedPaths([...left.problems, ...right.problems]);
    for (const path of scope === 'all' ? base.keys() : scope) {
      if (!base.has(path)) continue;
      if (records.has(path) || removed.has(path) || left.entries.has(path) || right.entries.has(path) || isBlocked(blocked, path)) continue;
      removed.add(path);
    }
    const removals: RelPath[] = [];
    for (const path of removed) if (base.has(path)) removals.push(path);
    // The map of next records becomes the upserts in place: no second map the size of the run.
    for (const [path, rec] of records) {
      const old = base.get(path);
      if (old !== undefined && sameRecord(old, rec)) records.delete(path);
    }
    removed.clear();
    this.metaSet.clear();
    return { upserts: records, removals };
  }
}

const otherSide = (s: Side): Side => (s === 'left' ? 'right' : 'left');

const COARSE: Readonly<Record<Side, bigint>> = { left: RACY_WINDOW_NS, right: RACY_WINDOW_NS };

/** Two entries that agree in content; keep whichever hash is known. */
function mergedEntry(l: Entry, r: Entry): Entry {
  if (l.kind === 'file' && r.kind === 'file' && l.hash === null) return { ...l, hash: r.hash };
  return l;
}

/**
 * A base that can tell, from its own storage, whether its record at `path` is the one an agreed pair of scans
 * would make (recordsAgreed) without building the record (store/base-table.ts); null: it cannot say here, ask the record.
 */
export interface AgreeingBase {
  recordAgrees(path: RelPath, l: ScannedEntry, r: ScannedEntry, racyWindowNs: Readonly<Record<Side, bigint>>): boolean | null;
}

export function agreeingBaseOf(base: Base): AgreeingBase | null {
  return 'recordAgrees' in base && typeof base.recordAgrees === 'function' ? (base as Base & AgreeingBase) : null;
}

/** Whether `old` is the record an agreed pair of scans would make: sameRecord without building that record. */
export function recordsAgreed(old: BaseRecord, l: ScannedEntry, r: ScannedEntry, racyWindowNs: Readonly<Record<Side, bigint>>): boolean {
  const e = l.entry;
  const hashed = e.kind === 'file' && e.hash === null && r.entry.kind === 'file' ? { ...e, hash: r.entry.hash } : e;
  return sameEntry(old.entry, hashed) && sameScannedSide(old.left, l, racyWindowNs.left) && sameScannedSide(old.right, r, racyWindowNs.right);
}

/** sameSide(recorded, sideRecordOf(s.stat, s.observedAtNs, windowNs)), without the record. */
function sameScannedSide(recorded: SideRecord | null, s: ScannedEntry, windowNs: bigint): boolean {
  if (recorded === null) return false;
  const ctimeNs = isRacy(s.stat.ctimeNs, s.observedAtNs, windowNs) ? RACY_CTIME : s.stat.ctimeNs;
  return recorded.mtimeNs === s.stat.mtimeNs && recorded.ino === s.stat.ino && recorded.ctimeNs === ctimeNs;
}

function sameRecord(a: BaseRecord, b: BaseRecord): boolean {
  return sameEntry(a.entry, b.entry) && sameSide(a.left, b.left) && sameSide(a.right, b.right);
}

function sameSide(a: SideRecord | null, b: SideRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mtimeNs === b.mtimeNs && a.ino === b.ino && a.ctimeNs === b.ctimeNs;
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.size === b.size && a.mode === b.mode && a.mtimeNs === b.mtimeNs && a.hash === b.hash;
  if (a.kind === 'dir' && b.kind === 'dir') return a.mode === b.mode && a.mtimeNs === b.mtimeNs;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target && a.mtimeNs === b.mtimeNs;
  return false;
}
