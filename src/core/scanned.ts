import type { Entry, ScannedEntry } from './types.js';

/**
 * `s` with another entry, as a new plain object. Never write `{ ...s, entry }`: a scan table hands out its
 * entries as views that read their fields from the table's columns (scan/scan-table.ts ScannedRow), and a
 * spread copies none of those fields, only the view's own (its table and slot).
 */
export function withEntry<E extends Entry>(s: ScannedEntry, entry: E): ScannedEntry & { readonly entry: E } {
  return { entry, stat: s.stat, observedAtNs: s.observedAtNs };
}
