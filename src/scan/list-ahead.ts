/*
 * A walk's next directories, listed ahead on the addon's own thread (native/list_ahead.c, issue 11). The walk's time
 * splits about evenly between the kernel (a getdents64 and an fstatat per name, in the native listing) and JavaScript
 * (the listing into the walk's table); one after the other on one core, while the machine has two. So when the walk
 * takes a directory off its stack, the few it will take next are opened (through their parent's descriptor, as the
 * walk opens them) and queued for the addon's thread, and the walk takes each listing when that directory's turn comes,
 * listing it on its own thread if the reader has not started on it yet (and, while it waits for the reader to finish
 * one, the next ones queued: native/list_ahead.c).
 *
 * A listing read ahead is the one the walk would have read a little earlier: its entries are stamped with a time
 * taken before it was queued, so no later than any of its lstats (the stat cache's racy check, core/stat-cache.ts),
 * and a directory changed after it was read is one changed after the walk passed, as before. A directory that cannot
 * be opened ahead is left to the walk, which meets the same failure at its turn and reports it as it always has.
 * The descriptor of a directory read ahead stays pinned until its listing is taken or dropped: the reader thread reads
 * through it, and must never meet it closed and reused for another file.
 */
import type { RelPath } from '../core/types.js';
import { anchoredPaths, type DirAnchors, type Place } from '../engine/dir-anchors.js';
import { type AheadJob, type ListReader, type NativeListing, nativeListReader } from '../fs/native-listing.js';
import { nowNs } from '../fs/stat.js';

/**
 * How many directories from the top of the stack are read ahead, and how many may wait at most. The walk is depth
 * first: a directory's subdirectories go on top, so the few on top are mostly siblings, taken one after the other.
 * Those queued higher up wait while the walk goes down (a handful per level), hence the larger cap. What the waiting
 * listings may hold in memory is bounded on the addon's side (64 MiB; native/list_ahead.c, held_max).
 */
const LOOK_AHEAD = 4;
const MAX_WAITING = 24;

/** A directory's listing read ahead, handed to the walk: its pinned place (the walk releases it), and the listing. */
export interface ListedAhead {
  readonly place: Place;
  /** Taken before the listing was queued: no later than any of its lstats. */
  readonly listedAtNs: bigint;
  /** The listing, or the error listing it met (a ListingError), thrown as the native lister throws it. */
  readonly listing: () => NativeListing;
}

interface Waiting {
  readonly place: Place;
  readonly job: AheadJob;
  readonly listedAtNs: bigint;
}

export class ListAhead {
  private readonly waiting = new Map<RelPath | null, Waiting>();
  /** Directories that could not be opened ahead: left to the walk, not tried again. */
  private readonly leftToWalk = new Set<RelPath | null>();
  private stopped = false;
  /** Listings taken from the reader so far. */
  listingsTaken = 0;

  constructor(
    private readonly reader: ListReader,
    private readonly anchors: DirAnchors,
    /** Each listing sizes its names' lists of xattr names too (native-listing.ts NativeLister). */
    private readonly probeXattrs: boolean,
  ) {}

  /** Queues the directories on top of `stack` (the walk's: it pops from the end) that are not queued yet. */
  fill(stack: readonly (RelPath | null)[]): void {
    if (this.stopped) return;
    const last = Math.max(0, stack.length - LOOK_AHEAD);
    for (let i = stack.length - 1; i >= last && this.waiting.size < MAX_WAITING; i--) {
      const dir = stack[i] ?? null;
      if (this.waiting.has(dir) || this.leftToWalk.has(dir)) continue;
      let place: Place;
      try {
        place = this.anchors.dir(dir);
      } catch {
        this.leftToWalk.add(dir);
        continue;
      }
      const fd = place.dirFd;
      const listedAtNs = nowNs();
      const job = fd === undefined ? null : this.reader.ahead(fd, this.probeXattrs);
      if (job === null) {
        place.release();
        // no descriptor (no /proc) or no reader thread: nothing will be read ahead in this walk
        this.stopped = true;
        return;
      }
      this.waiting.set(dir, { place, job, listedAtNs });
    }
  }

  /** `dir`'s listing if it was queued (then it is the caller's, and so is releasing its place), else undefined. */
  take(dir: RelPath | null): ListedAhead | undefined {
    const waiting = this.waiting.get(dir);
    if (waiting === undefined) return undefined;
    this.waiting.delete(dir);
    this.listingsTaken++;
    let listed: NativeListing | null = null;
    let failure: unknown = null;
    try {
      listed = this.reader.taken(waiting.job);
    } catch (e) {
      failure = e;
    }
    return {
      place: waiting.place,
      listedAtNs: waiting.listedAtNs,
      listing: () => {
        if (listed === null) throw failure;
        return listed;
      },
    };
  }

  /** Drops every listing still queued and unpins its directory: before the walk's descriptors are closed. */
  end(): void {
    for (const waiting of this.waiting.values()) {
      this.reader.dropped(waiting.job);
      waiting.place.release();
    }
    this.waiting.clear();
  }
}

/**
 * Whether this thread's walks may read ahead. The scan worker's thread turns it off (scan-worker.ts): the addon has one
 * reader for the process, and its walk runs only where the main thread walks at the same time (TSYNC_SCAN_WORKER=always,
 * or no reader at all). A CI run once hung (60 s) in the one test where both threads' walks used the reader at once
 * (test/e2e/scan-worker-xattrs.test.ts), cause not found: one thread's walks per process read ahead, as measured.
 */
let allowedHere = true;

/** Called by a thread whose walks must not read ahead (scan-worker.ts). */
export function noListAheadInThisThread(): void {
  allowedHere = false;
}

/** Reading ahead for a walk through `anchors` (`probeXattrs`: see ListAhead), or null where the addon's reader is not in use. */
export function listAheadFor(anchors: DirAnchors, probeXattrs = false): ListAhead | null {
  const reader = allowedHere ? nativeListReader() : null;
  return reader === null ? null : new ListAhead(reader, anchors, probeXattrs);
}

/** Whether walks here read listings ahead: the addon's reader, and descriptors for it to read through (/proc, dir-anchors.ts). */
export function listsAhead(): boolean {
  return anchoredPaths && nativeListReader() !== null;
}
