// Issue 11's target table: one row per target, with the measured figure, the peer in the same run, the
// ratio, the target and a verdict. bench/run.mjs prints every row (rows whose scenario did not run say
// "not run"); bench/watch.mjs prints the watch rows and hands them to run.mjs as JSON.

/** @typedef {'met' | 'not met' | 'not run'} Verdict */
/** @typedef {{ work: string, tsync: string, peer: string, ratio: string, cpSync?: string, target: string, met: Verdict }} TargetRow */
/** @typedef {{ p50: number | null, p99: number | null, missed: number, stale: number }} LatencyFigures */
/**
 * One watch mode (tsync1 = --one-way, tsync2 = two-way) in a 100k tree: start-up, then single-file changes.
 * @typedef {{ files: number, readyMs: number, hwmMB: number | null, changes: number, arrived: number, cpuMsPerChange: number, mainCpuMsPerChange: number, idleCpuMsPerS: number, tickMs: number, p50: number | null, p99: number | null, newLatencyMs: (number | null)[], newCycleMs: number[], newRssGrowthMB: number | null, error?: undefined } | { error: string }} CycleFigures
 */
/** @typedef {{ quick: boolean, cycle: Record<string, CycleFigures>, latency: Record<string, LatencyFigures | { error: string }> }} WatchFigures */

/** Issue 11's watch targets. */
export const WATCH_TARGETS = { readyMs: 3000, hwmMB: 300, cpuMsPerChange: 5 };

/**
 * The CPU-per-change verdict: every change arrived, and both figures are at or under the target and not below zero.
 * The whole process's figure alone could pass by luck: V8's helper threads collect in bursts (the memory reducer),
 * and a burst in the idle window that is subtracted made one run of the same code read 2.5 ms where the next read
 * 13 ms. The main thread's own figure is steady, and a floor of what a change costs (bench/watch.mjs cycleRun).
 * @param {{ arrived: number, changes: number, cpuMsPerChange: number, mainCpuMsPerChange: number }} c
 */
export function cpuPerChangeMet(c) {
  const T = WATCH_TARGETS.cpuMsPerChange;
  return c.arrived === c.changes && c.cpuMsPerChange >= 0 && c.cpuMsPerChange <= T && c.mainCpuMsPerChange >= 0 && c.mainCpuMsPerChange <= T;
}

/**
 * "Latency p50 and p99 no worse than today": today is bench/watch-results.md as it stood when issue 11 was
 * filed (commit 576be497, 200 operations one every 50 ms). Kept here because that file is rewritten by
 * every full watch run.
 * @type {Record<string, { p50: number, p99: number }>}
 */
export const WATCH_LATENCY_BASELINE = { tsync1: { p50: 6.1, p99: 24 }, tsync2: { p50: 6.2, p99: 29 } };
export const WATCH_BASELINE_COMMIT = '576be497';

/** @param {string} work @param {string} target @returns {TargetRow} */
export function notRun(work, target) {
  return { work, tsync: '—', peer: '—', ratio: '—', target, met: 'not run' };
}

/** @param {boolean} ok @returns {Verdict} */
export const verdict = (ok) => (ok ? 'met' : 'not met');

/** @param {number | null | undefined} x */
export function fmtMs(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x < 10) return `${x.toFixed(1)} ms`;
  if (x < 10_000) return `${Math.round(x)} ms`;
  return `${(x / 1000).toFixed(1)} s`;
}

