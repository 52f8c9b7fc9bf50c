// Numbered schema migrations: MIGRATIONS[n] brings PRAGMA user_version from n to n + 1.
// Append only; never edit a migration that has shipped.

export const MIGRATIONS: readonly string[] = [
  `
  -- The pair's roots, to notice a state file that belongs to other roots.
  CREATE TABLE roots (
    slot TEXT PRIMARY KEY NOT NULL,     -- 'first' | 'second' (canonical byte order of the real paths)
    path BLOB NOT NULL
  );

  -- The base: per path, the last entry both roots agreed on, and each root's stat identity (stat cache).
  CREATE TABLE entries (
    path BLOB PRIMARY KEY NOT NULL,     -- raw bytes, '/'-separated, relative to the roots
    kind INTEGER NOT NULL,              -- 1 file, 2 directory, 3 symlink
    size INTEGER,
    mode INTEGER,
    mtime_ns INTEGER,
    hash TEXT,                          -- XXH64, 16 hex digits
    target BLOB,                        -- symlink target, raw bytes
    l_mtime_ns INTEGER, l_ino INTEGER, l_ctime_ns INTEGER,
    r_mtime_ns INTEGER, r_ino INTEGER, r_ctime_ns INTEGER
  ) WITHOUT ROWID;

  -- One row per run.
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER NOT NULL,
    mode TEXT NOT NULL,
    copied INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    problems INTEGER NOT NULL,
    exit_code INTEGER NOT NULL
  );
  `,
  `
  -- Every conflict met: both versions, the policy and what was done. Rows with resolution 'skipped'
  -- are the conflicts still open; each run replaces them with the ones it left open.
  CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    path BLOB NOT NULL,
    policy TEXT NOT NULL,
    resolution TEXT NOT NULL,           -- 'kept-both' | 'skipped'
    winner TEXT,                        -- 'first' | 'second' (canonical roots), NULL when skipped
    copy_name BLOB,
    f_kind TEXT NOT NULL, f_size INTEGER, f_mtime_ns INTEGER NOT NULL, f_hash TEXT,
    s_kind TEXT NOT NULL, s_size INTEGER, s_mtime_ns INTEGER NOT NULL, s_hash TEXT
  );
  CREATE INDEX conflicts_by_path ON conflicts (path);
  `,
  `
  -- Which command wrote a run row: 'sync', 'apply', or 'watch' (one row per watch cycle that changed
  -- something, written in the same transaction as that cycle's index changes), and how many conflicts it met.
  ALTER TABLE runs ADD COLUMN command TEXT NOT NULL DEFAULT 'sync';
  ALTER TABLE runs ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Owner, group and the digest of the extended attributes (fs/xattrs.ts) a path had when both sides
  -- agreed; NULL where the run did not keep them (--no-owner, --no-group, --no-xattrs, no right to chown).
  ALTER TABLE entries ADD COLUMN uid INTEGER;
  ALTER TABLE entries ADD COLUMN gid INTEGER;
  ALTER TABLE entries ADD COLUMN xattrs TEXT;
  `,
  `
  -- Durability owed (sync/deferred-flush.ts): a one-shot run commits at once and its flush is owed to the
  -- next run. The rows it upserted carry its generation in \`gen\`; the rows it removed are kept, as they
  -- were, in removed_unflushed; flush_owed says whether a flush is owed, for which generation, on which
  -- sides (JSON, canonical 'first'/'second'), and the kernel boot id of the run that owes it.
  ALTER TABLE entries ADD COLUMN gen INTEGER;
  CREATE TABLE flush_owed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL,               -- the last generation given out
    owed INTEGER NOT NULL,              -- 1: that generation's flush has not been done
    boot_id TEXT,
    sides TEXT
  );
  INSERT INTO flush_owed (id, gen, owed) VALUES (1, 0, 0);
  CREATE TABLE removed_unflushed (
    path BLOB PRIMARY KEY NOT NULL,
    kind INTEGER NOT NULL, size INTEGER, mode INTEGER, mtime_ns INTEGER, hash TEXT, target BLOB,
    l_mtime_ns INTEGER, l_ino INTEGER, l_ctime_ns INTEGER,
    r_mtime_ns INTEGER, r_ino INTEGER, r_ctime_ns INTEGER,
    uid INTEGER, gid INTEGER, xattrs TEXT
  ) WITHOUT ROWID;
  `,
  `
  -- The token of the base's snapshot file beside the index (store/base-snapshot.ts): the file is read only while
  -- its token is here. Any change to entries, by any writer, deletes the token in the same transaction.
  CREATE TABLE base_snapshot (token TEXT NOT NULL);
  CREATE TRIGGER entries_insert_voids_snapshot AFTER INSERT ON entries WHEN EXISTS (SELECT 1 FROM base_snapshot)
    BEGIN DELETE FROM base_snapshot; END;
  CREATE TRIGGER entries_update_voids_snapshot AFTER UPDATE ON entries WHEN EXISTS (SELECT 1 FROM base_snapshot)
    BEGIN DELETE FROM base_snapshot; END;
  CREATE TRIGGER entries_delete_voids_snapshot AFTER DELETE ON entries WHEN EXISTS (SELECT 1 FROM base_snapshot)
    BEGIN DELETE FROM base_snapshot; END;
  `,
];
