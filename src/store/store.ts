import Database from 'better-sqlite3';
import { withNativeBinding } from './sqlite-binding.js';
import { accessSync, constants, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseChanges } from '../core/commit.js';
import type { AbsPath, Base, BaseRecord, Conflict, ConflictPolicy, ConflictResolution, ConflictVersion, Entry, EntryKind, RelPath, Side, SideRecord } from '../core/types.js';
import { StateError } from '../errors.js';
import { randomHex } from '../fs/random-hex.js';
import { errCode } from '../fs/stat.js';
import { type BaseTable, compareBytes } from './base-table.js';
import { loadBaseTable, type EntryRowValues } from './base-load.js';
import { readBaseSnapshot, rowsOf, type SnapshotRows, snapshotCount, snapshotFileOf, writeBaseSnapshot } from './base-snapshot.js';
import { MIGRATIONS } from './migrations.js';
import { pairKey } from './state-location.js';
import { keepRemovedRow, readOwedFlush, recordOwedFlush, settleOwedFlush, type OwedFlush, type OwedSettlement } from './unflushed.js';

type Db = Database.Database;

const KIND_CODE = { file: 1, dir: 2, symlink: 3 } as const;

const ENTRY_COLUMNS = 'path, kind, size, mode, mtime_ns, hash, target, l_mtime_ns, l_ino, l_ctime_ns, r_mtime_ns, r_ino, r_ctime_ns, uid, gid, xattrs';
const UPSERT_ENTRY = `INSERT OR REPLACE INTO entries (${ENTRY_COLUMNS}, gen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_CONFLICT = `INSERT INTO conflicts (at_ms, path, policy, resolution, winner, copy_name, f_kind, f_size, f_mtime_ns, f_hash, s_kind, s_size, s_mtime_ns, s_hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
interface ConflictRow {
  at_ms: bigint;
  path: Buffer;
  policy: string;
  resolution: string;
  winner: string | null;
  copy_name: Buffer | null;
  f_kind: string;
  f_size: bigint | null;
  f_mtime_ns: bigint;
  f_hash: string | null;
  s_kind: string;
  s_size: bigint | null;
  s_mtime_ns: bigint;
  s_hash: string | null;
}

/** A conflict as the index remembers it. */
export interface StoredConflict extends Conflict {
  readonly atMs: number;
}

export type RunCommand = 'sync' | 'apply' | 'watch';

/** One row of the run log (`tsync log`): a sync, an apply, or a watch cycle that changed something. */
export interface RunRecord {
  readonly command: RunCommand;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly mode: 'one-way' | 'two-way';
  readonly copied: number;
  readonly deleted: number;
  readonly bytes: number;
  readonly conflicts: number;
  readonly problems: number;
  readonly exitCode: number;
}

/** What one commit writes to the index, all in one transaction. */
export interface CommitBatch {
  readonly changes: BaseChanges;
  readonly conflicts: readonly Conflict[];
  readonly atMs: number;
  /** The open (skipped) conflicts this batch replaces: all of them, or those within a watch batch's scope. */
  readonly openConflictScope: ReadonlySet<RelPath> | 'all';
  /** The run-log rows of the runs (or watch cycles) whose results this batch records. */
  readonly runs: readonly RunRecord[];
  /** Set when the run commits before its flush (sync/deferred-flush.ts): its upserts are marked, its removals kept aside. */
  readonly owed?: OwedFlush;
}

export interface OpenedStore {
  readonly store: StateStore;
  /** Set when an unreadable index was moved aside and a fresh one started. */
  readonly warning: string | null;
}

/**
 * The state index of one pair of roots: one SQLite file outside both trees. Columns prefixed `l_`
 * belong to the pair's canonical first root, so `tsync sync B A` finds and reads the same records.
 */
export class StateStore {
  private readonly swapped: boolean;
  /**
   * The rows of the base the index holds under `token` (read from its rows, or as loaded plus a commit's changes):
   * written as the snapshot when the store closes.
   */
  private unsaved: { readonly rows: () => SnapshotRows | null; readonly token: string } | null = null;
  /** The base the last loadBase returned, while the index still holds exactly it (a commit ends that). */
  private loaded: BaseTable | null = null;
  /** Where the last loadBase found the base (TSYNC_TIMINGS, tests). */
  baseSource: 'snapshot' | 'rows' | null = null;
  /**
   * The statements a commit runs, prepared on first use and kept: a watch commits every cycle, and preparing them
   * again each time showed in the CPU profile of a one-file cycle (issue 11). Finalized when the database closes.
   */
  private readonly commitStatements = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Db,
    left: AbsPath,
    right: AbsPath,
  ) {
    this.swapped = pairKey(left, right).first !== left;
  }

  /** Opens (creating if needed) the index for the pair; an index that is not a database is set aside. */
  static open(stateDir: string, left: AbsPath, right: AbsPath): OpenedStore {
    ensureStateDir(stateDir);
    const key = pairKey(left, right);
    const file = join(stateDir, key.fileName);
    try {
      return { store: new StateStore(openDb(file, key.first, key.second), left, right), warning: null };
    } catch (e) {
      if (!isUnreadableDb(e)) throw asStateError(e, file);
      const aside = `${file}.corrupt-${Date.now()}`;
      try {
        renameSync(file, aside);
      } catch (moveError) {
        throw asStateError(moveError, file);
      }
      const warning = `the state index ${file} was unreadable and was moved to ${aside}; starting afresh (this run re-hashes files, nothing is lost)`;
      try {
        return { store: new StateStore(openDb(file, key.first, key.second), left, right), warning };
      } catch (e2) {
        throw asStateError(e2, file);
      }
    }
  }

  /** How many paths the base holds, without loading it. */
  countBase(): number {
    // the snapshot's header says, when the index vouches for the snapshot (base-snapshot.ts snapshotCount): the rows
    // this version loads, which a row of a kind it does not know is not (loadBase skips it)
    const token = this.snapshotToken();
    const counted = token === null ? null : snapshotCount(snapshotFileOf(this.db.name), token, this.swapped);
    return counted ?? this.countRows();
  }

  private countRows(): number {
    return Number(this.db.prepare('SELECT count(*) FROM entries').pluck().get());
  }

  /**
   * The paths of the base's directories, read without loading the base: a watch watches them before its first
   * scan (sync/watch-loop.ts), and loading the whole base there kept the scan's worker waiting (about 460 ms at
   * 100k files) for what it now loads while the worker walks.
   */
  dirPaths(): RelPath[] {
    const rows = this.db.prepare(`SELECT path FROM entries WHERE kind = ${KIND_CODE.dir}`).pluck().iterate() as IterableIterator<Buffer>;
    const out: RelPath[] = [];
    for (const path of rows) out.push(path.toString('latin1') as RelPath);
    return out;
  }

  /**
   * The base: from its snapshot file when the index vouches for it (base-snapshot.ts), else from the rows, under a
   * fresh token that the snapshot written at close() will carry.
   */
  loadBase(): BaseTable {
    const token = this.snapshotToken();
    if (token !== null) {
      const table = readBaseSnapshot(snapshotFileOf(this.db.name), token, this.swapped);
      if (table !== null) {
        this.baseSource = 'snapshot';
        this.unsaved = null;
        this.loaded = table;
        return table;
      }
    }
    this.baseSource = 'rows';
    const fresh = randomHex(16);
    let table: BaseTable;
    try {
      // one transaction: the token says "the rows as read here", and the triggers take it back at the next change
      table = this.db
        .transaction(() => {
          const rows = this.loadRows();
          this.db.prepare('DELETE FROM base_snapshot').run();
          this.db.prepare('INSERT INTO base_snapshot (token) VALUES (?)').run(fresh);
          return rows;
        })
        .immediate();
    } catch {
      // the index could not be written (read-only, or busy with another writer): no snapshot this time
      this.loaded = null;
      this.unsaved = null;
      return this.loadRows();
    }
    this.unsaved = {
      rows: () => {
        const columns = table.columnsOf();
        return columns === null ? null : rowsOf(columns);
      },
      token: fresh,
    };
    this.loaded = table;
    return table;
  }

  /** The base from the index's rows, one at a time in raw mode (`.all()` kept every row object alive at once). */
  private loadRows(): BaseTable {
    const count = this.countRows();
    const rows = this.db.prepare(`SELECT ${ENTRY_COLUMNS} FROM entries`).safeIntegers(true).raw(true);
    return loadBaseTable(rows.iterate() as IterableIterator<EntryRowValues>, count, this.swapped);
  }

  private snapshotToken(): string | null {
    const token: unknown = this.db.prepare('SELECT token FROM base_snapshot').pluck().get();
    return typeof token === 'string' ? token : null;
  }

  /**
   * Writes the snapshot of the base read from the rows, if the index still holds exactly those rows (its token is
   * still there) and the table is as it was read. Best effort: a snapshot not written costs the next run its speed.
   */
  private saveSnapshot(): void {
    const unsaved = this.unsaved;
    this.unsaved = null;
    if (unsaved === null) return;
    try {
      if (this.snapshotToken() !== unsaved.token) return;
      const rows = unsaved.rows();
      if (rows !== null) writeBaseSnapshot(snapshotFileOf(this.db.name), rows, unsaved.token, this.swapped);
    } catch {
      // the index unreadable now: its next open reports it
    }
  }

  /** Writes base changes, conflicts and run-log rows in one transaction: either all of it lands or none. */
  commit({ changes, conflicts, atMs, openConflictScope, runs, owed }: CommitBatch): void {
    const upsert = this.commitStatement(UPSERT_ENTRY);
    const remove = this.commitStatement('DELETE FROM entries WHERE path = ?');
    // A commit that writes rows leaves the index holding the base as loaded plus these changes: when that base is
    // still as it was loaded, the snapshot of the sum is made at close() under a token written here
    const writesRows = changes.upserts.size > 0 || changes.removals.length > 0;
    const loaded = this.loaded;
    const next = writesRows && loaded !== null && loaded.columnsOf() !== null && !rewritesMost(loaded.size, changes) ? { token: randomHex(16), base: loaded } : null;
    // in the index's order (paths by bytes): neighbouring rows share the index's pages, where a run's changes in map
    // order spread its writes over every page (3,500 random rows of a 100k-row index: 76-86 ms sorted, 103-106 not)
    const upserted = [...changes.upserts.keys()].sort(compareBytes);
    const removed = [...changes.removals].sort(compareBytes);
    const tx = this.db.transaction(() => {
      const gen = owed === undefined ? null : recordOwedFlush(this.db, owed, this.swapped);
      const keep = gen === null ? null : keepRemovedRow(this.db);
      for (const path of removed) {
        const key = Buffer.from(path, 'latin1');
        keep?.(key);
        remove.run(key);
      }
      for (const path of upserted) {
        const rec = changes.upserts.get(path) as BaseRecord;
        const [l, r] = this.swapped ? [rec.right, rec.left] : [rec.left, rec.right];
        upsert.run(Buffer.from(path, 'latin1'), ...entryColumns(rec.entry), ...sideColumns(l), ...sideColumns(r), ...metaColumns(rec.entry), gen);
      }
      // Open conflicts are replaced by the ones this run left open (for a watch cycle: within its scope).
      if (openConflictScope === 'all') this.commitStatement("DELETE FROM conflicts WHERE resolution = 'skipped'").run();
      else {
        const clear = this.commitStatement("DELETE FROM conflicts WHERE resolution = 'skipped' AND path = ?");
        for (const p of openConflictScope) clear.run(Buffer.from(p, 'latin1'));
      }
      for (const c of conflicts) this.insertConflict(c, atMs);
      for (const run of runs) this.insertRun(run);
      // after every row written, whose triggers took the old token back
      if (next !== null) {
        this.commitStatement('DELETE FROM base_snapshot').run();
        this.commitStatement('INSERT INTO base_snapshot (token) VALUES (?)').run(next.token);
      }
    });
    try {
      tx();
      if (writesRows) {
        this.loaded = null;
        // the sum is taken now: what the run holds may change after its commit (a watch moves on)
        const rows = next?.base.rowsWithChanges(changes, upserted) ?? null;
        this.unsaved = next === null || rows === null ? null : { rows: () => rows, token: next.token };
      }
    } catch (e) {
      // The transaction rolled back: the index still holds the previous run. What this run wrote is on
      // disk; the next run finds it in place (same bytes on both sides) and records it.
      throw new StateError(
        `could not record this run in the state index ${this.db.name} (${errCode(e)}: ${e instanceof Error ? e.message : String(e)}); the changes made are on disk and the next run picks them up`,
      );
    }
  }

  /** The statement for `sql`, prepared once per store (commitStatements). */
  private commitStatement(sql: string): Database.Statement {
    let statement = this.commitStatements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.commitStatements.set(sql, statement);
    }
    return statement;
  }

  private insertConflict(c: Conflict, atMs: number): void {
    const [f, sv] = this.swapped ? [c.right, c.left] : [c.left, c.right];
    const winner = c.winner === null ? null : (c.winner === 'left') !== this.swapped ? 'first' : 'second';
    this.commitStatement(INSERT_CONFLICT).run(
      atMs,
      Buffer.from(c.path, 'latin1'),
      c.policy,
      c.resolution,
      winner,
      c.copyName === null ? null : Buffer.from(c.copyName, 'latin1'),
      f.kind,
      f.size,
      f.mtimeNs,
      f.hash,
      sv.kind,
      sv.size,
      sv.mtimeNs,
      sv.hash,
    );
  }

  /** Conflicts as recorded, newest first, in this invocation's left/right orientation. */
  listConflicts(): StoredConflict[] {
    const rows = this.db.prepare('SELECT * FROM conflicts ORDER BY id DESC').safeIntegers(true).all() as ConflictRow[];
    return rows.map((row) => {
      const first: ConflictVersion = { kind: row.f_kind as EntryKind, size: row.f_size === null ? null : Number(row.f_size), mtimeNs: row.f_mtime_ns, hash: row.f_hash };
      const second: ConflictVersion = { kind: row.s_kind as EntryKind, size: row.s_size === null ? null : Number(row.s_size), mtimeNs: row.s_mtime_ns, hash: row.s_hash };
      const winner: Side | null = row.winner === null ? null : (row.winner === 'first') !== this.swapped ? 'left' : 'right';
      return {
        atMs: Number(row.at_ms),
        path: row.path.toString('latin1') as RelPath,
        policy: row.policy as ConflictPolicy,
        resolution: row.resolution as ConflictResolution,
        winner,
        copyName: row.copy_name === null ? null : (row.copy_name.toString('latin1') as RelPath),
        left: this.swapped ? second : first,
        right: this.swapped ? first : second,
      };
    });
  }

  private insertRun(run: RunRecord): void {
    this.commitStatement('INSERT INTO runs (command, started_at_ms, ended_at_ms, mode, copied, deleted, bytes, conflicts, problems, exit_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      run.command,
      run.startedAtMs,
      run.endedAtMs,
      run.mode,
      run.copied,
      run.deleted,
      run.bytes,
      run.conflicts,
      run.problems,
      run.exitCode,
    );
  }

  /** Past runs, newest first. */
  listRuns(limit: number): RunRecord[] {
    const rows = this.db
      .prepare('SELECT command, started_at_ms, ended_at_ms, mode, copied, deleted, bytes, conflicts, problems, exit_code FROM runs ORDER BY id DESC LIMIT ?')
      .all(limit) as {
      command: string;
      started_at_ms: number;
      ended_at_ms: number;
      mode: string;
      copied: number;
      deleted: number;
      bytes: number;
      conflicts: number;
      problems: number;
      exit_code: number;
    }[];
    return rows.map((r) => ({
      command: r.command === 'apply' || r.command === 'watch' ? r.command : 'sync',
      startedAtMs: r.started_at_ms,
      endedAtMs: r.ended_at_ms,
      mode: r.mode === 'one-way' ? 'one-way' : 'two-way',
      copied: r.copied,
      deleted: r.deleted,
      bytes: r.bytes,
      conflicts: r.conflicts,
      problems: r.problems,
      exitCode: r.exit_code,
    }));
  }

  /** The flush the last run left owed (store/unflushed.ts), or null. */
  owedFlush(): OwedFlush | null {
    return readOwedFlush(this.db, this.swapped);
  }

  /** Settles the owed flush: its marks cleared, or (lost) the run's rows taken back. */
  settleOwedFlush(how: OwedSettlement, bootId: string): { readonly dropped: number; readonly restored: number } {
    return settleOwedFlush(this.db, how, bootId);
  }

  /** Which of the stored sides is this invocation's `side`. */
  sideRecordLookup(base: Base, side: Side): (path: RelPath) => SideRecord | null | undefined {
    return (path) => {
      const rec = base.get(path);
      return rec === undefined ? undefined : side === 'left' ? rec.left : rec.right;
    };
  }

  /**
   * Fails (after the busy timeout) while another process holds a write lock on the index: a run checks
   * this before it changes either tree, so that a run which could not record its work does none.
   */
  ensureWritable(): void {
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('ROLLBACK');
    } catch (e) {
      const code = errCode(e);
      const why = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' ? 'is locked by another process' : 'cannot be written';
      throw new StateError(`the state index ${this.db.name} ${why} (${code}); nothing was changed`);
    }
  }

  close(): void {
    try {
      this.saveSnapshot();
    } finally {
      this.db.close();
    }
  }
}

