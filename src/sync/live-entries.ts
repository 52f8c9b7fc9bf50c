import { isLinkedFile } from '../core/hard-links.js';
import { type ChildIndex, IndexedMap, type VisitCount } from '../core/path-index.js';
import type { RelPath, ScannedEntry } from '../core/types.js';

/**
 * One side's entries as a watch keeps them between cycles: indexed by directory (path-index.ts), and with
 * the files that share their inode with another path (nlink > 1) kept apart in `linked`, so that a
 * cycle plans hard links from those few (core/hard-links.ts) instead of a pass over the whole side.
 */
export class LiveEntries extends IndexedMap<ScannedEntry> {
  readonly linked = new Map<RelPath, ScannedEntry>();

  constructor(index: ChildIndex, visits: VisitCount | null = null) {
    super(index, visits);
  }

  override set(path: RelPath, value: ScannedEntry): this {
    if (isLinkedFile(value)) this.linked.set(path, value);
    else this.linked.delete(path);
    return super.set(path, value);
  }

  override delete(path: RelPath): boolean {
    this.linked.delete(path);
    return super.delete(path);
  }

  override clear(): void {
    this.linked.clear();
    super.clear();
  }
}
