import type { RelPath } from '../core/types.js';
import { BaseTable, roomFor, type StoredRow } from './base-table.js';

/** The columns of `entries` in the order the loader selects them (see store.ts ENTRY_COLUMNS). */
export type EntryRowValues = [
  Buffer,
  bigint,
  bigint | null,
  bigint | null,
  bigint | null,
  string | null,
  Buffer | null,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
  string | null,
];

/**
 * Fills a BaseTable from raw index rows. Each row goes into the table's columns through one reused
 * StoredRow: building an Entry and two side records per row (which the table then took apart again)
 * was most of a no-op run's loading time and garbage.
 */
export function loadBaseTable(rows: Iterable<EntryRowValues>, count: number, swapped: boolean): BaseTable {
  const base = new BaseTable(roomFor(count));
  const row: StoredRow = {
    kind: 0,
    size: null,
    mode: null,
    mtimeNs: null,
    hash: null,
    target: null,
    leftMtimeNs: null,
    leftIno: null,
    leftCtimeNs: null,
    rightMtimeNs: null,
    rightIno: null,
    rightCtimeNs: null,
    uid: null,
    gid: null,
    xattrs: null,
  };
  for (const v of rows) {
    row.kind = Number(v[1]);
    row.size = v[2] === null ? null : Number(v[2]);
    row.mode = v[3] === null ? null : Number(v[3]);
    row.mtimeNs = v[4];
    row.hash = v[5];
    row.target = v[6] === null ? null : v[6].toString('latin1');
    // the index's l_ columns belong to the pair's canonical first root
    if (swapped) {
      row.leftMtimeNs = v[10];
      row.leftIno = v[11];
      row.leftCtimeNs = v[12];
      row.rightMtimeNs = v[7];
      row.rightIno = v[8];
      row.rightCtimeNs = v[9];
    } else {
      row.leftMtimeNs = v[7];
      row.leftIno = v[8];
      row.leftCtimeNs = v[9];
      row.rightMtimeNs = v[10];
      row.rightIno = v[11];
      row.rightCtimeNs = v[12];
    }
    row.uid = v[13] === null ? null : Number(v[13]);
    row.gid = v[14] === null ? null : Number(v[14]);
    row.xattrs = v[15];
    base.appendStored(v[0].toString('latin1') as RelPath, row);
  }
  return base;
}
