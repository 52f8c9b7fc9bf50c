// The targeted flush (src/engine/targeted-flush.ts) meets an error it cannot call harmless: the open of an
// installed file for its fsync fails with EIO (injected by the fault layer, the only way to make that
// call fail at that moment). The side must fall back to a syncfs before the index records the run, and
// the run must still succeed and be recorded (the next run has nothing to do). --flush-now: the flush is
// waited for in this run (by default it is owed to the next one, src/sync/deferred-flush.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { readFaultLog } from './crash-tree.js';

const ENABLED = process.env.TSYNC_FAULTS === '1';
const LAYER = pathToFileURL(fileURLToPath(new URL('./fault-layer.mjs', import.meta.url))).href;

/**
 * Runs a one-way `--flush-now` sync with `rule` armed and checks what both cases must show: the fault fired, the
 * run still succeeded, its flush fell back to a syncfs naming `failed` (the path and errno), and the run was recorded
 * (the next run has nothing to do).
 */
function expectSyncfsFallback(sb: Sandbox, rule: Readonly<Record<string, unknown>>, failed: string): void {
  const log = join(sb.dir, 'faults.log');
  const rules = [rule];
  const r = runCli(['sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst], {
    env: { NODE_OPTIONS: `--import=${LAYER}`, TSYNC_FAULT_PLAN: JSON.stringify(rules), TSYNC_FAULT_LOG: log, TSYNC_TIMINGS: '1' },
  });
  const report = readFaultLog(log);
  expect(report.loaded, r.stderr).toBe(true);
  expect(report.fired, r.stderr).toEqual([0]);
  expect(r.code, r.stderr).toBe(0);
  const flush = r.stderr.split('\n').filter((l) => l.startsWith('tsync timing: flush ') && !l.includes('flush and commit'));
  expect(flush).toEqual([`tsync timing: flush right: targeted failed (${failed}), syncfs instead`, 'tsync timing: flush right: syncfs']);
  expect(sb.sync('--verbose').stdout).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/m);
}

describe.skipIf(!ENABLED)('targeted flush: an fsync that cannot be done', () => {
  it('EIO on opening an installed file for its fsync: syncfs instead, and the run is recorded', () => {
    const sb = sandbox();
    for (const n of [1, 2]) writeFileSync(join(sb.src, `f${n}`), `${n}\n`);
    // the engine writes f2 through a temp file and never opens f2 itself for reading: this open is the flush's
    expectSyncfsFallback(sb, { op: 'open-read', path: `${sb.dst}/f2`, exact: true, error: 'EIO' }, 'f2: EIO');
  });

  it('EIO on the fsync of a new directory (made through the descriptor the run holds for it): syncfs instead, and the run is recorded', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'top.txt'), 'top\n');
    expect(runCli(['sync', '--one-way', '--flush-now', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
    mkdirSync(join(sb.src, 'sub'));
    writeFileSync(join(sb.src, 'sub', 'f'), 'f\n');
    expectSyncfsFallback(sb, { op: 'fsync', path: `${sb.dst}/sub`, exact: true, error: 'EIO' }, 'sub: EIO');
  });
});
