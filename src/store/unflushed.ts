import type Database from 'better-sqlite3';
import type { RelPath, Side } from '../core/types.js';

type Db = Database.Database;

/**
 * What one side still owes to disk after a run that committed without waiting for its flush: the
 * paths a targeted flush would have fsynced (few), or null for a syncfs of the side's file system.
 */
export interface OwedSide {
  readonly rootMade: boolean;
  /** The mount that held the root when the run committed (fs/boot-id.ts), or null if unknown. */
  readonly mount: string | null;
  /**
   * The boot of the machine the root is on (a remote root's is the far machine's); absent in records made
   * before remote roots could owe a flush, which were all local: then the record's `bootId`.
   */
  readonly bootId?: string;
  readonly paths: { readonly inodes: readonly RelPath[]; readonly dirs: readonly (RelPath | null)[] } | null;
}

/** A flush owed by the last run (sync/deferred-flush.ts), in this invocation's left/right orientation. */
export interface OwedFlush {
  /** The kernel boot id when the run committed: the writes are in that boot's page cache. */
  readonly bootId: string;
  readonly sides: Partial<Record<Side, OwedSide>>;
}

/** How an owed flush was settled: done (the marks are cleared), or lost (the run's rows are taken back). */
export type OwedSettlement = 'flushed' | 'lost';

/** The entry columns copied aside and back (the same list as store.ts's ENTRY_COLUMNS). */
const ROW_COLUMNS = 'path, kind, size, mode, mtime_ns, hash, target, l_mtime_ns, l_ino, l_ctime_ns, r_mtime_ns, r_ino, r_ctime_ns, uid, gid, xattrs';

type StoredSides = Partial<Record<'first' | 'second', OwedSide>>;

const canonical = (side: Side, swapped: boolean): 'first' | 'second' => ((side === 'left') !== swapped ? 'first' : 'second');

/** The flush the last run owes, or null (nothing owed). */
export function readOwedFlush(db: Db, swapped: boolean): OwedFlush | null {
  const row = db.prepare('SELECT owed, boot_id, sides FROM flush_owed WHERE id = 1').get() as { owed: number; boot_id: string | null; sides: string | null } | undefined;
  if (row === undefined || row.owed !== 1) return null;
  const stored = JSON.parse(row.sides ?? '{}') as StoredSides;
  const sides: Partial<Record<Side, OwedSide>> = {};
  for (const side of ['left', 'right'] as const) {
    const owed = stored[canonical(side, swapped)];
    if (owed !== undefined) sides[side] = owed;
  }
  return { bootId: row.boot_id ?? '', sides };
}

/**
 * Inside a commit's transaction: records the flush the run owes and returns the generation its upserts
 * are marked with. An earlier flush still owed would be a bug (every run that commits settles it when
 * it opens the pair, sync/deferred-flush.ts): its marks would be overwritten, so it is refused.
 */
export function recordOwedFlush(db: Db, owed: OwedFlush, swapped: boolean): number {
  const row = db.prepare('SELECT gen, owed FROM flush_owed WHERE id = 1').get() as { gen: number; owed: number };
  if (row.owed === 1) throw new Error('internal: a flush is still owed by an earlier run; it must be settled before the next commit');
  const sides: StoredSides = {};
  for (const side of ['left', 'right'] as const) {
    const s = owed.sides[side];
    if (s !== undefined) sides[canonical(side, swapped)] = s;
  }
  const gen = row.gen + 1;
  db.prepare('UPDATE flush_owed SET gen = ?, owed = 1, boot_id = ?, sides = ? WHERE id = 1').run(gen, owed.bootId, JSON.stringify(sides));
  return gen;
}

/** Inside the same transaction, before a removal: the row as it was, to be put back if the run's writes are lost. */
export function keepRemovedRow(db: Db): (path: Buffer) => void {
  const keep = db.prepare(`INSERT OR REPLACE INTO removed_unflushed (${ROW_COLUMNS}) SELECT ${ROW_COLUMNS} FROM entries WHERE path = ?`);
  return (path) => {
    keep.run(path);
  };
}

/**
 * Settles the owed flush in one transaction. 'flushed': the marks go, the rows stay. 'lost': the rows
 * the run upserted are dropped and the rows it removed come back as they were (sync/deferred-flush.ts
 * says why that is the state of a run that never committed). Returns how many rows were dropped and restored.
 * `bootId` is the one read with the owed flush: a dry run holds no lock, and a run that settled the
 * same flush and owes its own since (in this boot) must not have its rows taken back.
 */
export function settleOwedFlush(db: Db, how: OwedSettlement, bootId: string): { readonly dropped: number; readonly restored: number } {
  return db.transaction(() => {
    const row = db.prepare('SELECT gen, owed, boot_id FROM flush_owed WHERE id = 1').get() as { gen: number; owed: number; boot_id: string | null };
    if (row.owed !== 1 || row.boot_id !== bootId) return { dropped: 0, restored: 0 };
    let dropped = 0;
    let restored = 0;
    if (how === 'lost') {
      dropped = db.prepare('DELETE FROM entries WHERE gen = ?').run(row.gen).changes;
      restored = db.prepare(`INSERT OR REPLACE INTO entries (${ROW_COLUMNS}) SELECT ${ROW_COLUMNS} FROM removed_unflushed`).run().changes;
    }
    db.prepare('DELETE FROM removed_unflushed').run();
    db.prepare('UPDATE flush_owed SET owed = 0, boot_id = NULL, sides = NULL WHERE id = 1').run();
    return { dropped, restored };
  })();
}
