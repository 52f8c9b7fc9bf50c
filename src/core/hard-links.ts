import { compareRel } from './paths.js';
import { expectOf } from './propagate.js';
import type { Action, RelPath, ScannedEntry, Snapshot } from './types.js';

/**
 * Hard links in a one-way mirror: paths of the source that share an inode (same device and inode,
 * nlink > 1) must share one inode in the replica too, as `rsync -H` and `cp -a` make them.
 *
 * The first path of a source group (in path order) is its leader: it is copied like any file. Every
 * other path of the group becomes a `link` action to the leader's inode in the target, unless it is
 * one already. Links the source no longer has are broken: a target inode shared by paths that the
 * source keeps apart is kept by one of them, and each other leader on it gets a fresh copy.
 */

/** For each file of a snapshot that shares its inode with another file of it: its group's first path. */
export function linkLeaders(snap: Snapshot, isBlocked: (p: RelPath) => boolean): Map<RelPath, RelPath> {
  const groups = inodeGroups(snap, isBlocked);
  const leaders = new Map<RelPath, RelPath>();
  for (const paths of groups.values()) {
    if (paths.length < 2) continue;
    paths.sort(compareRel);
    const first = paths[0] as RelPath;
    for (const p of paths) leaders.set(p, first);
  }
  return leaders;
}

/** The files of a snapshot with nlink > 1, by inode; a key holds the device when the scan had it. */
export function inodeGroups(snap: Snapshot, isBlocked: (p: RelPath) => boolean = () => false): Map<string, RelPath[]> {
  const groups = new Map<string, RelPath[]>();
  // Most trees have no hard links at all: one pass over the values, which builds no [path, entry] pairs, settles that.
  if (!hasLinkedFile(snap)) return groups;
  for (const [path, s] of snap.entries) {
    if (!isLinkedFile(s) || isBlocked(path)) continue;
    const key = inodeKey(s);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [path]);
    else list.push(path);
  }
  return groups;
}

function hasLinkedFile(snap: Snapshot): boolean {
  // a scan table answers from its columns, building no entry per path (scan/scan-table.ts)
  const entries = snap.entries as Snapshot['entries'] & { hasLinkedFile?: unknown };
  if (typeof entries.hasLinkedFile === 'function') return (entries as { hasLinkedFile(): boolean }).hasLinkedFile();
  for (const s of entries.values()) if (isLinkedFile(s)) return true;
  return false;
}

export function inodeKey(s: ScannedEntry): string {
  return `${s.stat.dev ?? ''}:${s.stat.ino}`;
}

/** A file that shares its inode with another path (nlink > 1): the only entries hard-link planning looks at. */
export function isLinkedFile(s: ScannedEntry): boolean {
  return s.entry.kind === 'file' && (s.stat.nlink ?? 1) > 1;
}

export interface HardLinkInput {
  readonly source: Snapshot;
  readonly target: Snapshot;
  /** The paths planned (the scope), in order. */
  readonly paths: readonly RelPath[];
  readonly isBlocked: (p: RelPath) => boolean;
  /** The actions propagate() chose per path, which this rewrites for the paths of link groups (handed over: returned as they are when no path is linked). */
  readonly actions: Action[];
  readonly agreed: RelPath[];
  /**
   * Each side's linked files (isLinkedFile), when the caller keeps them apart (a watch does): the link
   * groups are then found among those, not by a pass over every entry of both sides. Default: that pass.
   */
  readonly linked?: LinkedFiles;
}

export interface LinkedFiles {
  readonly source: ReadonlyMap<RelPath, ScannedEntry>;
  readonly target: ReadonlyMap<RelPath, ScannedEntry>;
}

