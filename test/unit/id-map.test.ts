// Owners across machines (remote/id-map.ts): matched by name, root and unknown names keep their numbers,
// --numeric-ids keeps every number, and an owner sent to the far side and read back is unchanged.
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../src/core/types.js';
import { idMapOf, type NameTables } from '../../src/remote/id-map.js';

const here: NameTables = {
  users: new Map([
    [0, 'root'],
    [1000, 'ann'],
    [1001, 'bob'],
    [1500, 'only-here'],
  ]),
  groups: new Map([
    [0, 'root'],
    [100, 'users'],
    [1000, 'ann'],
  ]),
};
const there: NameTables = {
  users: new Map([
    [0, 'root'],
    [1001, 'ann'],
    [1000, 'bob'],
    [1700, 'only-there'],
  ]),
  groups: new Map([
    [0, 'root'],
    [100, 'users'],
    [2000, 'ann'],
  ]),
};

const file = (uid: number, gid: number): FileEntry => ({ kind: 'file', size: 1, mtimeNs: 1n, mode: 0o644, hash: null, uid, gid });

describe('idMapOf', () => {
  const ids = idMapOf(here, there, false);

  it('reads a remote owner as the local id of the same name', () => {
    expect(ids.toLocal(file(1001, 2000))).toMatchObject({ uid: 1000, gid: 1000 }); // ann:ann
    expect(ids.toLocal(file(1000, 100))).toMatchObject({ uid: 1001, gid: 100 }); // bob:users
  });

  it('keeps root, and ids whose name one side does not know, as numbers', () => {
    expect(ids.toLocal(file(0, 0))).toMatchObject({ uid: 0, gid: 0 });
    expect(ids.toLocal(file(1700, 100))).toMatchObject({ uid: 1700 });
    expect(ids.toRemote(file(1500, 100))).toMatchObject({ uid: 1500 });
  });

  it('sends a local owner as the remote id of its name, the inverse of reading it', () => {
    for (const uid of [0, 1000, 1001, 1500, 1700]) {
      for (const gid of [0, 100, 1000, 2000]) {
        expect(ids.toLocal(ids.toRemote(file(uid, gid)))).toMatchObject({ uid, gid });
        expect(ids.toRemote(ids.toLocal(file(uid, gid)))).toMatchObject({ uid, gid });
      }
    }
    expect(ids.toRemote(file(1000, 1000))).toMatchObject({ uid: 1001, gid: 2000 });
  });

  it('leaves entries without owners alone, and maps nothing with --numeric-ids', () => {
    const noOwner: FileEntry = { kind: 'file', size: 1, mtimeNs: 1n, mode: 0o644, hash: null };
    expect(ids.toLocal(noOwner)).toBe(noOwner);
    const numeric = idMapOf(here, there, true);
    expect(numeric.toLocal(file(1001, 2000))).toMatchObject({ uid: 1001, gid: 2000 });
  });

  it('keeps ids numeric when two remote ids share one local name (the way back would be ambiguous)', () => {
    const dup: NameTables = {
      users: new Map([
        [5, 'x'],
        [6, 'x'],
      ]),
      groups: new Map(),
    };
    const twice: NameTables = {
      users: new Map([
        [7, 'x'],
        [8, 'y'],
      ]),
      groups: new Map(),
    };
    const m = idMapOf(dup, twice, false);
    // 'x' is 5 here (the first); there it is only 7
    expect(m.toLocal(file(7, 0))).toMatchObject({ uid: 5 });
    expect(m.toRemote(file(5, 0))).toMatchObject({ uid: 7 });
  });
});
