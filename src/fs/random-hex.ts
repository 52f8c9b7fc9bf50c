import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { nodeCrypto } from '../runtime/lazy-crypto.js';

/**
 * `count` random bytes from the kernel, as hex: read from /dev/urandom (open, fstat, read, close), or from
 * node:crypto where that is not a character device that can be read (a chroot without /dev, a fault trial's layer).
 * Why not node:crypto every time: loading it costs 7-14 ms of a command's start-up (runtime/lazy-crypto.ts), and a
 * sync that writes rows needs one token for the base snapshot (store/store.ts), which is all it would load it for.
 * `source` is for tests: another file takes the fallback.
 */
export function randomHex(count: number, source = '/dev/urandom'): string {
  return (kernelRandom(count, source) ?? nodeCrypto().randomBytes(count)).toString('hex');
}

/** `count` bytes read from `source`, or null where it cannot be opened or read, or is not a character device. */
function kernelRandom(count: number, source: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch {
    return null;
  }
  try {
    // a regular file in its place would hand out the same "random" bytes every time
    if (!fstatSync(fd).isCharacterDevice()) return null;
    const bytes = Buffer.alloc(count);
    for (let got = 0; got < count; ) {
      const n = readSync(fd, bytes, got, count - got, null);
      if (n <= 0) return null;
      got += n;
    }
    return bytes;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
