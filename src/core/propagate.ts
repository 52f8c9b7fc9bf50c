import { sameContent, sameExtendedMeta, sameMeta } from './compare.js';
import { copyToEmpty, withEntry } from './scanned.js';
import type { Action, DirEntry, Expectation, RelPath, ScannedEntry, Side } from './types.js';

export interface PropagateInput {
  readonly path: RelPath;
  /** What the path must hold on `target` afterwards; undefined = nothing. */
  readonly from: ScannedEntry | undefined;
  readonly target: Side;
  /** What `target` holds now (from its scan). */
  readonly current: ScannedEntry | undefined;
  /** Whether a directory's mtime counts as a difference (one-way mirrors it; two-way does not). */
  readonly dirMtimes: boolean;
}

/**
 * The actions that make one side's path hold a given entry: the building block of both planners.
 * Returns them unordered; the planner sorts them into phases.
 */
export function propagate({ path, from, target, current, dirMtimes }: PropagateInput): Action[] {
  if (from === undefined) {
    return current === undefined ? [] : [{ type: 'delete', path, target, expect: expectOf(current) }];
  }
  const out: Action[] = [];
  const sameKind = current !== undefined && current.entry.kind === from.entry.kind;
  if (current !== undefined && !sameKind) out.push({ type: 'delete', path, target, expect: expectOf(current) });
  const present = sameKind ? current : undefined;

  if (from.entry.kind === 'dir') {
    const dir = withEntry(from, from.entry);
    if (present === undefined) {
      out.push({ type: 'mkdir', path, target, expect: null, source: dir });
      // created owner-writable; its real mode (and mtime) arrive after its children (engine/operations.ts)
      out.push({ type: 'meta', path, target, expect: null, source: dir });
    } else if (!sameDirMeta(from.entry, present.entry as DirEntry, dirMtimes)) {
      out.push({ type: 'meta', path, target, expect: expectOf(present), source: dir });
    }
    return out;
  }
  if (present === undefined) {
    out.push(copyToEmpty(path, target, from));
  } else if (!sameContent(from.entry, present.entry)) {
    out.push({ type: 'copy', path, target, expect: expectOf(present), source: from });
  } else if (!sameMeta(from.entry, present.entry)) {
    out.push({ type: 'meta', path, target, expect: expectOf(present), source: from });
  }
  return out;
}

function sameDirMeta(a: DirEntry, b: DirEntry, withMtime: boolean): boolean {
  return withMtime ? sameMeta(a, b) : a.mode === b.mode && sameExtendedMeta(a, b);
}

export function expectOf(s: ScannedEntry): Expectation {
  return { kind: s.entry.kind, ...s.stat };
}
