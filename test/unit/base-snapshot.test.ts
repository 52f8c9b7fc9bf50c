import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AbsPath, BaseRecord, Entry, RelPath } from '../../src/core/types.js';
import { binaryArb, recordArb } from '../helpers/base-records.js';
import { BaseTable, roomFor } from '../../src/store/base-table.js';
import { bytesReader, decodeSnapshot, encodeSnapshot, readBaseSnapshot, rowsOf, snapshotFileOf, writeBaseSnapshot } from '../../src/store/base-snapshot.js';
import { pairKey } from '../../src/store/state-location.js';
import { StateStore } from '../../src/store/store.js';

// The base's snapshot file (store/base-snapshot.ts) is a cache of the index's rows: read back, it must give
// exactly what the rows give, and it must never be read once the rows have changed, whoever changed them.
// Real SQLite files and real snapshot files in a temp dir; a second connection plays "another writer".

const dir = mkdtempSync(join(tmpdir(), 'tsync-base-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rowsArb = fc.uniqueArray(fc.tuple(binaryArb(1), recordArb), { selector: ([p]) => p, maxLength: 12 });

const A = '/roots/a' as AbsPath;
const B = '/roots/b' as AbsPath;
let n = 0;
let count = 0;

const file = (size: number, hash: string | null = 'aaaaaaaaaaaaaaaa'): BaseRecord => ({
  entry: { kind: 'file', size, mode: 0o644, mtimeNs: 5n, hash },
  left: { mtimeNs: 5n, ino: 11n, ctimeNs: 6n },
  right: { mtimeNs: 5n, ino: 12n, ctimeNs: 6n },
});
const P = (s: string): RelPath => s as RelPath;

/** A state dir whose index holds `rows`, loaded once from the rows and closed: the snapshot is written. */
function indexWith(rows: ReadonlyMap<RelPath, BaseRecord>): string {
  const stateDir = join(dir, String(n++));
  const { store } = StateStore.open(stateDir, A, B);
  store.commit({ changes: { upserts: rows, removals: [] }, conflicts: [], atMs: 0, openConflictScope: 'all', runs: [] });
  store.loadBase();
  expect(store.baseSource).toBe('rows');
  store.close();
  return stateDir;
}

function load(stateDir: string, left = A, right = B): { base: Map<RelPath, BaseRecord>; source: string | null } {
  const { store } = StateStore.open(stateDir, left, right);
  try {
    const base = new Map(store.loadBase().entries());
    return { base, source: store.baseSource };
  } finally {
    store.close();
  }
}

function dbFileOf(stateDir: string): string {
  return join(stateDir, pairKey(A, B).fileName);
}

/** Writes a snapshot of one row, 'forged', for the index's live token, over the one there; returns its file. */
function forgeSnapshot(stateDir: string): string {
  const db = new Database(dbFileOf(stateDir));
  const token = db.prepare('SELECT token FROM base_snapshot').pluck().get() as string;
  db.close();
  const forged = new BaseTable(1);
  forged.append(P('forged'), file(99).entry, null, null);
  const columns = forged.columnsOf();
  if (columns === null) throw new Error('unreachable: a fresh table has its columns');
  const snapshot = snapshotFileOf(dbFileOf(stateDir));
  expect(writeBaseSnapshot(snapshot, rowsOf(columns), token, false)).toBe(true);
  return snapshot;
}

describe('the base snapshot', () => {
  it('gives back exactly what the rows give, in the orientation it was made in only', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const model = new Map(rows.map(([p, r]) => [p as RelPath, r]));
        const stateDir = indexWith(model);
        const again = load(stateDir);
        expect(again.source).toBe('snapshot');
        expect(again.base).toEqual(model);
        // the other orientation reads the rows (and makes its own snapshot)
        const mirrored = new Map([...model].map(([p, r]) => [p, { entry: r.entry, left: r.right, right: r.left }]));
        const swapped = load(stateDir, B, A);
        expect(swapped.source).toBe('rows');
        expect(swapped.base).toEqual(mirrored);
        expect(load(stateDir, B, A)).toEqual({ base: mirrored, source: 'snapshot' });
      }),
      { numRuns: 40 },
    );
  });

  it('is read while its token is the index’s: a file made for the live token is what the base becomes', () => {
    // shows that the cases below would see a stale snapshot if the index did not take its token back
    const stateDir = indexWith(new Map([[P('a'), file(1)]]));
    forgeSnapshot(stateDir);
    expect([...load(stateDir).base.keys()]).toEqual(['forged']);
  });

  it('gives the base’s path count while its token is the index’s, and the rows give it otherwise', () => {
    const count = (stateDir: string): number => {
      const { store } = StateStore.open(stateDir, A, B);
      try {
        return store.countBase();
      } finally {
        store.close();
      }
    };
    const stateDir = indexWith(
      new Map([
        [P('a'), file(1)],
        [P('b'), file(2)],
      ]),
    );
    expect(count(stateDir)).toBe(2);
    // a snapshot for the live token that holds one row: its header is what is read, not the rows
    const snapshot = forgeSnapshot(stateDir);
    expect(count(stateDir)).toBe(1);
    // another orientation's, a torn one, none: the rows
    const { store: swapped } = StateStore.open(stateDir, B, A);
    expect(swapped.countBase()).toBe(2);
    swapped.close();
    truncateSync(snapshot, 20);
    expect(count(stateDir)).toBe(2);
    forgeSnapshot(stateDir);
    const writer = new Database(dbFileOf(stateDir));
    writer.exec("INSERT INTO entries (path, kind) VALUES (CAST('new' AS BLOB), 2)");
    writer.close();
    expect(count(stateDir)).toBe(3);
  });

  it('is never read once any writer changed the rows: another connection’s update, insert or delete', () => {
    for (const change of [
      "UPDATE entries SET size = 7 WHERE path = CAST('a' AS BLOB)",
      "DELETE FROM entries WHERE path = CAST('a' AS BLOB)",
      "INSERT INTO entries (path, kind) VALUES (CAST('new' AS BLOB), 2)",
    ]) {
      const stateDir = indexWith(new Map([[P('a'), file(1)]]));
      expect(load(stateDir).source).toBe('snapshot');
      const db = new Database(dbFileOf(stateDir));
      db.exec(change);
      const expected = new Map(
        (db.prepare('SELECT path FROM entries').pluck().all() as Buffer[]).map((p) => [
          p.toString('latin1'),
          (db.prepare('SELECT size FROM entries WHERE path = ?').pluck().get(p) as number | null) ?? null,
        ]),
      );
      db.close();
      const after = load(stateDir);
      expect(after.source).toBe('rows');
      expect(new Map([...after.base].map(([p, r]) => [p, r.entry.kind === 'file' ? r.entry.size : null]))).toEqual(expected);
    }
  });

  it('after a commit is the committed base; a run whose base changed before its commit (a watch) leaves none', () => {
    const stateDir = indexWith(new Map([[P('a'), file(1)]]));
    const { store } = StateStore.open(stateDir, A, B);
    expect(store.loadBase().size).toBe(1);
    store.commit({ changes: { upserts: new Map([[P('b'), file(2)]]), removals: [P('a')] }, conflicts: [], atMs: 0, openConflictScope: 'all', runs: [] });
    store.close();
    expect(load(stateDir)).toEqual({ base: new Map([[P('b'), file(2)]]), source: 'snapshot' });
    const { store: watch } = StateStore.open(stateDir, A, B);
    watch.loadBase().set(P('c'), file(3));
    watch.commit({ changes: { upserts: new Map([[P('c'), file(3)]]), removals: [] }, conflicts: [], atMs: 0, openConflictScope: 'all', runs: [] });
    watch.close();
    expect(load(stateDir)).toEqual({
      base: new Map([
        [P('b'), file(2)],
        [P('c'), file(3)],
      ]),
      source: 'rows',
    });
  });

  it('is not written from a table changed since it was read (a watch moves its base on between commits)', () => {
    const stateDir = indexWith(new Map([[P('a'), file(1)]]));
    const db = new Database(dbFileOf(stateDir));
    db.exec('DELETE FROM base_snapshot');
    db.close();
    const { store } = StateStore.open(stateDir, A, B);
    store.loadBase().set(P('moved-on'), file(3));
    store.close();
    expect(load(stateDir)).toEqual({ base: new Map([[P('a'), file(1)]]), source: 'rows' });
  });

  it('falls back to the rows when the file is torn, garbage or gone', () => {
    const model = new Map([
      [P('a'), file(1)],
      [P('d/\xe9'), file(2, null)],
    ]);
    for (const damage of [(f: string) => truncateSync(f, Math.floor(readFileSync(f).length / 2)), (f: string) => writeFileSync(f, Buffer.alloc(4096, 0x41)), (f: string) => rmSync(f)]) {
      const stateDir = indexWith(model);
      damage(snapshotFileOf(dbFileOf(stateDir)));
      expect(load(stateDir)).toEqual({ base: model, source: 'rows' });
    }
  });

  it('decodes nothing from bytes made for another token, another orientation, or cut short anywhere', () => {
    const t = new BaseTable(2);
    t.append(P('x'), file(1).entry, null, null);
    t.append(P('y'), { kind: 'symlink', target: 'x', mtimeNs: 1n }, null, null);
    const columns = t.columnsOf();
    if (columns === null) throw new Error('unreachable');
    const parts = encodeSnapshot(rowsOf(columns), 'tok', false);
    if (parts === null) throw new Error('unreachable: nothing here holds a NUL');
    // each chunk is valid only until the next is pulled (one scratch buffer): copied as it comes
    const bytes = Buffer.concat(Array.from(parts, (part) => Buffer.from(part)));
    expect(decodeSnapshot(bytesReader(bytes), 'tok', false)?.paths).toEqual(['x', 'y']);
    expect(decodeSnapshot(bytesReader(bytes), 'other', false)).toBeNull();
    expect(decodeSnapshot(bytesReader(bytes), 'tok', true)).toBeNull();
    for (let cut = 0; cut < bytes.length; cut += 7) expect(decodeSnapshot(bytesReader(bytes.subarray(0, cut)), 'tok', false)).toBeNull();
  });

  it('writes and reads back a table bigger than a chunk of each kind (texts 4,096 rows, numbers 65,536)', () => {
    const n = 70_000;
    const t = new BaseTable(n);
    for (let i = 0; i < n; i++) {
      const entry: Entry =
        i % 7 === 0
          ? { kind: 'symlink', target: `t${i}`, mtimeNs: BigInt(i) }
          : { kind: 'file', size: i, mode: 0o644, mtimeNs: BigInt(i) * 1_000_000_007n, hash: i % 3 === 0 ? null : i % 11 === 0 ? `text hash ${i}` : i.toString(16).padStart(16, '0') };
      t.append(P(`d${i % 97}/f${i}`), entry, { mtimeNs: BigInt(i), ino: BigInt(i) + 2n ** 63n, ctimeNs: BigInt(-i) }, null);
    }
    const columns = t.columnsOf();
    if (columns === null) throw new Error('unreachable');
    const f = join(dir, `big-${String(count++)}.base`);
    expect(writeBaseSnapshot(f, rowsOf(columns), 'big', false)).toBe(true);
    const back = readBaseSnapshot(f, 'big', false);
    const flat = (b: Map<RelPath, BaseRecord>): unknown[] => [...b].map(([p, r]) => [p, r.entry, r.left?.ino, r.left?.ctimeNs, r.right]);
    expect(back === null ? null : flat(back)).toEqual(flat(t));
  });

  it('writes a table plus a commit’s changes across chunks as the table the rows make: runs of slots cut at every upsert, removal and chunk edge', () => {
    // 70,000 rows (two chunks of numbers), upserts between rows, on rows, before the first and after the last row,
    // and removals, some on both sides of the 65,536-row edge: every kind of run the copy by runs meets
    const n = 70_000;
    const pathOf = (i: number): RelPath => P(`r${String(i).padStart(6, '0')}`);
    const recordOf = (i: number, size = i): BaseRecord => ({
      entry: { kind: 'file', size, mode: 0o600 + (i % 64), mtimeNs: BigInt(i) * 1_000_003n, hash: i % 5 === 0 ? null : i.toString(16).padStart(16, '0') },
      left: { mtimeNs: BigInt(i), ino: BigInt(i) + 2n ** 62n, ctimeNs: BigInt(-i) },
      right: i % 3 === 0 ? null : { mtimeNs: BigInt(i) * 7n, ino: BigInt(i) + 11n, ctimeNs: BigInt(i) },
    });
    const loaded = new BaseTable(n);
    for (let i = 0; i < n; i++) {
      const r = recordOf(i);
      loaded.append(pathOf(i), r.entry, r.left, r.right);
    }
    const upserts = new Map<RelPath, BaseRecord>();
    for (const i of [0, 1, 2, 500, 65_535, 65_536, 65_537, n - 1]) upserts.set(pathOf(i), recordOf(i + 1_000_000, 7));
    for (const name of ['a', 'r0000005x', 'r065535x', 'zz']) upserts.set(P(name), recordOf(name.length, 3));
    const removals = [3, 4, 1_000, 30_000, 65_530, 65_534, 65_538, 69_000, n - 2].map(pathOf);
    const rows = loaded.rowsWithChanges({ upserts, removals });
    if (rows === null) throw new Error('unreachable');
    const f = join(dir, `changed-${String(count++)}.base`);
    expect(writeBaseSnapshot(f, rows, 'changed', false)).toBe(true);
    const back = readBaseSnapshot(f, 'changed', false);
    const gone = new Set(removals);
    const want = new Map<RelPath, BaseRecord>();
    for (let i = 0; i < n; i++) if (!gone.has(pathOf(i))) want.set(pathOf(i), recordOf(i));
    for (const [p, r] of upserts) want.set(p, r);
    const sorted = [...want].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(back === null ? null : [...back]).toEqual(sorted);
  });

  it('reads back a table with room for new paths: they go into its columns without a copy, read back exactly, owners unset', () => {
    const n = 5_000;
    const t = new BaseTable(n);
    for (let i = 0; i < n; i++) t.append(P(`f${i}`), { kind: 'file', size: i, mode: 0o600, mtimeNs: BigInt(i), hash: null, uid: i, gid: i + 1 }, null, null);
    const columns = t.columnsOf();
    if (columns === null) throw new Error('unreachable');
    const f = join(dir, `room-${String(count++)}.base`);
    expect(writeBaseSnapshot(f, rowsOf(columns), 'room', false)).toBe(true);
    const back = readBaseSnapshot(f, 'room', false);
    if (back === null) throw new Error('the snapshot was not read');
    const buffers = (): ArrayBufferLike[] => Object.values(back.columnsNow()).flatMap((v: unknown) => (ArrayBuffer.isView(v) ? [v.buffer] : []));
    const before = buffers();
    expect(before).toHaveLength(13);
    const added = roomFor(n) - n;
    for (let i = 0; i < added; i++) back.set(P(`new${i}`), { entry: { kind: 'file', size: 7, mode: 0o644, mtimeNs: 9n, hash: null }, left: null, right: null });
    const same = (): boolean => buffers().every((b, i) => b === before[i]);
    expect(same()).toBe(true); // no column was replaced: the new rows went into the room
    expect(back.get(P('new0'))?.entry).toEqual({ kind: 'file', size: 7, mode: 0o644, mtimeNs: 9n, hash: null });
    expect(back.get(P(`new${added - 1}`))?.entry).toEqual({ kind: 'file', size: 7, mode: 0o644, mtimeNs: 9n, hash: null });
    expect(back.get(P(`f${n - 1}`))?.entry).toEqual({ kind: 'file', size: n - 1, mode: 0o600, mtimeNs: BigInt(n - 1), hash: null, uid: n - 1, gid: n });
    back.set(P('one-more'), { entry: { kind: 'dir', mode: 0o755, mtimeNs: 1n }, left: null, right: null });
    expect(same()).toBe(false); // past the room it grows as any table does
    expect(back.size).toBe(n + added + 1);
    expect(back.get(P('f0'))?.entry).toMatchObject({ uid: 0, gid: 1 });
  });

  it('is not made of a text holding a NUL (it could not be split back)', () => {
    const t = new BaseTable(1);
    t.append(P('x'), { kind: 'symlink', target: 'a\0b', mtimeNs: 1n }, null, null);
    const columns = t.columnsOf();
    if (columns === null) throw new Error('unreachable');
    expect(encodeSnapshot(rowsOf(columns), 'tok', false)).toBeNull();
  });

  it('after a commit, is the base as loaded plus the changes: the next run reads the file, and it is what the rows say, in their order', () => {
    const pathArb = fc.constantFrom(...['a', 'b', 'b/c', 'd', '\xe9', '\xff', 'a b', 'z'].map(P));
    fc.assert(
      fc.property(
        // rows partly on the paths that the changes use, so that removals and upserts meet rows they change
        fc.uniqueArray(fc.tuple(fc.oneof(pathArb, binaryArb(1)), recordArb), { selector: ([p]) => p, maxLength: 12 }),
        fc.uniqueArray(fc.tuple(pathArb, recordArb), { selector: ([p]) => p, maxLength: 6 }),
        fc.uniqueArray(pathArb, { maxLength: 4 }),
        fc.boolean(),
        (rows, upserts, removals, fromSnapshot) => {
          const stateDir = indexWith(new Map(rows.map(([p, r]) => [p as RelPath, r])));
          if (!fromSnapshot) voidToken(stateDir);
          const { store } = StateStore.open(stateDir, A, B);
          store.loadBase();
          expect(store.baseSource).toBe(fromSnapshot ? 'snapshot' : 'rows');
          store.commit({ changes: { upserts: new Map(upserts), removals }, conflicts: [], atMs: 0, openConflictScope: 'all', runs: [] });
          store.close();
          const viaFile = loadInOrder(stateDir);
          expect(viaFile.source).toBe('snapshot');
          voidToken(stateDir);
          const viaRows = loadInOrder(stateDir);
          expect(viaRows.source).toBe('rows');
          expect(viaFile.entries).toEqual(viaRows.entries);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is left as it is by a commit that writes no rows (a no-op run records only its run)', () => {
    const stateDir = indexWith(new Map([[P('a'), file(1)]]));
    const before = readFileSync(snapshotFileOf(dbFileOf(stateDir)));
    const { store } = StateStore.open(stateDir, A, B);
    store.loadBase();
    store.commit({ changes: { upserts: new Map(), removals: [] }, conflicts: [], atMs: 0, openConflictScope: 'all', runs: [] });
    store.close();
    expect(readFileSync(snapshotFileOf(dbFileOf(stateDir)))).toEqual(before);
    expect(load(stateDir).source).toBe('snapshot');
  });
});

/** Takes the index's snapshot token away, as any change to its rows would. */
function voidToken(stateDir: string): void {
  const db = new Database(dbFileOf(stateDir));
  db.exec('DELETE FROM base_snapshot');
  db.close();
}

/** The base's records in the order the table holds them. */
function loadInOrder(stateDir: string): { entries: [RelPath, BaseRecord][]; source: string | null } {
  const { store } = StateStore.open(stateDir, A, B);
  try {
    const entries = [...store.loadBase().entries()];
    return { entries, source: store.baseSource };
  } finally {
    store.close();
  }
}
