import { parentOf } from '../core/paths.js';
import type { RelPath, Side } from '../core/types.js';

export interface DirtyBatch {
  readonly left: readonly RelPath[];
  readonly right: readonly RelPath[];
  /** Sides to re-read as a whole (a hint about the root itself, or one we could not place). */
  readonly whole: readonly Side[];
}

export interface AggregatorOptions {
  /** Wait this long after the last event before a cycle (editors write in bursts). */
  readonly quietMs: number;
  /** But never longer than this after the first event of a batch. */
  readonly maxDelayMs: number;
  /** More dirty entries than this in one directory collapse into a rescan of the directory. */
  readonly collapseAbove: number;
  readonly onBatch: (batch: DirtyBatch) => void;
}

/**
 * Collects watcher hints into batches: a short debounce, a cap on the delay, and directories with many
 * dirty children collapsed into one directory rescan (Syncthing's watch aggregator works the same way).
 * Hints are only hints: the cycle re-reads every path it is given, whatever the event said.
 */
export class DirtyAggregator {
  private readonly dirty = { left: new Set<RelPath>(), right: new Set<RelPath>() };
  private readonly whole = new Set<Side>();
  private quietTimer: NodeJS.Timeout | null = null;
  private maxTimer: NodeJS.Timeout | null = null;
  private paused = false;

  constructor(private readonly opts: AggregatorOptions) {}

  /** A hint about `path` on `side`; null means the side as a whole. */
  add(side: Side, path: RelPath | null): void {
    if (path === null) this.whole.add(side);
    else this.dirty[side].add(path);
    if (this.paused) return;
    if (this.quietTimer !== null) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.emit(), this.opts.quietMs);
    this.maxTimer ??= setTimeout(() => this.emit(), this.opts.maxDelayMs);
  }

  get pending(): number {
    return this.dirty.left.size + this.dirty.right.size + this.whole.size;
  }

  /** While a cycle runs, hints pile up; `resume` emits them as the next batch. */
  pause(): void {
    this.paused = true;
    this.clearTimers();
  }

  resume(): void {
    this.paused = false;
    if (this.pending > 0) this.quietTimer = setTimeout(() => this.emit(), this.opts.quietMs);
  }

  /** Takes whatever is pending now (used at shutdown and by tests). */
  drain(): DirtyBatch {
    this.clearTimers();
    const batch = {
      left: collapse([...this.dirty.left], this.opts.collapseAbove),
      right: collapse([...this.dirty.right], this.opts.collapseAbove),
      whole: [...this.whole],
    };
    this.dirty.left.clear();
    this.dirty.right.clear();
    this.whole.clear();
    return batch;
  }

  close(): void {
    this.clearTimers();
  }

  private emit(): void {
    if (this.paused || this.pending === 0) return;
    this.opts.onBatch(this.drain());
  }

  private clearTimers(): void {
    if (this.quietTimer !== null) clearTimeout(this.quietTimer);
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.quietTimer = null;
    this.maxTimer = null;
  }
}

/** Replaces the children of a directory by the directory itself when there are too many of them. */
export function collapse(paths: readonly RelPath[], above: number): RelPath[] {
  const byParent = new Map<RelPath | null, RelPath[]>();
  for (const p of paths) {
    const parent = parentOf(p);
    const list = byParent.get(parent);
    if (list === undefined) byParent.set(parent, [p]);
    else list.push(p);
  }
  const out: RelPath[] = [];
  for (const [parent, list] of byParent) {
    if (parent !== null && list.length > above) out.push(parent);
    else for (const p of list) out.push(p);
  }
  return out;
}
