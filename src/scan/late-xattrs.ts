import { lstatSync } from 'node:fs';
import type { AbsPath, RelPath, StatId } from '../core/types.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import { readXattrDigest, type VouchXattrs } from './read-meta.js';

/**
 * The xattr digests of a scan made without them: a worker thread's (scan-in-worker.ts). The worker has
 * no index to vouch with, so reading them there cost a listxattr on every entry of a no-op run; here,
 * on the main thread, the index vouches for each unchanged entry (read-meta.ts vouchedXattrs) and only
 * the others are read, through their directory's descriptor as the scan reads them (dir-anchors.ts).
 * The read comes later than the worker's lstat, so it counts only if the entry still has that lstat's
 * inode and ctime afterwards (any xattr change moves ctime): otherwise the digest is unknown (undefined),
 * which decides nothing this run, and the changed ctime makes the next scan read it again.
 */
export class LateXattrs {
  private readonly anchors: DirAnchors;

  constructor(
    root: AbsPath,
    private readonly vouch: VouchXattrs,
  ) {
    this.anchors = new DirAnchors(root);
  }

  /** The digest of the entry the worker saw at `path` with `stat`. */
  digestOf(path: RelPath, stat: StatId): string | undefined {
    return this.vouch(path, stat) ?? this.read(path, stat);
  }

  /** Closes the directory descriptors held. */
  close(): void {
    this.anchors.closeAll();
  }

  private read(path: RelPath, stat: StatId): string | undefined {
    let place: Place;
    try {
      place = this.anchors.place(path);
    } catch {
      return undefined; // a directory on the way vanished or was swapped: not what the worker saw
    }
    try {
      const digest = readXattrDigest(place.fdPath);
      const now = lstatSync(place.fdPath, { bigint: true, throwIfNoEntry: false });
      if (now === undefined || now.ino !== stat.ino || now.ctimeNs !== stat.ctimeNs) return undefined;
      return digest;
    } catch {
      return undefined;
    } finally {
      place.release();
    }
  }
}
