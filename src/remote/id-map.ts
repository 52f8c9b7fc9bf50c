// Owners across machines: the same person may be uid 1000 here and 1001 there. As rsync does by
// default, owners and groups are matched by name: a remote entry's uid is read as the local uid of the
// same user name, and a local uid is sent as the remote uid of its name. An id whose name is unknown on
// either side, and id 0 (root is root everywhere), keep their number; --numeric-ids keeps every number.
// The mapping is applied where entries cross the wire (remote-endpoint.ts), so the core, the index and
// the executor only ever see local ids.
import { withEntry } from '../core/scanned.js';
import type { Entry, ScannedEntry } from '../core/types.js';

/** id → name, as a machine's account databases give them (name-tables.ts). */
export interface NameTables {
  readonly users: ReadonlyMap<number, string>;
  readonly groups: ReadonlyMap<number, string>;
}

interface OneWay {
  readonly uid: ReadonlyMap<number, number>;
  readonly gid: ReadonlyMap<number, number>;
}

export interface IdMap {
  /** An entry as the remote side reported it, with local ids. */
  toLocal<E extends Entry>(e: E): E;
  /** A (local-id) entry as the remote side must get it. */
  toRemote<E extends Entry>(e: E): E;
}

export const IDENTITY_IDS: IdMap = { toLocal: (e) => e, toRemote: (e) => e };

/**
 * The mapping between the two sides' ids, from their name tables. Ids whose name exists on both sides,
 * with different numbers, are mapped by name (a name that two ids share on one side maps by the first);
 * the mapping is completed into a permutation (permutationOf), and the two directions are inverses, so
 * an owner sent and read back is the owner that was sent.
 */
export function idMapOf(local: NameTables, remote: NameTables, numericIds: boolean): IdMap {
  if (numericIds) return IDENTITY_IDS;
  const toLocal: OneWay = { uid: permutationOf(byName(remote.users, local.users)), gid: permutationOf(byName(remote.groups, local.groups)) };
  const toRemote: OneWay = { uid: inverse(toLocal.uid), gid: inverse(toLocal.gid) };
  if (toLocal.uid.size === 0 && toLocal.gid.size === 0) return IDENTITY_IDS;
  return { toLocal: (e) => mapped(e, toLocal), toRemote: (e) => mapped(e, toRemote) };
}

function byName(from: ReadonlyMap<number, string>, to: ReadonlyMap<number, string>): Map<number, number> {
  const idOfName = new Map<string, number>();
  for (const [id, name] of to) if (!idOfName.has(name)) idOfName.set(name, id);
  const out = new Map<number, number>();
  for (const [id, name] of from) {
    const there = idOfName.get(name);
    if (id !== 0 && there !== undefined && there !== 0 && there !== id && !out.has(id)) out.set(id, there);
  }
  // two remote ids onto one local id would make the way back ambiguous: keep such ids numeric
  const targets = new Map<number, number>();
  for (const target of out.values()) targets.set(target, (targets.get(target) ?? 0) + 1);
  for (const [id, target] of out) if ((targets.get(target) ?? 0) > 1) out.delete(id);
  return out;
}

/**
 * Completes a one-to-one mapping into a permutation of all ids. Without this, an id that is mapped on one
 * side and an unmapped id with the same number on the other would collide: a local gid 2000 that has no
 * name here, sent as 2000, would come back as the local id that remote 2000's name has. The ids the
 * mapping takes (its targets that are not sources) are given to the ids it frees (its sources that are not
 * targets), in order, so every id maps to exactly one and back.
 */
function permutationOf(m: Map<number, number>): Map<number, number> {
  const taken = [...m.values()].filter((id) => !m.has(id)).sort((a, b) => a - b);
  const freed = [...m.keys()].filter((id) => ![...m.values()].includes(id)).sort((a, b) => a - b);
  for (const [i, id] of taken.entries()) m.set(id, freed[i] as number);
  return m;
}

function inverse(m: ReadonlyMap<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [a, b] of m) out.set(b, a);
  return out;
}

function mapped<E extends Entry>(e: E, m: OneWay): E {
  const uid = e.uid === undefined ? undefined : m.uid.get(e.uid);
  const gid = e.gid === undefined ? undefined : m.gid.get(e.gid);
  if (uid === undefined && gid === undefined) return e;
  return { ...e, ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
}

/** A scanned entry with its entry's ids mapped. */
export function mapScanned(s: ScannedEntry, f: (e: Entry) => Entry): ScannedEntry {
  const entry = f(s.entry);
  return entry === s.entry ? s : withEntry(s, entry);
}
