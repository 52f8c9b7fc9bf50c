import { isRacy } from '../core/stat-cache.js';
import type { RelPath, StatId } from '../core/types.js';

/** What the scan read of one entry: its kept attributes, and the inode and ctime they belong to. */
interface ScannedValues {
  readonly ino: bigint;
  readonly ctimeNs: bigint;
  /** When reading them began: a ctime this close to it could hide a change made while or after they were read. */
  readonly readFromNs: bigint;
  readonly values: ReadonlyMap<string, Buffer>;
  /** What these count against the budget. */
  readonly bytes: number;
}

/**
 * Bytes kept at most, counted as names and values plus ENTRY_OVERHEAD per entry: about 60k entries with
 * one short attribute each; beyond it the copy reads them again, as it did before this store existed,
 * so a huge first copy keeps its memory bounded (issue 11).
 */
export const SCANNED_XATTRS_BUDGET = 32 << 20;
/** Measured (heap and external memory, 10k entries with one 30-byte user.* value each): about 570 bytes an entry beyond the scan's own. */
const ENTRY_OVERHEAD = 512;

/**
 * The xattr values a local scan read (to digest them), kept for the copy that follows: an initial copy
 * otherwise lists and gets every source file's attributes a second time (four system calls a file in
 * @napi-rs/xattr). The values are handed out only for the inode and ctime the scan saw, and only when that
 * ctime was old enough when reading them began that any change since of an attribute must have moved it (a
 * coarse clock can give a change the very ctime of the stat before it: core/stat-cache.ts isRacy). The
 * copy then opens the source and refuses it unless its fstat is the scanned stat, ctime included
 * (engine/copy-file.ts), so values handed out are the ones the opened source has. Each is handed out once.
 */
export class ScannedXattrValues {
  private readonly byPath = new Map<RelPath, ScannedValues>();
  private bytes = 0;

  constructor(private readonly budget = SCANNED_XATTRS_BUDGET) {}

  /** Keeps the values, read from `readFromNs` on, of the entry scanned with `stat`; none (the usual case) are not kept. */
  remember(path: RelPath, stat: Pick<StatId, 'ino' | 'ctimeNs'>, values: ReadonlyMap<string, Buffer>, readFromNs: bigint): void {
    // a path is remembered again only when scanned again (a watch rescan): its old values go
    if (this.byPath.size !== 0) this.forget(path);
    if (values.size === 0) return;
    let bytes = ENTRY_OVERHEAD + path.length;
    for (const [name, value] of values) bytes += name.length + value.length;
    if (this.bytes + bytes > this.budget) return;
    this.bytes += bytes;
    this.byPath.set(path, { ino: stat.ino, ctimeNs: stat.ctimeNs, readFromNs, values, bytes });
  }

  /**
   * The values scanned at `path` if they still stand for an entry with `stat` (the stat the copy will hold
   * the opened source to) on a side whose racy window is `racyWindowNs`; undefined: read them again.
   */
  take(path: RelPath, stat: StatId, racyWindowNs: bigint): ReadonlyMap<string, Buffer> | undefined {
    const got = this.byPath.get(path);
    if (got === undefined) return undefined;
    this.byPath.delete(path);
    this.bytes -= got.bytes;
    if (got.ino !== stat.ino || got.ctimeNs !== stat.ctimeNs || isRacy(got.ctimeNs, got.readFromNs, racyWindowNs)) return undefined;
    return got.values;
  }

  /** How many entries' values are kept (for tests). */
  get size(): number {
    return this.byPath.size;
  }

  clear(): void {
    this.byPath.clear();
    this.bytes = 0;
  }

  /** Drops what was kept for `path` (scanned again, with nothing to keep). */
  forget(path: RelPath): void {
    if (this.byPath.size === 0) return;
    const got = this.byPath.get(path);
    if (got === undefined) return;
    this.byPath.delete(path);
    this.bytes -= got.bytes;
  }
}
