import { sameMtime } from './compare.js';
import type { BaseRecord, Entry, Side } from './types.js';

/**
 * Two-way metadata merge for a path whose contents agree on both sides. Each field is merged on its
 * own against the base: changed on one side only → that side's value; changed on both sides to
 * different values → the field's own rule. No base record (both sides created the path) counts as
 * changed on both sides. Pure.
 *
 * A new field (owner, group, an xattr digest...) is one more row in FIELDS.
 */

/** Which side's value a field takes; null when both sides already hold the same value. */
type Pick = Side | null;

interface FieldRule<V> {
  readonly name: string;
  /** The field's value; undefined when this kind of entry has no such field (or it is not synced for it). */
  readonly read: (e: Entry) => V | undefined;
  /** What the base recorded for a side; side null: the value both sides agreed on. */
  readonly base: (b: BaseRecord, side: Side | null) => V | undefined;
  readonly same: (a: V, b: V) => boolean;
  /** Changed on both sides to different values: which side's value wins. */
  readonly onBoth: (l: Entry, r: Entry, lv: V, rv: V) => Side;
  /** `e` holding `v` in this field. */
  readonly write: (e: Entry, v: V) => Entry;
}

/** A rule with its value type hidden, so rules for fields of different types share one table. */
interface Field {
  readonly name: string;
  /** Both sides hold the same value, or one lacks the field: pick() is null whatever the base. */
  agrees(l: Entry, r: Entry): boolean;
  pick(l: Entry, r: Entry, b: BaseRecord | undefined): Pick;
  /** `into` with this field's value taken from `from`. */
  take(into: Entry, from: Entry): Entry;
}

function field<V>(rule: FieldRule<V>): Field {
  return {
    name: rule.name,
    agrees(l, r) {
      const lv = rule.read(l);
      const rv = rule.read(r);
      return lv === undefined || rv === undefined || rule.same(lv, rv);
    },
    pick(l, r, b) {
      const lv = rule.read(l);
      const rv = rule.read(r);
      if (lv === undefined || rv === undefined || rule.same(lv, rv)) return null;
      const known = b !== undefined && b.entry.kind === l.kind;
      const changed = (side: Side, v: V): boolean => {
        const was = known ? rule.base(b, side) : undefined;
        return was === undefined || !rule.same(v, was);
      };
      const lc = changed('left', lv);
      const rc = changed('right', rv);
      if (lc !== rc) return lc ? 'left' : 'right';
      if (!lc && known) {
        // Neither side moved since its own record, yet they differ: a run that set one side but not the
        // other (a failed or stale action). The agreed value in the base is the one that was meant.
        const agreed = rule.base(b, null);
        if (agreed !== undefined && rule.same(lv, agreed)) return 'left';
        if (agreed !== undefined && rule.same(rv, agreed)) return 'right';
      }
      return rule.onBoth(l, r, lv, rv);
    },
    take(into, from) {
      const v = rule.read(from);
      return v === undefined ? into : rule.write(into, v);
    },
  };
}

/** The side with the newer mtime; on equal mtimes the larger value, so `sync A B` and `sync B A` agree. */
function newerSideThenLarger<V>(l: Entry, r: Entry, lv: V, rv: V): Side {
  if (!sameMtime(l.mtimeNs, r.mtimeNs)) return l.mtimeNs > r.mtimeNs ? 'left' : 'right';
  return lv > rv ? 'left' : 'right';
}

const sameValue = <V>(a: V, b: V): boolean => a === b;

/**
 * Mtimes of files and symlinks (a directory's mtime moves with every change to its listing, tsync's
 * own writes included, so two-way leaves directory mtimes alone). Per side, the base is that side's
 * own recorded mtime.
 */
const MTIME = field<bigint>({
  name: 'mtime',
  read: (e) => (e.kind === 'dir' ? undefined : e.mtimeNs),
  base: (b, side) => (side === null ? b.entry.mtimeNs : ((side === 'left' ? b.left : b.right)?.mtimeNs ?? b.entry.mtimeNs)),
  same: sameMtime,
  onBoth: (_l, _r, lv, rv) => (lv > rv ? 'left' : 'right'),
  write: (e, v) => ({ ...e, mtimeNs: v }),
});

/** Permission bits of files and directories (Linux ignores a symlink's). */
const MODE = field<number>({
  name: 'mode',
  read: (e) => (e.kind === 'symlink' ? undefined : e.mode),
  base: (b) => (b.entry.kind === 'symlink' ? undefined : b.entry.mode),
  same: sameValue,
  onBoth: newerSideThenLarger,
  write: (e, v) => (e.kind === 'symlink' ? e : { ...e, mode: v }),
});

/**
 * Owner and group ids and the xattr digest, where the run keeps them: an entry without the field (not
 * kept, or an index from before tsync kept them) decides nothing. Changed on both sides: the side with
 * the newer mtime, as for the mode. The engine reads xattr values from whichever side holds the merged
 * digest (engine/execute.ts).
 */
const UID = field<number>({
  name: 'uid',
  read: (e) => e.uid,
  base: (b) => b.entry.uid,
  same: sameValue,
  onBoth: newerSideThenLarger,
  write: (e, v) => ({ ...e, uid: v }),
});

const GID = field<number>({
  name: 'gid',
  read: (e) => e.gid,
  base: (b) => b.entry.gid,
  same: sameValue,
  onBoth: newerSideThenLarger,
  write: (e, v) => ({ ...e, gid: v }),
});

const XATTRS = field<string>({
  name: 'xattrs',
  read: (e) => (e.kind === 'symlink' ? undefined : e.xattrs),
  base: (b) => (b.entry.kind === 'symlink' ? undefined : b.entry.xattrs),
  same: sameValue,
  onBoth: newerSideThenLarger,
  write: (e, v) => (e.kind === 'symlink' ? e : { ...e, xattrs: v }),
});

const FIELDS: readonly Field[] = [MTIME, MODE, UID, GID, XATTRS];

/** What each side must hold after the merge; null for a side that already holds it. */
export interface MergedMeta {
  readonly left: Entry | null;
  readonly right: Entry | null;
}

/**
 * Merges the metadata of two entries with the same content (same kind). Each side's result is its own
 * entry with the fields it loses taken from the other side: fields the table does not merge stay
 * as that side has them.
 */
export function mergeMeta(l: Entry, r: Entry, b: BaseRecord | undefined): MergedMeta {
  let left: Entry | null = null;
  let right: Entry | null = null;
  for (const f of FIELDS) {
    const winner = f.pick(l, r, b);
    if (winner === 'right') left = f.take(left ?? l, r);
    else if (winner === 'left') right = f.take(right ?? r, l);
  }
  return { left, right };
}

/** True when mergeMeta(l, r, b) leaves both sides as they are for every base b: no merged field differs. */
export function metaAgrees(l: Entry, r: Entry): boolean {
  for (const f of FIELDS) if (!f.agrees(l, r)) return false;
  return true;
}
