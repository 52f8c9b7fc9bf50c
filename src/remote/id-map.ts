// Owners across machines: the same person may be uid 1000 here and 1001 there. As rsync does by
// default, owners and groups are matched by name: a remote entry's uid is read as the local uid of the
// same user name, and a local uid is sent as the remote uid of its name. An id whose name is unknown on
// either side, and id 0 (root is root everywhere), keep their number; --numeric-ids keeps every number.
// The mapping is applied where entries cross the wire (remote-endpoint.ts), so the core, the index and
// the executor only ever see local ids.
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
 * The mapping between the two sides' ids, from their name tables. Only ids whose name exists on both
 * sides, with different numbers, are mapped; a name that two ids share on one side maps by the first.
 * The two directions are inverses of each other wherever both are defined, so an owner sent and read
 * back is the owner that was sent.
 */
export function idMapOf(local: NameTables, remote: NameTables, numericIds: boolean): IdMap {
  if (numericIds) return IDENTITY_IDS;
  const toLocal: OneWay = { uid: byName(remote.users, local.users), gid: byName(remote.groups, local.groups) };
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
  return entry === s.entry ? s : { ...s, entry };
}
