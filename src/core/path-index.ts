import { parentOf } from './paths.js';
import type { RelPath } from './types.js';

/**
 * Which paths lie directly below each directory, so that a subtree is found by walking it instead of
 * by a pass over every known path (a watch cycle must cost what changed, not what exists). It may hold
 * more than is known: paths are added as they are seen and dropped lazily, when a walk finds that
 * `isKnown` no longer vouches for a path that has nothing below it. Pure: no I/O.
 */
export class ChildIndex {
  private readonly children = new Map<RelPath | null, Set<RelPath>>();

  constructor(
    private readonly isKnown: (p: RelPath) => boolean,
    private readonly visits: VisitCount = new VisitCount(),
  ) {}

  /** Adds a path and whichever of its ancestors are missing. */
  add(path: RelPath): void {
    let p = path;
    for (;;) {
      const parent = parentOf(p);
      let kids = this.children.get(parent);
      if (kids === undefined) {
        kids = new Set();
        this.children.set(parent, kids);
      }
      if (kids.has(p)) return;
      kids.add(p);
      if (parent === null) return;
      p = parent;
    }
  }

  /** Every known path strictly below `dir` (null: the root), parents before their children. */
  below(dir: RelPath | null): RelPath[] {
    const out: RelPath[] = [];
    const stack: (RelPath | null)[] = [dir];
    while (stack.length > 0) {
      const d = stack.pop() as RelPath | null;
      const kids = this.children.get(d);
      if (kids === undefined) continue;
      this.visits.n += kids.size;
      for (const k of kids) {
        const hasKids = this.children.has(k);
        if (this.isKnown(k)) out.push(k);
        else if (!hasKids) {
          kids.delete(k); // forgotten everywhere and nothing below it: drop it now
          continue;
        }
        if (hasKids) stack.push(k);
      }
      if (kids.size === 0) this.children.delete(d);
    }
    return out;
  }

  clear(): void {
    this.children.clear();
  }
}

/**
 * How many known paths the structures of a watched pair handed out: a pass over a whole side, the whole
 * base or a big subtree shows up here. A watch cycle reports it (TSYNC_TIMINGS) so that a test can tell
 * a cycle that costs what changed from one that costs the tree, without timing anything.
 */
export class VisitCount {
  n = 0;
}

/**
 * A map of paths that keeps a ChildIndex told of every path it gains (removals are found lazily). Given a
 * VisitCount, every entry its iterators hand out is counted (a generator per pass: only when asked for).
 */
export class IndexedMap<V> extends Map<RelPath, V> {
  constructor(
    private readonly index: ChildIndex,
    private readonly visits: VisitCount | null = null,
  ) {
    super();
  }

  override set(path: RelPath, value: V): this {
    if (!super.has(path)) this.index.add(path);
    return super.set(path, value);
  }

  override keys(): MapIterator<RelPath> {
    return this.visits === null ? super.keys() : counted(super.keys(), this.visits);
  }

  override values(): MapIterator<V> {
    return this.visits === null ? super.values() : counted(super.values(), this.visits);
  }

  override entries(): MapIterator<[RelPath, V]> {
    return this.visits === null ? super.entries() : counted(super.entries(), this.visits);
  }

  override [Symbol.iterator](): MapIterator<[RelPath, V]> {
    return this.entries();
  }

  override forEach(fn: (value: V, key: RelPath, map: Map<RelPath, V>) => void, thisArg?: unknown): void {
    if (this.visits === null) super.forEach(fn, thisArg);
    else for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

/** The items, each counted in `visits` as it is handed out. */
export function* counted<T>(items: Iterator<T>, visits: VisitCount): MapIterator<T> {
  for (let r = items.next(); r.done !== true; r = items.next()) {
    visits.n++;
    yield r.value;
  }
}
