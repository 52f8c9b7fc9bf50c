import { fchownSync, fstatSync, lchownSync, lstatSync } from 'node:fs';
import type { Entry, KeptMeta, OwnerMeta, XattrMeta } from '../core/types.js';
import { errCode } from '../fs/stat.js';
import { addXattrs, digestOf, listKeptXattrs, readXattrs, writeXattrs, XattrError, XattrUnaddressableError, xattrPathOf } from '../fs/xattrs.js';

export const CHOWN_REFUSED_WARNING = 'owner and group are not kept: only root (or a process with CAP_CHOWN) may set them; --no-owner --no-group turn this off';

/** The source's extended attributes as read right before a copy; null where they are not copied. */
export type SourceXattrs = ReadonlyMap<string, Buffer> | null;

export const NO_XATTRS: SourceXattrs = new Map();

/** An entry's owner and group as its fstat gave them (applyToFile). */
export interface CurrentOwner {
  readonly uid: number;
  readonly gid: number;
}

/** What the kernel gives a file created in one of the target's directories, before tsync sets anything. */
interface FreshFileTraits extends CurrentOwner {
  /** A fresh file there had no kept xattrs (no inherited default ACL, no security label); null: not listed yet. */
  xattrsClean: boolean | null;
}

/** MetaWriter.freshPlan: whether to chown a fresh file, and the fields applyToTempFile would return for it. */
export interface FreshPlan {
  readonly chown: boolean;
  readonly meta: OwnerMeta & XattrMeta;
}

/** Bits that make a wrong owner or group dangerous for even a moment: such a file is always chowned first. */
const SET_ID_BITS = 0o6000;

/**
 * Writes owner, group and extended attributes onto an entry about to be installed (a temp file before
 * its rename, a directory or file in place), as far as this run keeps them and may set them. What
 * cannot be set is said once per run (not once per file) and the copy goes on: a backup without owners
 * beats no backup. The returned fields are what was actually set, which is what the index records.
 */
export class MetaWriter {
  private readonly told = new Set<string>();
  /** Per target directory (its path in the tree, '' for the root), what a fresh file there got: learnt from the first. */
  private readonly freshInDir = new Map<string, FreshFileTraits>();

  constructor(
    private readonly keep: KeptMeta,
    private readonly warn: (message: string) => void,
    /** Owners were asked for but this process may not chown (owner and group then are not in `keep`). */
    readonly chownRefused = false,
  ) {}

  /**
   * Without the right to chown, a copy belongs to this process's user: say so once, when the first entry
   * of another owner or group is copied (a user syncing their own files is not told on every run).
   */
  noteOwnerLeft(sourceAbs: Buffer): void {
    if (!this.chownRefused || this.told.has(CHOWN_REFUSED_WARNING)) return;
    let st: { uid: number; gid: number };
    try {
      st = lstatSync(sourceAbs);
    } catch {
      return; // gone: the copy itself reports that
    }
    // the copy gets this process's user and group
    if (st.uid !== process.geteuid?.() || st.gid !== process.getegid?.()) this.once(CHOWN_REFUSED_WARNING, CHOWN_REFUSED_WARNING);
  }

  get keepsXattrs(): boolean {
    return this.keep.xattrs;
  }

  /** The source's attributes, read through its directory's descriptor (fs/xattrs.ts); null: not copied. */
  sourceXattrs(sourceAbs: Buffer, label: string): SourceXattrs {
    if (!this.keep.xattrs) return null;
    try {
      return readXattrs(xattrPathOf(sourceAbs));
    } catch (e) {
      this.tellXattrFailure(e, label);
      return null;
    }
  }

  /**
   * chown (through the open descriptor), then the attributes: both before the mode and the mtime are set. `current`:
   * the owner and group the entry has now (its fstat, taken by the caller): where they are what is wanted, the chown
   * is left out (a metadata pass over an unchanged owner, such as a directory whose mtime moved, made one per entry),
   * except for a setuid or setgid file, as applyToTempFile does.
   */
  applyToFile(fd: number, abs: Buffer, from: Entry, xattrs: SourceXattrs, label: string, current?: CurrentOwner): OwnerMeta & XattrMeta {
    const owner = current !== undefined && this.ownedAlready(from, current) ? this.keptIds(from) : this.chown(from, (uid, gid) => fchownSync(fd, uid, gid));
    return { ...owner, ...this.setXattrs(abs, xattrs, label) };
  }

  /** Whether an entry owned by `current` has the owner and group this run keeps of `from` (never for a setuid or setgid file). */
  private ownedAlready(from: Entry, current: CurrentOwner): boolean {
    if (from.kind === 'file' && (from.mode & SET_ID_BITS) !== 0) return false;
    const uid = this.keep.owner ? from.uid : undefined;
    const gid = this.keep.group ? from.gid : undefined;
    return (uid === undefined || uid === current.uid) && (gid === undefined || gid === current.gid);
  }

