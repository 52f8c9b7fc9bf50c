import { describe, expect, it } from 'vitest';
import { columnNumber } from '../../src/core/column-number.js';

describe('columnNumber', () => {
  it('gives back every value it is handed, exactly: sizes past 2 GiB and 4 GiB, and the -1 that marks no block count', () => {
    const column = new Float64Array([0, 1, 4096, 0x3fffffff, 0x40000000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40, Number.MAX_SAFE_INTEGER, -1]);
    for (const x of column) expect(columnNumber(x)).toBe(x);
  });
});
