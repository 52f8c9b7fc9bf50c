import { isLinkedFile } from '../core/hard-links.js';
import { type ChildIndex, counted, type VisitCount } from '../core/path-index.js';
import type { RelPath, ScannedEntry } from '../core/types.js';
import { ScanTable } from '../scan/scan-table.js';

/**
 * One side's entries as a watch keeps them between cycles: indexed by directory (path-index.ts), and with
 * the files that share their inode with another path (nlink > 1) kept apart in `linked`, so that a
 * cycle plans hard links from those few (core/hard-links.ts) instead of a pass over the whole side.
 *
 * A full scan's entries are kept as the scan made them (`adopt`): a walk's table keeps them as columns
 * (scan/scan-table.ts) and builds an entry only when one is asked for. Copied into a Map of entries, a
 * 100k-file pair held 200k entries, stats and 600k BigInts: 57 of the 81 MB of live heap a watch kept
 * between cycles, which every full garbage collection then marked again (issue 11). What the cycles
 * change later (rescans, records of what was applied) is set on top of that table: a few objects.
 */
export class LiveEntries implements Map<RelPath, ScannedEntry> {
  readonly linked = new Map<RelPath, ScannedEntry>();
  private store: Map<RelPath, ScannedEntry> = new Map();

  constructor(
    private readonly index: ChildIndex,
    private readonly visits: VisitCount | null = null,
  ) {}

  /**
   * Makes a full scan's entries this side's, as they are (the scan's map is taken over, not copied):
   * the index learns each path, and the linked files are picked out.
   */
  adopt(entries: Map<RelPath, ScannedEntry>): void {
    this.linked.clear();
    this.store = entries;
    if (entries instanceof ScanTable) {
      // kept between cycles, while the index's table it was keyed by gives way to the next base
      entries.keepOwnPaths();
      // from the columns: no entry is built for a path that is neither linked nor asked for
      for (const path of entries.keys()) {
        this.index.add(path);
        if (entries.isLinkedFile(path)) this.linked.set(path, entries.get(path) as ScannedEntry);
      }
      return;
    }
    for (const [path, s] of entries) {
      this.index.add(path);
      if (isLinkedFile(s)) this.linked.set(path, s);
    }
  }

  /**
   * The scan table the entries live in, when they do (a full scan's, adopted): every change made since is set on it
   * too, as an entry of its own (ScanTable.set), so its columns still prove only paths as scanned. For the columnar
   * quiet test of a watch's full cycle (quiet-columns.ts).
   */
  table(): ScanTable | null {
    return this.store instanceof ScanTable ? this.store : null;
  }

  /** The directories among the entries (what a watch of this side covers). */
  dirPaths(): Set<RelPath> {
    const out = new Set<RelPath>();
    const store = this.store;
    if (store instanceof ScanTable) {
      for (const path of store.keys()) if (store.isDir(path)) out.add(path);
    } else {
      for (const [path, s] of store) if (s.entry.kind === 'dir') out.add(path);
    }
    return out;
  }

  get size(): number {
    return this.store.size;
  }

  get(path: RelPath): ScannedEntry | undefined {
    return this.store.get(path);
  }

  has(path: RelPath): boolean {
    return this.store.has(path);
  }

  set(path: RelPath, value: ScannedEntry): this {
    if (!this.store.has(path)) this.index.add(path);
    if (isLinkedFile(value)) this.linked.set(path, value);
    else this.linked.delete(path);
    this.store.set(path, value);
    return this;
  }

  delete(path: RelPath): boolean {
    this.linked.delete(path);
    return this.store.delete(path);
  }

  clear(): void {
    this.linked.clear();
    this.store = new Map();
  }

  keys(): MapIterator<RelPath> {
    return this.visits === null ? this.store.keys() : counted(this.store.keys(), this.visits);
  }

  values(): MapIterator<ScannedEntry> {
    return this.visits === null ? this.store.values() : counted(this.store.values(), this.visits);
  }

  entries(): MapIterator<[RelPath, ScannedEntry]> {
    return this.visits === null ? this.store.entries() : counted(this.store.entries(), this.visits);
  }

  [Symbol.iterator](): MapIterator<[RelPath, ScannedEntry]> {
    return this.entries();
  }

  forEach(fn: (value: ScannedEntry, key: RelPath, map: Map<RelPath, ScannedEntry>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  get [Symbol.toStringTag](): string {
    return 'Map';
  }
}
