// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, and per coarse bucket
// (tsync code, node_modules, node internals, GC, idle). Used by BENCH_PROFILE=1.
import { readFileSync } from 'node:fs';

/** @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }} ProfileNode */
/** @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} CpuProfile */

/**
 * @param {string} file
 * @param {{ top?: number, root?: string }} [options]
 */
export function summarizeProfile(file, { top = 12, root } = {}) {
  /** @type {CpuProfile} */
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) {
    const id = /** @type {number} */ (prof.samples[i]);
    selfUs.set(id, (selfUs.get(id) ?? 0) + (dt[i] ?? 0));
  }
  const totalUs = dt.reduce((a, b) => a + b, 0);
  /** @type {Map<string, number>} */
  const perFn = new Map();
  /** @type {Map<string, number>} */
  const perBucket = new Map();
  for (const [id, us] of selfUs) {
    const cf = /** @type {ProfileNode} */ (byId.get(id)).callFrame;
    const url = (cf.url || '').replace(/^file:\/\//, '');
    const short = root && url.startsWith(root) ? url.slice(root.length + 1) : url;
    const key = `${cf.functionName || '(anonymous)'} ${short ? `${short}:${cf.lineNumber + 1}` : ''}`.trim();
    perFn.set(key, (perFn.get(key) ?? 0) + us);
    const bucket = bucketOf(cf.functionName, url);
    perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + us);
  }
  const fmt = (/** @type {Map<string, number>} */ m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ name: k, ms: us / 1000, pct: (100 * us) / totalUs }));
  return { totalMs: totalUs / 1000, functions: fmt(perFn), buckets: fmt(perBucket) };
}

/** @param {string} fn @param {string} url */
function bucketOf(fn, url) {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting on I/O / thread pool)';
  if (fn === '(program)') return '(program: native, not attributed)';
  if (fn === 'spawnSync') return 'spawnSync (waiting for a child process, e.g. sync -f)';
  if (url.includes('/node_modules/')) return `node_modules/${/** @type {string} */ (url.split('/node_modules/')[1]).split('/')[0]}`;
  if (url.includes('/dist/')) return 'tsync (dist/)';
  if (url.startsWith('node:')) return 'node internals (JS)';
  if (url === '') return `native: ${fn}`;
  return 'other';
}
