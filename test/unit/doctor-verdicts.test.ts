// The doctor's verdicts from numbers: the inotify limits against a tree's directories, and the state dir's free
// space. The e2e test (test/e2e/doctor.test.ts) checks that the real machine's numbers reach them.
import { describe, expect, it } from 'vitest';
import { GIB } from '../../src/doctor/check.js';
import { inotifyVerdict, suggestedWatchLimit } from '../../src/doctor/inotify.js';
import { freeSpaceVerdict } from '../../src/doctor/state-dir.js';

const limits = { maxUserWatches: 10_000, maxUserInstances: 128 };
const idle = { watches: 0, instances: 0 };

describe('inotifyVerdict', () => {
  const rows: readonly [string, number | null, { watches: number; instances: number }, 'ok' | 'warn' | 'fail'][] = [
    ['a small tree', 100, idle, 'ok'],
    ['exactly 80% of the limit', 8_000, idle, 'ok'],
    ['just over 80% of the limit', 8_001, idle, 'warn'],
    ['exactly the limit', 10_000, idle, 'warn'],
    ['one directory over the limit', 10_001, idle, 'fail'],
    ['fits alone, but not beside what other processes watch', 6_000, { watches: 5_000, instances: 3 }, 'warn'],
    ['no instance left', 100, { watches: 10, instances: 128 }, 'fail'],
    ['no roots, little in use', null, { watches: 100, instances: 2 }, 'ok'],
    ['no roots, most watches in use', null, { watches: 9_000, instances: 2 }, 'warn'],
  ];
  it.each(rows)('%s', (_name, dirs, use, want) => {
    expect(inotifyVerdict(limits, use, dirs).verdict).toBe(want);
  });

  it('gives the sysctl line and where to make it permanent when the tree does not fit', () => {
    const r = inotifyVerdict(limits, idle, 300_000);
    expect(r.fix).toContain('sudo sysctl fs.inotify.max_user_watches=1048576');
    expect(r.fix).toContain('/etc/sysctl.d/');
    expect(inotifyVerdict(limits, idle, 100).fix).toBeNull();
  });

  it('says so where there is no inotify (not Linux)', () => {
    const r = inotifyVerdict(null, idle, 100);
    expect(r.verdict).toBe('ok');
    expect(r.message).toMatch(/not Linux/);
  });

  it('suggests room for twice the tree, never below 524288', () => {
    expect(suggestedWatchLimit(10)).toBe(524_288);
    expect(suggestedWatchLimit(300_000)).toBe(1_048_576);
    expect(suggestedWatchLimit(300_000)).toBeGreaterThanOrEqual(600_000);
  });
});

describe('freeSpaceVerdict', () => {
  const rows: readonly [string, number, number, 'ok' | 'warn'][] = [
    ['plenty', 50 * GIB, 100 * GIB, 'ok'],
    ['under 1 GiB', GIB - 1, 4 * GIB, 'warn'],
    ['under 5% of a big disk', 20 * GIB, 1000 * GIB, 'warn'],
    ['exactly 5% and over 1 GiB', 5 * GIB, 100 * GIB, 'ok'],
  ];
  it.each(rows)('%s', (_name, free, total, want) => {
    expect(freeSpaceVerdict('/state', free, total).verdict).toBe(want);
  });
});
