import type * as Crypto from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * `count` random bytes from the kernel, as hex: read from /dev/urandom (open, fstat, read, close), or from
 * node:crypto where that is not a character device that can be read (a chroot without /dev, a fault trial's layer).
 * Why not node:crypto every time: loading it costs 7-14 ms of a command's start-up (hash/sha256.ts says more), and
 * a sync that writes rows needs one token for the base snapshot (store/store.ts), which is all it would load it for.
 * `source` is for tests: another file takes the fallback.
 */
export function randomHex(count: number, source = '/dev/urandom'): string {
  const bytes = Buffer.alloc(count);
  try {
    const fd = openSync(source, 'r');
    try {
      // a regular file in its place would hand out the same "random" bytes every time
      if (!fstatSync(fd).isCharacterDevice()) throw new Error(`${source} is not a character device`);
      for (let got = 0; got < count; ) {
        const n = readSync(fd, bytes, got, count - got, null);
        if (n <= 0) throw new Error(`${source} ended`);
        got += n;
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    return (createRequire(import.meta.url)('node:crypto') as typeof Crypto).randomBytes(count).toString('hex');
  }
  return bytes.toString('hex');
}
