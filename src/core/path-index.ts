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

  constructor(private readonly isKnown: (p: RelPath) => boolean) {}

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

/** A map of paths that keeps a ChildIndex told of every path it gains (removals are found lazily). */
export class IndexedMap<V> extends Map<RelPath, V> {
  constructor(private readonly index: ChildIndex) {
    super();
  }

  override set(path: RelPath, value: V): this {
    if (!super.has(path)) this.index.add(path);
    return super.set(path, value);
  }
}
