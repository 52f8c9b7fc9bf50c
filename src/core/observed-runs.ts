/**
 * When each slot of a scan was observed (a time taken before its lstat, ns; core/stat-cache.ts judges a change that
 * close to it racy), kept as runs of consecutive slots that share one time (issue 11, memory). A walk stamps every
 * entry of a directory with one time, taken before the directory was listed, and its entries take consecutive slots:
 * a tree of a million paths in a thousand directories has a thousand runs or fewer (one per millisecond at most),
 * where a column of one BigInt64 per slot cost 8 bytes a path on each side, 80 MB at five million paths.
 *
 * Plain data (typed arrays and numbers), not a class: a scan worker hands its columns over by structured clone
 * (scan/scan-codec.ts), which keeps no prototype. Slots are appended in order from 0 (appendObserved), which is how
 * every table fills its columns; lookups mostly go on in order too, so the run found last is tried first.
 */
export interface ObservedRuns {
  /** The first slot of each run: ascending, the first 0. */
  starts: Int32Array;
  /** Each run's time. */
  values: BigInt64Array;
  /** Runs in use (the arrays have room for more). */
  runs: number;
  /** Slots appended. */
  slots: number;
  /** The run a lookup found last, where the next one starts looking. */
  last: number;
}

/** Runs for a table of no slot yet. */
export function emptyObservedRuns(): ObservedRuns {
  return { starts: new Int32Array(16), values: new BigInt64Array(16), runs: 0, slots: 0, last: 0 };
}

/** Appends slot `slot`, which must be the next one, observed at `ns`. */
export function appendObserved(o: ObservedRuns, slot: number, ns: bigint): void {
  if (slot !== o.slots) throw new RangeError(`slot ${slot} appended after ${o.slots} slots`);
  o.slots = slot + 1;
  const r = o.runs;
  if (r > 0 && o.values[r - 1] === ns) return;
  if (r === o.starts.length) {
    const starts = new Int32Array(r * 2);
    starts.set(o.starts);
    const values = new BigInt64Array(r * 2);
    values.set(o.values);
    o.starts = starts;
    o.values = values;
  }
  o.starts[r] = slot;
  o.values[r] = ns;
  o.runs = r + 1;
}

/** The run that holds `slot` (below o.slots): its time is o.values[run]. */
export function runOfSlot(o: ObservedRuns, slot: number): number {
  const starts = o.starts;
  const last = o.last;
  // the run found last, or the one after it: a walk in slot order meets them one after the other
  if (last < o.runs && (starts[last] as number) <= slot) {
    if (last + 1 === o.runs || slot < (starts[last + 1] as number)) return last;
    if (last + 2 === o.runs || slot < (starts[last + 2] as number)) {
      o.last = last + 1;
      return last + 1;
    }
  }
  // the last run that starts at or before the slot
  let lo = 0;
  let hi = o.runs - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= slot) lo = mid;
    else hi = mid - 1;
  }
  o.last = lo;
  return lo;
}

/** When slot `slot` (below o.slots) was observed. */
export function observedAtSlot(o: ObservedRuns, slot: number): bigint {
  return o.values[runOfSlot(o, slot)] as bigint;
}

/** Whether `o` is runs for exactly `count` slots, as a decoder must check what it was handed. */
export function wellFormedRuns(o: ObservedRuns, count: number): boolean {
  if (!(o.starts instanceof Int32Array) || !(o.values instanceof BigInt64Array)) return false;
  if (!Number.isSafeInteger(o.runs) || o.slots !== count || o.runs > o.starts.length || o.runs > o.values.length) return false;
  if (count === 0) return o.runs === 0;
  if (o.runs === 0 || o.starts[0] !== 0) return false;
  for (let r = 1; r < o.runs; r++) if (!((o.starts[r] as number) > (o.starts[r - 1] as number))) return false;
  return (o.starts[o.runs - 1] as number) < count && Number.isSafeInteger(o.last);
}
