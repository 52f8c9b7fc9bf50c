import { lstatSync } from 'node:fs';
import type { AbsPath, RelPath, StatId } from '../core/types.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import { nowNs } from '../fs/stat.js';
import { digestOf, readXattrs, xattrPathOf } from '../fs/xattrs.js';
import type { VouchXattrs } from './read-meta.js';
import type { ScannedXattrValues } from './xattr-values.js';

/** What a scan saw of an entry that its xattrs are checked against: any change to them moves the ctime. */
export type SeenInode = Pick<StatId, 'ino' | 'ctimeNs'>;

/**
 * The xattr digests of a scan made without them: a worker thread's (scan-in-worker.ts), or an agent's
 * (remote/remote-endpoint.ts; the agent reads them here, asked by the client). Neither has an index to
 * vouch with, so reading them there cost a listxattr on every entry of a no-op run; here, beside the
 * index, it vouches for each unchanged entry (read-meta.ts vouchedXattrs) and only the others are read,
 * through their directory's descriptor as the scan reads them (dir-anchors.ts).
 * The read comes later than the worker's lstat, so it counts only if the entry still has that lstat's
 * inode and ctime afterwards (any xattr change moves ctime): otherwise the digest is unknown (undefined),
 * which decides nothing this run, and the changed ctime makes the next scan read it again.
 */
export class LateXattrs {
  private readonly anchors: DirAnchors;

  /** `values`: where the values read are kept for the copy that may follow (xattr-values.ts), as a scan keeps them. */
  constructor(
    root: AbsPath,
    private readonly vouch: VouchXattrs,
    private readonly values?: ScannedXattrValues,
  ) {
    this.anchors = new DirAnchors(root);
  }

  /** The digest of the entry the worker saw at `path` with `stat`. */
  digestOf(path: RelPath, stat: StatId): string | undefined {
    return this.vouch(path, stat) ?? this.read(path, stat);
  }

  /** The digest read now, if the entry at `path` is still the inode, at the ctime, that a scan saw; else undefined. */
  readIfUnchanged(path: RelPath, seen: SeenInode): string | undefined {
    return this.read(path, seen);
  }

  /** Closes the directory descriptors held. */
  close(): void {
    this.anchors.closeAll();
  }

  private read(path: RelPath, stat: SeenInode): string | undefined {
    let place: Place;
    try {
      place = this.anchors.place(path);
    } catch {
      return undefined; // a directory on the way vanished or was swapped: not what the worker saw
    }
    try {
      const readFromNs = nowNs();
      const attrs = readXattrs(xattrPathOf(place.fdPath));
      const now = lstatSync(place.fdPath, { bigint: true, throwIfNoEntry: false });
      if (now === undefined || now.ino !== stat.ino || now.ctimeNs !== stat.ctimeNs) return undefined;
      this.values?.remember(path, stat, attrs, readFromNs);
      return digestOf(attrs);
    } catch {
      // unreadable (a name that is not UTF-8, a file system without xattrs, the entry gone): none recorded (read-meta.ts)
      return undefined;
    } finally {
      place.release();
    }
  }
}