/** `cpSyncColumn: false` leaves out the `cp -a; sync` column (bench/remote.mjs: cp has no remote side). */
/** @param {TargetRow[]} rows @param {{ cpSyncColumn?: boolean }} [options] */
export function targetsTable(rows, { cpSyncColumn = true } = {}) {
  const esc = (/** @type {string} */ s) => s.replace(/\|/g, '\\|');
  const head = ['work', 'tsync', 'peer, same run', 'ratio', ...(cpSyncColumn ? ['vs `cp -a; sync`'] : []), 'target', 'met?'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---|').join('')}`];
  for (const r of rows) out.push(`| ${[r.work, r.tsync, r.peer, r.ratio, ...(cpSyncColumn ? [r.cpSync ?? ''] : []), r.target, r.met].map(esc).join(' | ')} |`);
  return out.join('\n');
}

const MODES = /** @type {const} */ ([
  ['tsync1', 'one-way'],
  ['tsync2', 'two-way'],
]);

/**
 * The watch rows of the target table, from a watch run's figures (null: the watch run did not happen).
 * @param {WatchFigures | null} w
 * @returns {TargetRow[]}
 */
export function watchTargetRows(w) {
  /** @type {TargetRow[]} */
  const rows = [];
  const T = WATCH_TARGETS;
  for (const [id, mode] of MODES) {
    const c = w?.cycle[id];
    const work = `\`watch\` start-up at ${c && c.error === undefined ? c.files.toLocaleString('en-US') : '100,000'} files, ${mode}`;
    const target = `ready ≤ ${T.readyMs / 1000} s; RSS ≤ ${T.hwmMB} MB`;
    if (!c) rows.push(notRun(work, target));
    else if (c.error !== undefined) rows.push({ ...notRun(work, target), tsync: `failed: ${c.error}`, met: 'not met' });
    else {
      const ok = c.readyMs <= T.readyMs && c.hwmMB !== null && c.hwmMB <= T.hwmMB;
      rows.push({ work, tsync: `ready ${(c.readyMs / 1000).toFixed(2)} s, ${c.hwmMB === null ? '?' : Math.round(c.hwmMB)} MB`, peer: '—', ratio: '—', target, met: verdict(ok) });
    }
  }
  for (const [id, mode] of MODES) {
    const c = w?.cycle[id];
    const work = `\`watch\` cycle, one changed file in a ${c && c.error === undefined ? c.files.toLocaleString('en-US') : '100,000'}-file tree, ${mode}: CPU`;
    const target = `≤ ${T.cpuMsPerChange} ms of CPU per change`;
    if (!c) rows.push(notRun(work, target));
    else if (c.error !== undefined) rows.push({ ...notRun(work, target), tsync: `failed: ${c.error}`, met: 'not met' });
    else {
      // below zero the idle window held work that was not idle (bench/watch.mjs QUIET_SPAN_MS): no figure, not a pass
      const ok = cpuPerChangeMet(c);
      rows.push({
        work,
        tsync: `${c.cpuMsPerChange.toFixed(1)} ms CPU per change${c.cpuMsPerChange < 0 ? ' (void: the idle window held work of its own)' : ''}; main thread alone ${c.mainCpuMsPerChange.toFixed(1)} ms (mean of ${c.changes}, idle ${c.idleCpuMsPerS.toFixed(1)} ms/s subtracted; ${c.arrived}/${c.changes} arrived; latency p50 ${fmtMs(c.p50)}, p99 ${fmtMs(c.p99)})`,
        peer: '—',
        ratio: '—',
        target,
        met: verdict(ok),
      });
    }
  }
  for (const [id, mode] of MODES) {
    const l = w?.latency[id];
    const base = /** @type {{ p50: number, p99: number }} */ (WATCH_LATENCY_BASELINE[id]);
    const work = `\`watch\` latency (latency scenario: creates, overwrites, deletes, one every 50 ms), ${mode}`;
    const target = `p50 ≤ ${fmtMs(base.p50)} and p99 ≤ ${fmtMs(base.p99)} (today, ${WATCH_BASELINE_COMMIT})`;
    if (!l) rows.push(notRun(work, target));
    else if ('error' in l) rows.push({ ...notRun(work, target), tsync: `failed: ${l.error}`, met: 'not met' });
    else {
      const ok = l.p50 !== null && l.p99 !== null && l.p50 <= base.p50 && l.p99 <= base.p99 && l.missed === 0 && l.stale === 0;
      rows.push({
        work,
        tsync: `p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, ${l.missed} missed, ${l.stale} differing${w?.quick ? ' (quick run: fewer operations)' : ''}`,
        peer: `tsync at ${WATCH_BASELINE_COMMIT}: p50 ${fmtMs(base.p50)}, p99 ${fmtMs(base.p99)}`,
        ratio: l.p50 !== null && l.p99 !== null ? `${(l.p50 / base.p50).toFixed(2)}× / ${(l.p99 / base.p99).toFixed(2)}×` : '—',
        target,
        met: verdict(ok),
      });
    }
  }
  return rows;
}
