import type { RelPath } from '../core/types.js';

/**
 * The path of each slot of a scan table keyed through the index's numbers for paths (scan-table.ts PathSlots, issue
 * 11, memory): the path's number where the index has one, 4 bytes a slot, and the path itself for the few it lacks
 * (new files). An array of the paths cost 8 bytes a slot, and up to half as much again in the room its growth left
 * free, copied whole at each growth: at five million paths, 40-60 MB a side for strings the index holds already.
 */
export class SlotPaths {
  private numbers: Int32Array;
  /** The paths of the slots without a number (-1 in `numbers`), by slot. */
  private readonly others = new Map<number, RelPath>();
  private count = 0;

  constructor(
    /** The path the index numbers `n` (PathSlots.pathOfNumber). */
    private readonly pathOfNumber: (n: number) => RelPath,
    capacity: number,
  ) {
    this.numbers = new Int32Array(Math.max(16, capacity));
  }

  get length(): number {
    return this.count;
  }

  /** Adds the next slot's path: its number `n`, or undefined where the index has none. */
  push(path: RelPath, n: number | undefined): void {
    const slot = this.count;
    if (slot === this.numbers.length) {
      const grown = new Int32Array(slot + (slot >> 1) + 16);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    if (n === undefined) {
      this.numbers[slot] = -1;
      this.others.set(slot, path);
    } else this.numbers[slot] = n;
    this.count = slot + 1;
  }

  /** The path of slot `slot` (below length). */
  at(slot: number): RelPath {
    const n = this.numbers[slot] as number;
    return n >= 0 ? this.pathOfNumber(n) : (this.others.get(slot) as RelPath);
  }
}
