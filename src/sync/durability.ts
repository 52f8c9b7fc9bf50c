import { writtenSides, type WrittenPaths } from '../core/written-paths.js';
import type { Side } from '../core/types.js';
import type { Endpoint } from '../endpoint/endpoint.js';
import { timing } from '../runtime/timings.js';

/**
 * Makes what a run (or a watch batch) wrote durable before the index records it: the index must never
 * vouch for data a power cut could still take back, or the next run would take a truncated file for an
 * edit and propagate it over the good copy.
 *
 * A side that wrote few paths gets one fsync per path (engine/targeted-flush.ts); a side that wrote many
 * gets one syncfs of its file system (fs/flush.ts), which is cheaper than thousands of fsyncs but
 * flushes everything else on that file system too (core/written-paths.ts has the threshold and why).
 *
 * Why fsync(file) + fsync(parent directory) promises what syncfs did, for what the index vouches for:
 * a record says "at this path, this side holds this inode with these bytes, this mode and this mtime".
 * That can be taken back in two ways. (1) The inode's data or metadata is still in the page cache: an
 * fsync of the installed file writes its data and its inode (size, mode, mtime; fsync(2) covers
 * metadata, unlike fdatasync) and returns once they are on stable storage. It acts on the inode, so
 * it holds whichever name reaches it; the temp file's bytes were written before the rename. (2) The
 * name change (the rename over the old file, an unlink, a mkdir, a move into the trash) is only in
 * memory: a directory's entries are the directory's data, and fsync(2) says that making a new name
 * durable needs an fsync of the directory holding it. So every directory whose names changed is
 * fsynced (for a new directory, its parent, up to the first one that already existed; for a trash
 * move, both ends; for a root this run created, every directory above it). syncfs flushes exactly these inodes and directories plus everything else dirty on
 * the file system; nothing the index vouches for lies in "everything else", because the index only
 * records what this run wrote or found unchanged (and an unchanged path was vouched for by an earlier,
 * already flushed, run). The set is worked out from the outcomes as a superset (written-paths.ts).
 * Not covered, as before: files on a side this run did not write (the source of a copy), and a symlink
 * installed (it cannot be opened to fsync; its target lives in its inode, created in the same
 * operation as its name, which the parent's fsync makes durable on the journaling file systems Linux
 * uses, as it makes the rename durable).
 * If any fsync fails for a reason other than the path being gone, the side falls back to syncfs, as
 * the flush always did on its own failure.
 */
export async function makeDurable(endpoints: Readonly<Record<Side, Endpoint>>, written: WrittenPaths, rootsMade: Readonly<Record<Side, boolean>>): Promise<void> {
  // each side's endpoint does it (engine/targeted-flush.ts on a local one) and says which flush it took
  for (const side of writtenSides(written)) for (const line of await endpoints[side].flush(written[side], rootsMade[side])) timing(`flush ${side}: ${line}`);
}
