import type { CopyAction, Entry, RelPath, ScannedEntry, Side } from './types.js';

/**
 * `s` with another entry, as a new plain object. Never write `{ ...s, entry }`: a scan table hands out its
 * entries as views that read their fields from the table's columns (scan/scan-table.ts ScannedRow), and a
 * spread copies none of those fields, only the view's own (its table and slot).
 */
export function withEntry<E extends Entry>(s: ScannedEntry, entry: E): ScannedEntry & { readonly entry: E } {
  return { entry, stat: s.stat, observedAtNs: s.observedAtNs };
}

/** A scanned entry that makes its own copy actions: a scan table's row (scan/scan-table.ts ScannedRow). */
interface CopyingEntry extends ScannedEntry {
  copyTo(path: RelPath, target: Side): CopyAction;
}

function isCopying(s: ScannedEntry): s is CopyingEntry {
  return 'copyTo' in s && typeof s.copyTo === 'function';
}

/**
 * The action that copies `from` to `path` on `target`, which holds nothing there. A scan table's row makes it
 * as a view of its own slot (scan/scan-table.ts rowCopyClass), which a 100k-file first sync's plan holds 100k of;
 * any other entry gets a plain action.
 */
export function copyToEmpty(path: RelPath, target: Side, from: ScannedEntry): CopyAction {
  return isCopying(from) ? from.copyTo(path, target) : { type: 'copy', path, target, expect: null, source: from };
}
