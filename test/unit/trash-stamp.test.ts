import { describe, expect, it } from 'vitest';
import { RotatingTrashStamp, stampTime, trashStamp } from '../../src/engine/trash.js';
import { isTrashStamp } from '../../src/core/trash-names.js';

// A watch's trash folder name: kept for a span, then a new one. Pure (the time is passed in).
describe('RotatingTrashStamp', () => {
  const t0 = Date.UTC(2026, 11, 2, 10, 0, 0, 123);

  it('keeps one stamp within the span and starts a new one at its end, each a stamp of its first time', () => {
    const r = new RotatingTrashStamp(60_000);
    const first = r.at(t0);
    expect(first).toBe(trashStamp(t0));
    expect(isTrashStamp(first)).toBe(true);
    expect(r.at(t0 + 1)).toBe(first);
    expect(r.at(t0 + 59_999)).toBe(first);
    const second = r.at(t0 + 60_000);
    expect(second).toBe(trashStamp(t0 + 60_000));
    expect(r.at(t0 + 100_000)).toBe(second);
    // pruning reads the stamp's time: never later than any version the folder keeps
    expect(stampTime(second)).toBe(t0 + 60_000);
  });

  it('starts a new folder when the clock goes back, so no stamp says a time after what it keeps', () => {
    const r = new RotatingTrashStamp(60_000);
    const first = r.at(t0);
    const back = r.at(t0 - 5_000);
    expect(back).not.toBe(first);
    expect(stampTime(back)).toBe(t0 - 5_000);
  });
});