/** The plan's actions and agreed paths with hard links kept: links added, copies replaced, shared inodes broken. */
export function planHardLinks({ source, target, paths, isBlocked, actions, agreed, linked }: HardLinkInput): { actions: Action[]; agreed: RelPath[] } {
  // The groups come from the linked files alone (the same groups: no other entry can be in one).
  const leaderOf = linkLeaders(linked === undefined ? source : { ...source, entries: linked.source }, isBlocked);
  const sharedInTarget = [...inodeGroups(linked === undefined ? target : { ...target, entries: linked.target }).values()].filter((g) => g.length > 1);
  if (leaderOf.size === 0 && sharedInTarget.length === 0) return { actions, agreed };
  const sourceLeader = (p: RelPath): RelPath | null => (source.entries.get(p)?.entry.kind === 'file' ? (leaderOf.get(p) ?? p) : null);

  // Paths of the target that must leave the inode they share with paths the source keeps apart.
  const mustBreak = new Set<RelPath>();
  for (const shared of sharedInTarget) {
    shared.sort(compareRel);
    const keeperPath = shared.find((p) => sourceLeader(p) !== null);
    if (keeperPath === undefined) continue;
    const keeper = sourceLeader(keeperPath);
    for (const p of shared) if (sourceLeader(p) !== keeper) mustBreak.add(p);
  }

  const byPath = new Map<RelPath, Action[]>();
  for (const a of actions) {
    const list = byPath.get(a.path);
    if (list === undefined) byPath.set(a.path, [a]);
    else list.push(a);
  }
  const noLongerAgreed = new Set<RelPath>();
  // A narrow scope (a watch cycle) may hold only some names of a group: a write seen through one name
  // changed the others too, so linking to a leader this plan did not look at could link to stale bytes.
  const planned = new Set(paths);
  const fresh = new Set<RelPath>(); // paths that get a new inode in the target from this plan
  for (const a of actions) if (a.type === 'copy') fresh.add(a.path);

  // Leaders first (a follower needs to know whether its leader gets a new inode), then followers.
  for (const path of paths) {
    const s = source.entries.get(path);
    const t = target.entries.get(path);
    if (s === undefined || s.entry.kind !== 'file' || isBlocked(path) || sourceLeader(path) !== path) continue;
    if (!mustBreak.has(path) || fresh.has(path) || t === undefined || t.entry.kind !== 'file') continue;
    // same content, but the inode is shared with a path the source keeps apart: a copy of its own
    byPath.set(path, [...(byPath.get(path) ?? []).filter((a) => a.type !== 'meta'), { type: 'copy', path, target: 'right', expect: expectOf(t), source: s }]);
    noLongerAgreed.add(path);
    fresh.add(path);
  }
  for (const path of paths) {
    const s = source.entries.get(path);
    const leader = leaderOf.get(path);
    if (s === undefined || leader === undefined || leader === path || isBlocked(path)) continue;
    const t = target.entries.get(path);
    const tLeader = target.entries.get(leader);
    const leaderFresh = fresh.has(leader);
    // the leader not planned here, or not in the target: the name is synced as a file of its own for now
    if (!planned.has(leader) || (!leaderFresh && tLeader?.entry.kind !== 'file')) continue;
    const own = byPath.get(path) ?? [];
    if (!leaderFresh && !mustBreak.has(path) && t?.entry.kind === 'file' && tLeader !== undefined && t.stat.ino === tLeader.stat.ino) {
      // linked already: the leader's actions (a mode change) reach this name too
      byPath.set(
        path,
        own.filter((a) => a.type !== 'meta'),
      );
      continue;
    }
    const keep = own.filter((a) => a.type === 'delete'); // a directory or link of the same name goes first
    const expect = t !== undefined && t.entry.kind === 'file' ? expectOf(t) : null;
    const linkToExpect = leaderFresh || tLeader === undefined ? null : expectOf(tLeader);
    byPath.set(path, [...keep, { type: 'link', path, target: 'right', expect, source: s, linkTo: leader, linkToExpect }]);
    noLongerAgreed.add(path);
  }

  const out: Action[] = [];
  for (const list of byPath.values()) for (const a of list) out.push(a);
  return { actions: out, agreed: noLongerAgreed.size === 0 ? agreed : agreed.filter((p) => !noLongerAgreed.has(p)) };
}
