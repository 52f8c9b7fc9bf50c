// The pair's index file name and a remote root's memo name are SHA-256 digests of the roots, taken in JavaScript
// (src/hash/sha256.ts) since node:crypto costs start-up. The names must not change between versions, or an upgrade
// would leave every pair's index behind and start over: the literals below were computed by the versions that hashed
// with node:crypto's createHash.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/hash/sha256.js';
import { randomHex } from '../../src/fs/random-hex.js';
import { memoFileOf } from '../../src/store/remote-root-memo.js';
import { pairKey } from '../../src/store/state-location.js';
import type { AbsPath } from '../../src/core/types.js';

describe('sha256Hex', () => {
  it("is node:crypto's SHA-256 of the pieces put together", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), (pieces) => {
        const expected = createHash('sha256').update(Buffer.concat(pieces)).digest('hex');
        expect(sha256Hex(...pieces)).toBe(expected);
      }),
      { numRuns: 300 },
    );
    // across a 64-byte block boundary and the length field's
    for (const n of [0, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = Buffer.alloc(n, 0x61);
      expect(sha256Hex(bytes), `${n} bytes`).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});

describe('the names earlier versions gave', () => {
  it('a pair of roots keeps its index file, in either order', () => {
    expect(pairKey('/srv/photos' as AbsPath, '/mnt/backup/photos' as AbsPath).fileName).toBe('pair-12444af3dce52329867f8ad6.db');
    expect(pairKey('/mnt/backup/photos' as AbsPath, '/srv/photos' as AbsPath).fileName).toBe('pair-12444af3dce52329867f8ad6.db');
    // names outside ASCII, first and second: hashed as latin1, as they always were
    expect(pairKey('/home/é/a' as AbsPath, '/home/b' as AbsPath).fileName).toBe('pair-e205ed263eb1d28a2e9e03d7.db');
    expect(pairKey('/data/é' as AbsPath, '/data/z/ü' as AbsPath).fileName).toBe('pair-cc3e3eb0ac14b061e0b090ae.db');
  });

  it('a remote root keeps its memo (the spec and the ssh command as UTF-8)', () => {
    expect(memoFileOf('/st', 'me@host:/data/ü', 'ssh -p 2222')).toBe('/st/remote-14ee0d063d4ec4efff6ca6ed.json');
    expect(memoFileOf('/st', 'me@host:/data/ü', 'ssh -i /home/ö/key')).toBe('/st/remote-362084a454127150c5cd9c8f.json');
  });
});

describe('randomHex', () => {
  it('gives as many bytes as asked, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const token = randomHex(16);
      expect(token).toMatch(/^[0-9a-f]{32}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(100);
  });

  it("falls back to node:crypto where the kernel's source cannot be read or is a plain file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsync-random-'));
    try {
      const plain = join(dir, 'urandom');
      writeFileSync(plain, Buffer.alloc(64, 7));
      for (const source of [plain, join(dir, 'missing')]) {
        const a = randomHex(16, source);
        const b = randomHex(16, source);
        expect(a, source).toMatch(/^[0-9a-f]{32}$/);
        expect(a, source).not.toBe(b);
        expect(a, source).not.toBe('07'.repeat(16));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
