/**
 * Owner or group ids by slot, as the scans' and the base's tables keep them (issue 11, memory). Nearly every tree
 * has one owner and one group throughout (or neither is kept), and an element per slot cost 4 bytes a path for each
 * of the two ids in each of the three tables a run holds at its peak: 24 bytes a path, 120 MB at five million paths,
 * all of them saying the same number. So a column takes one of two forms, both a Uint32Array:
 * - uniform: one element, while every slot written so far holds that id;
 * - per slot: an element per slot, from the first slot written with another id on.
 * The two agree wherever they overlap (a per-slot column of one slot reads as the uniform one would), so a reader
 * needs no flag: it reads through idOfSlot. Writers go through withId and write the slots in order from 0 (a walk's
 * appends, a table's loaded rows), which is what lets the first slot set the uniform value.
 */
/** (uid_t)-1: no file has it; the id was not kept. */
export const NO_ID = 0xffffffff;

/** A column of no slot written yet: uniform, every slot NO_ID (not kept) until written. */
export function uniformIds(id: number = NO_ID): Uint32Array {
  return Uint32Array.of(id);
}

/** The id of slot i (i below the table's count). */
export function idOfSlot(ids: Uint32Array, i: number): number {
  return (ids.length === 1 ? ids[0] : ids[i]) as number;
}

/**
 * `ids` with slot i set to `id`, slots being written in order from 0: the same array where it can hold it, else the
 * per-slot form made from it with room for `capacity` slots (the caller keeps what is returned).
 */
export function withId(ids: Uint32Array, i: number, id: number, capacity: number): Uint32Array {
  if (ids.length === 1) {
    if (ids[0] === id) return ids;
    // the first slot decides what the uniform form says: no other slot has been written before it
    if (i === 0) {
      ids[0] = id;
      return ids;
    }
    const perSlot = new Uint32Array(Math.max(capacity, i + 1)).fill(ids[0] as number);
    perSlot[i] = id;
    return perSlot;
  }
  // a typed array drops a write past its end without a word: a column not grown with its table is a bug to see
  if (!(i >= 0 && i < ids.length)) throw new RangeError(`slot ${i} of an id column of ${ids.length}`);
  ids[i] = id;
  return ids;
}

/** `ids` with room for `capacity` slots: a uniform column as it is, a per-slot one copied into a longer array. */
export function grownIds(ids: Uint32Array, capacity: number): Uint32Array {
  if (ids.length === 1 || ids.length >= capacity) return ids;
  const grown = new Uint32Array(capacity).fill(NO_ID);
  grown.set(ids);
  return grown;
}

/** The first `count` slots of a per-slot column read back whole (a snapshot): uniform where they all hold one id. */
export function compactIds(ids: Uint32Array, count: number): Uint32Array {
  if (count === 0) return uniformIds();
  const first = ids[0] as number;
  for (let i = 1; i < count; i++) if (ids[i] !== first) return ids;
  return uniformIds(first);
}

/** Whether the column is in the per-slot form: its bytes are the slots' (a snapshot writes them as they are). */
export function isPerSlot(ids: Uint32Array, count: number): boolean {
  return ids.length !== 1 || count <= 1;
}