/**
 * A commit that rewrites most of the base (a first sync) leaves its snapshot to the next run's load: the table of
 * its upserts that the sum is read from would be as big as the base, at the end of the run that peaked highest.
 */
function rewritesMost(loaded: number, changes: BaseChanges): boolean {
  return changes.upserts.size + changes.removals.length > Math.max(1000, loaded / 2);
}

export function ensureStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateError(`cannot create the state directory ${stateDir} (${errCode(e)}); choose another with --state-dir or $TSYNC_STATE_DIR`);
  }
  // SQLite would only say SQLITE_CANTOPEN about the lock or index file: name the real cause first.
  try {
    accessSync(stateDir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new StateError(`the state directory ${stateDir} is not writable (${errCode(e)}); choose another with --state-dir or $TSYNC_STATE_DIR`);
  }
}

/** The index's page cache in KiB (SQLite's default). */
const INDEX_CACHE_KIB = 2000;

function openDb(file: string, first: AbsPath, second: AbsPath): Db {
  const db = new Database(file, withNativeBinding({ timeout: 5000 }));
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; a power cut can lose the last commit,
    // which only means the next run re-derives it from the trees (slower, never wrong).
    db.pragma('synchronous = NORMAL');
    // SQLite's own default page cache (2 MiB), not the 16 MiB better-sqlite3 builds it with: the index is read
    // once from start to end and written in one transaction per run, and a run that fills the larger cache keeps
    // it in its RSS (issue 11: a 100k-file run peaked 9-11 MB lower, at the same speed, measured five times each)
    db.pragma(`cache_size = -${INDEX_CACHE_KIB}`);
    migrate(db);
    checkRoots(db, first, second);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function migrate(db: Db): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > MIGRATIONS.length) {
    throw new StateError(`the state index was written by a newer tsync (schema ${current}, this one knows ${MIGRATIONS.length}); upgrade tsync or use another --state-dir`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v];
    if (sql === undefined) break;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function checkRoots(db: Db, first: AbsPath, second: AbsPath): void {
  const rows = db.prepare('SELECT slot, path FROM roots').all() as { slot: string; path: Buffer }[];
  if (rows.length === 0) {
    const ins = db.prepare('INSERT INTO roots (slot, path) VALUES (?, ?)');
    db.transaction(() => {
      ins.run('first', Buffer.from(first, 'latin1'));
      ins.run('second', Buffer.from(second, 'latin1'));
    })();
    return;
  }
  const stored = new Map(rows.map((r) => [r.slot, r.path.toString('latin1')]));
  if (stored.get('first') !== first || stored.get('second') !== second) {
    throw new StateError('the state index belongs to another pair of roots (hash collision?); use another --state-dir');
  }
}

function isUnreadableDb(e: unknown): boolean {
  const code = errCode(e);
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

function asStateError(e: unknown, file: string): StateError {
  if (e instanceof StateError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new StateError(`cannot use the state index ${file}: ${msg}`);
}

type EntryColumns = [number, number | null, number | null, bigint, string | null, Buffer | null];

function entryColumns(e: Entry): EntryColumns {
  switch (e.kind) {
    case 'file':
      return [KIND_CODE.file, e.size, e.mode, e.mtimeNs, e.hash, null];
    case 'dir':
      return [KIND_CODE.dir, null, e.mode, e.mtimeNs, null, null];
    case 'symlink':
      return [KIND_CODE.symlink, null, null, e.mtimeNs, null, Buffer.from(e.target, 'latin1')];
  }
}

function metaColumns(e: Entry): [number | null, number | null, string | null] {
  return [e.uid ?? null, e.gid ?? null, e.kind === 'symlink' ? null : (e.xattrs ?? null)];
}

// Inode numbers are unsigned 64-bit; SQLite integers are signed. Store the same 64 bits either way.
function sideColumns(s: SideRecord | null): [bigint | null, bigint | null, bigint | null] {
  return s === null ? [null, null, null] : [s.mtimeNs, BigInt.asIntN(64, s.ino), s.ctimeNs];
}
