import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

/**
 * SHA-256 of the pieces in order, as lowercase hex: the same digest `createHash('sha256')` gives for the same bytes
 * (test/unit/sha256.test.ts holds the two together). For the one or two short digests a command takes on its way
 * in: the pair's index file name (store/state-location.ts) and a remote root's memo (store/remote-root-memo.ts).
 * Why not node:crypto: loading it brings OpenSSL's bindings and some twenty internal modules, 7-14 ms of every
 * command's start-up on the 2-core machine (issue 11; `tsync status` on an empty pair 113-116 ms against 123-127 ms
 * by hand with it left out), and nothing else a local no-op or `status` does needs it. In JavaScript a digest of a
 * hundred bytes takes about 2 µs once compiled, so what hashes many things (the xattr digests, fs/xattrs.ts) keeps
 * node:crypto, loaded on first use.
 */
export function sha256Hex(...pieces: readonly Uint8Array[]): string {
  const hash = sha256.create();
  for (const piece of pieces) hash.update(piece);
  return bytesToHex(hash.digest());
}
