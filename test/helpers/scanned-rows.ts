// Setup file for every vitest config: deep equality sees a scan table's rows (scan/scan-table.ts ScannedRow)
// as the plain entries they stand for, and its copy actions (RowCopy) as the plain actions they stand for. A
// row's fields are getters and its table and slot are #private, so without this a row has no keys to compare:
// `toEqual` would call any two rows equal, and a row unequal to the plain entry it reads.
// test/unit/scanned-row.test.ts checks that this tester tells rows (and copies) apart.
import { expect } from 'vitest';
import { withEntry } from '../../src/core/scanned.js';
import { RowCopy, ScannedRow } from '../../src/scan/scan-table.js';

function plain(v: unknown): unknown {
  if (v instanceof ScannedRow) return withEntry(v, v.entry);
  // a copy action that is a view of a table's row (RowCopy) compares as the plain action it stands for
  if (v instanceof RowCopy) return { type: v.type, path: v.path, target: v.target, expect: v.expect, source: v.source };
  return v;
}

expect.addEqualityTesters([
  function scannedRowsAsPlainEntries(a, b, customTesters) {
    if (!(a instanceof ScannedRow || a instanceof RowCopy) && !(b instanceof ScannedRow || b instanceof RowCopy)) return undefined;
    return this.equals(plain(a), plain(b), customTesters);
  },
]);
