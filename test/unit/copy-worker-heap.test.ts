// The copy worker's heap limit is sized from the directories its copies are in (engine/copy-in-worker.ts): the
// count must never fall below the real number of directories, or the limit could end a worker that needed more.
import { describe, expect, it } from 'vitest';
import { directoryRunsOf, workerOldGenerationMb } from '../../src/engine/copy-in-worker.js';

describe('the copy worker heap limit', () => {
  it('counts each directory of a listing grouped by directory once, the root included', () => {
    expect(directoryRunsOf([])).toBe(0);
    expect(directoryRunsOf(['a', 'b', 'd/x', 'd/y', 'd/e/z', 'f/g/h'])).toBe(4);
  });

  it('never counts fewer directories than there are, however the paths are ordered', () => {
    const paths: string[] = [];
    for (let i = 0; i < 500; i++) paths.push(`d${i % 37}/s${i % 5}/f${i}`, `top${i % 3}`);
    const distinct = new Set(paths.map((p) => p.slice(0, Math.max(0, p.lastIndexOf('/'))))).size;
    expect(directoryRunsOf(paths)).toBeGreaterThanOrEqual(distinct);
    const sorted = [...paths].sort();
    expect(directoryRunsOf(sorted)).toBe(distinct);
  });

  it('grows with the directories, from a floor', () => {
    expect(workerOldGenerationMb(0)).toBe(16);
    expect(workerOldGenerationMb(2_025)).toBe(18);
    expect(workerOldGenerationMb(1_000_000)).toBeGreaterThanOrEqual(16 + 976);
  });
});
