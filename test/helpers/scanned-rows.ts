// Setup file for every vitest config: deep equality sees a scan table's rows (scan/scan-table.ts ScannedRow)
// as the plain entries they stand for. A row's fields are getters and its table and slot are #private, so
// without this a row has no keys to compare: `toEqual` would call any two rows equal, and a row unequal to
// the plain entry it reads. test/unit/scanned-row.test.ts checks that this tester tells rows apart.
import { expect } from 'vitest';
import { withEntry } from '../../src/core/scanned.js';
import { ScannedRow } from '../../src/scan/scan-table.js';

function plain(v: unknown): unknown {
  return v instanceof ScannedRow ? withEntry(v, v.entry) : v;
}

expect.addEqualityTesters([
  function scannedRowsAsPlainEntries(a, b, customTesters) {
    if (!(a instanceof ScannedRow) && !(b instanceof ScannedRow)) return undefined;
    return this.equals(plain(a), plain(b), customTesters);
  },
]);