  /** The owner and group this run keeps of `from`, as chown reports what it set. */
  private keptIds(from: Entry): OwnerMeta {
    const uid = this.keep.owner ? from.uid : undefined;
    const gid = this.keep.group ? from.gid : undefined;
    return { ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
  }

  /**
   * applyToFile for a temp file this run just created in the target directory `dirKey`, cheaper on the
   * common path: the first temp file of each directory is fstat'ed and its xattrs listed, and what it got
   * (owner, group, whether any kept xattrs came with it) stands for the later ones of that directory. So
   * the fchown is left out where the file already has the wanted owner and group (never for a setuid or
   * setgid file), and the xattrs are set without listing the temp file first (nothing to remove). The
   * caller must check the owner after the rename (the installed file's fstat) and chown it there if it
   * was guessed wrong (a directory made setgid meanwhile): copy-file.ts does. The xattr guess has no such
   * check: a default ACL given to a target directory while this run copies into it may stay on the later
   * copies there, unrecorded (the index records the source's attributes), until the file changes again.
   * A listxattr per file (two calls) would close that window; it is left open as an admin's own change.
   */
  applyToTempFile(fd: number, abs: Buffer, from: Entry, xattrs: SourceXattrs, label: string, dirKey: string): OwnerMeta & XattrMeta {
    let fresh = this.freshInDir.get(dirKey);
    if (fresh === undefined) {
      const st = fstatSync(fd);
      fresh = { uid: st.uid, gid: st.gid, xattrsClean: null };
      this.freshInDir.set(dirKey, fresh);
    }
    const owner = this.ownedAlready(from, fresh) ? this.keptIds(from) : this.chown(from, (u, g) => fchownSync(fd, u, g));
    return { ...owner, ...this.setXattrsOnFresh(abs, xattrs, label, fresh) };
  }

  /**
   * What applyToTempFile would do to a fresh file in `dirKey` for `from` with `xattrs`, for a caller that does it in
   * the addon (small-copy-batch.ts): whether to chown it (to the ids the fields name), and the fields it would return.
   * Null where applyToTempFile must do it itself: the directory's first file (which teaches what a fresh one gets
   * there), attributes to set, or a process that may not chown (its warning).
   */
  freshPlan(from: Entry, dirKey: string, xattrs: SourceXattrs): FreshPlan | null {
    const fresh = this.freshInDir.get(dirKey);
    if (fresh === undefined || this.chownRefused) return null;
    if (xattrs !== null && !(xattrs.size === 0 && fresh.xattrsClean === true)) return null;
    const ids = this.keptIds(from);
    return { chown: !this.ownedAlready(from, fresh), meta: xattrs === null ? ids : { ...ids, xattrs: '' } };
  }

  /** Whether applyToTempFile has learnt what a fresh file in `dirKey` gets (freshPlan needs it). */
  knowsFreshIn(dirKey: string): boolean {
    return this.freshInDir.has(dirKey);
  }

  private setXattrsOnFresh(abs: Buffer, want: SourceXattrs, label: string, fresh: FreshFileTraits): XattrMeta {
    if (want === null) return {};
    // the common case: a source without xattrs copied where fresh files get none (not even a path to convert)
    if (want.size === 0 && fresh.xattrsClean === true) return { xattrs: '' };
    try {
      const path = xattrPathOf(abs);
      if (fresh.xattrsClean === true) addXattrs(path, want);
      else {
        const have = listKeptXattrs(path);
        fresh.xattrsClean = have.length === 0;
        writeXattrs(path, want, have);
      }
      return { xattrs: digestOf(want) };
    } catch (e) {
      this.tellXattrFailure(e, label);
      return {};
    }
  }

  /** lchown on the (temp) link: user.* attributes are not allowed on symlinks, so only owner and group. */
  applyToSymlink(abs: Buffer, from: Entry): OwnerMeta {
    return this.chown(from, (uid, gid) => lchownSync(abs, uid, gid));
  }

  private chown(from: Entry, call: (uid: number, gid: number) => void): OwnerMeta {
    const uid = this.keep.owner ? from.uid : undefined;
    const gid = this.keep.group ? from.gid : undefined;
    if (uid === undefined && gid === undefined) return {};
    try {
      call(uid ?? -1, gid ?? -1);
    } catch (e) {
      const code = errCode(e);
      if (code !== 'EPERM' && code !== 'EINVAL') throw e;
      // EINVAL: an id this user namespace does not map
      this.once(`chown:${code}`, `owner and group were not kept: this process may not set them (${code}); --no-owner --no-group turn this off`);
      return {};
    }
    return this.keptIds(from);
  }

  private setXattrs(abs: Buffer, want: SourceXattrs, label: string): XattrMeta {
    if (want === null) return {};
    try {
      writeXattrs(xattrPathOf(abs), want);
      return { xattrs: digestOf(want) };
    } catch (e) {
      this.tellXattrFailure(e, label);
      return {};
    }
  }

  private tellXattrFailure(e: unknown, label: string): void {
    if (e instanceof XattrUnaddressableError) {
      this.once('xattr:name', `extended attributes of names that are not UTF-8 are not kept (first: ${label})`);
      return;
    }
    if (!(e instanceof XattrError)) throw e;
    if (e.code === 'ENOTSUP') this.once('xattr:ENOTSUP', `extended attributes were not kept: the file system does not support them (first: ${label})`);
    else if (e.code === 'EPERM' || e.code === 'EACCES')
      this.once(`xattr:${e.code}`, `some extended attributes were not kept: this process may not set them (first: ${label}: ${e.message}); --no-xattrs turns this off`);
    else if (e.code === 'ENOENT')
      return; // gone meanwhile: the stale checks around the copy report that
    else this.once(`xattr:${e.code}`, `extended attributes of ${label} were not kept: ${e.message}`);
  }

  private once(key: string, message: string): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    this.warn(message);
  }
}
