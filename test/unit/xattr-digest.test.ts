// The xattr digest is stored in every index (state.db) and compared with the next scan's: its bytes must
// not change between versions, or every entry with attributes would look changed after an upgrade. The
// values here were computed by the first implementation (a Hash object fed piece by piece).
import { describe, expect, it } from 'vitest';
import { digestOf, ReadXattrs } from '../../src/fs/xattrs.js';

describe('digestOf', () => {
  it('gives the digests earlier versions recorded', () => {
    expect(digestOf(new Map([['user.note', Buffer.from('hello')]]))).toBe('57cceef1c61ced60');
    const several = new Map([
      ['user.b', Buffer.from('2')],
      ['security.selinux', Buffer.from('system_u:object_r:etc_t:s0\0')],
      ['user.é', Buffer.alloc(0)],
    ]);
    expect(digestOf(several)).toBe('e4d06dbf5f36746a');
  });

  it("is '' for no attributes and does not depend on the map's order", () => {
    expect(digestOf(new Map())).toBe('');
    const a = new Map([
      ['user.a', Buffer.from('1')],
      ['user.b', Buffer.from('2')],
    ]);
    const b = new Map([
      ['user.b', Buffer.from('2')],
      ['user.a', Buffer.from('1')],
    ]);
    expect(digestOf(a)).toBe(digestOf(b));
    // a value moved into the name is a different set
    expect(digestOf(new Map([['user.a1', Buffer.alloc(0)]]))).not.toBe(digestOf(new Map([['user.a', Buffer.from('1')]])));
  });

  it('gives values read from an entry (which keep their digest) the digest of the same plain map', () => {
    const read = new ReadXattrs([
      ['user.b', Buffer.from('2')],
      ['security.selinux', Buffer.from('system_u:object_r:etc_t:s0\0')],
      ['user.é', Buffer.alloc(0)],
    ]);
    expect(read.digest).toBeUndefined();
    expect(digestOf(read)).toBe('e4d06dbf5f36746a');
    // computed once, then kept on the set itself
    expect(read.digest).toBe('e4d06dbf5f36746a');
    expect(digestOf(read)).toBe('e4d06dbf5f36746a');
    expect(digestOf(new ReadXattrs())).toBe('');
  });
});
