/**
 * A scan's counts by slot, st_nlink and st_blocks, each in a narrow array with the few that do not fit it beside
 * (issue 11, memory). Nearly every entry has one or two links and a few blocks, yet a link count took 4 bytes a slot
 * and a block count 8 (a Float64, for the -1 of a scan that had none): 12 bytes a path on each side, 120 MB at five
 * million paths. Here a link count takes a byte and a block count four; a value that does not fit (255 links or more,
 * 2^32 - 1 blocks or more, the -1, anything not a whole number) takes the array's top value, and is kept by slot in
 * `over`.
 *
 * Plain data, not a class: a scan worker hands its columns over by structured clone (scan/scan-codec.ts). A slot is
 * written once (a table appends its slots).
 */
export interface CountColumn {
  values: Uint8Array | Uint32Array;
  /** The values that do not fit `values`, by slot. */
  readonly over: Map<number, number>;
}

/** A column of `capacity` slots, one byte (link counts) or four (block counts) each. */
export function countColumn(bytesEach: 1 | 4, capacity: number): CountColumn {
  return { values: bytesEach === 1 ? new Uint8Array(capacity) : new Uint32Array(capacity), over: new Map() };
}

/** The largest value `values` holds: the mark of one kept in `over`. */
function markOf(values: Uint8Array | Uint32Array): number {
  return values instanceof Uint8Array ? 0xff : 0xffffffff;
}

/** The count at slot i. */
export function countAt(c: CountColumn, i: number): number {
  const v = c.values[i] as number;
  return v === markOf(c.values) ? (c.over.get(i) ?? v) : v;
}

/** Sets slot i to `n`. */
export function setCount(c: CountColumn, i: number, n: number): void {
  const mark = markOf(c.values);
  if (!(i >= 0 && i < c.values.length)) throw new RangeError(`slot ${i} of a count column of ${c.values.length}`);
  if (Number.isInteger(n) && n >= 0 && n < mark) {
    c.values[i] = n;
    c.over.delete(i);
    return;
  }
  c.values[i] = mark;
  c.over.set(i, n);
}

/** The column with room for `capacity` slots, its values carried over (the same `over`). */
export function grownCounts(c: CountColumn, capacity: number): CountColumn {
  if (c.values.length >= capacity) return c;
  const values = c.values instanceof Uint8Array ? new Uint8Array(capacity) : new Uint32Array(capacity);
  values.set(c.values);
  return { values, over: c.over };
}

/** Whether `c` is a count column of at least `count` slots, as a decoder must check what it was handed. */
export function wellFormedCounts(c: CountColumn, count: number): boolean {
  if (!(c.values instanceof Uint8Array || c.values instanceof Uint32Array) || !(c.over instanceof Map) || c.values.length < count) return false;
  for (const [slot, n] of c.over) if (!(Number.isInteger(slot) && slot >= 0 && slot < c.values.length && typeof n === 'number' && c.values[slot] === markOf(c.values))) return false;
  return true;
}
