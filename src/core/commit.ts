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
  readonly outcomes: readonly Outcome[];
  /** The planner's scope: records outside it are not looked at. */
  readonly scope?: Scope;
  /** Per side, how recent a ctime must be to count as racy (stat-cache.ts); default: the coarse-clock window. */
  readonly racyWindowNs?: Readonly<Record<Side, bigint>>;
}

/**
 * The next base, as a diff against the current one. It changes only from what actually happened:
 * paths that already agreed, and actions the engine applied. A stale or failed action leaves its path's
 * record as it was, so the next run sees the difference again; that is what makes a crash harmless.
 */
export function nextBase({ base, left, right, plan, outcomes, scope = 'all', racyWindowNs = COARSE }: NextBaseInput): BaseChanges {
  const recordOf = (s: ScannedEntry, side: Side): SideRecord => sideRecordOf(s.stat, s.observedAtNs, racyWindowNs[side]);
  const next = new Map<RelPath, BaseRecord | null>();

  for (const path of plan.agreed) {
    const l = left.entries.get(path);
    const r = right.entries.get(path);
    if (l === undefined || r === undefined) continue;
    // The common case of a quiet run: the record is what the base holds already; nothing to write
    // (checked before any record is built: on a no-op run that is every path).
    const old = base.get(path);
    if (old !== undefined && recordsAgreed(old, l, r, racyWindowNs)) continue;
    next.set(path, { entry: mergedEntry(l.entry, r.entry), left: recordOf(l, 'left'), right: recordOf(r, 'right') });
  }
  /** Paths whose metadata a run set on one side so far: a merge may set it on both (merge-meta.ts). */
  const metaSet = new Map<RelPath, Side>();
  for (const o of outcomes) {
    const a = o.action;
    if (a.type === 'delete' && o.status === 'applied' && !next.has(a.path)) next.set(a.path, null);
    // Records are verified facts even when a later step of the same action failed (conflict units).
    for (const rec of o.records ?? []) {
      let record: BaseRecord = { entry: rec.entry, left: recordOf(rec.left, 'left'), right: recordOf(rec.right, 'right') };
      const earlier = next.get(rec.path);
      if (a.type === 'meta' && rec.path === a.path) {
        // The other side's half of this record is its scan; if a meta action set that side too, its own record is the truth.
        if (metaSet.get(a.path) === otherSide(a.target) && earlier !== undefined && earlier !== null) {
          record = a.target === 'left' ? { ...record, right: earlier.right } : { ...record, left: earlier.left };
        }
        metaSet.set(a.path, a.target);
      }
      next.set(rec.path, record);
    }
  }
  // Records for paths that are gone from both sides (and not hidden by a scan problem) are dropped.
  const blocked = blockedPaths([...left.problems, ...right.problems]);
  for (const path of scope === 'all' ? base.keys() : scope) {
    if (!base.has(path)) continue;
    if (next.has(path) || left.entries.has(path) || right.entries.has(path) || isBlocked(blocked, path)) continue;
    next.set(path, null);
  }

  const upserts = new Map<RelPath, BaseRecord>();
  const removals: RelPath[] = [];
  for (const [path, rec] of next) {
    const old = base.get(path);
    if (rec === null) {
      if (old !== undefined) removals.push(path);
    } else if (old === undefined || !sameRecord(old, rec)) {
      upserts.set(path, rec);
    }
  }
  return { upserts, removals };
}

const otherSide = (s: Side): Side => (s === 'left' ? 'right' : 'left');

const COARSE: Readonly<Record<Side, bigint>> = { left: RACY_WINDOW_NS, right: RACY_WINDOW_NS };

/** Two entries that agree in content; keep whichever hash is known. */
function mergedEntry(l: Entry, r: Entry): Entry {
  if (l.kind === 'file' && r.kind === 'file' && l.hash === null) return { ...l, hash: r.hash };
  return l;
}

/** Whether `old` is the record an agreed pair of scans would make: sameRecord without building that record. */
function recordsAgreed(old: BaseRecord, l: ScannedEntry, r: ScannedEntry, racyWindowNs: Readonly<Record<Side, bigint>>): boolean {
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
