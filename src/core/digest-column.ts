/**
 * A column of xattr digests, one slot per path, as the scans' tables keep them (issue 11, memory). Almost every
 * entry that keeps its xattrs has none (digest ''), and a plain array spent an 8-byte slot per path on saying so:
 * here that is one byte, and only the non-empty digests are strings, in a map (as the base's table keeps them).
 * A slot holds a digest, '' or nothing (undefined: not kept, or not known), as the plain array did.
 */
export class DigestColumn {
  /** 1: kept (the digest is in `digests`, or '' when it is not there); 0: nothing. */
  private kept: Uint8Array;
  private readonly digests = new Map<number, string>();

  constructor(capacity = 0) {
    this.kept = new Uint8Array(capacity);
  }

  get(i: number): string | undefined {
    return this.kept[i] === 1 ? (this.digests.get(i) ?? '') : undefined;
  }

  set(i: number, digest: string | undefined): void {
    if (i >= this.kept.length) {
      if (digest === undefined) return; // reads undefined already
      const n = this.kept.length;
      const grown = new Uint8Array(Math.max(i + 1, n < 65_536 ? n * 2 : n + (n >> 3), 16));
      grown.set(this.kept);
      this.kept = grown;
    }
    this.kept[i] = digest === undefined ? 0 : 1;
    if (digest === undefined || digest === '') this.digests.delete(i);
    else this.digests.set(i, digest);
  }
}
