import { baseName, parentOf } from '../core/paths.js';
import type { Entry, RelPath, ScannedEntry, Side, StatId } from '../core/types.js';
import { BATCH_OUT, BATCH_WANT, BatchStage, COPY_OUT, type CopySmallBatch, NativeCallError, nativeCopySmallBatch, statIdFromWords } from '../fs/native-listing.js';
import { tempName } from '../fs/temp-name.js';
import { hexOf } from '../hash/xxhash.js';
import { type FreshPlan, NO_XATTRS, type SourceXattrs } from './apply-meta.js';
import { SMALL_FILE_MAX, sameStat, smallCopyScratch } from './copy-file.js';
import { type LocalCopied, type LocalRunSide, mayBeLinkedTo } from './local-copy.js';
import { getSystemErrorName } from 'node:util';

/*
 * New small files of one directory copied and installed in one call of the addon (native/copy_small.c
 * copySmallBatch, issue 11), by the copy worker and by the main thread alike (engine/execute.ts). Copied one by one, each new small file cost about 45 µs of JavaScript around its calls (placing both
 * ends, the temp name, the owner and xattr decisions, Node's fchmod and its BigInt fstat with four Dates, the
 * rename's checks, the result's objects): as much as the calls themselves on tmpfs. Here JavaScript decides per
 * file what the usual way decides (applyToTempFile's owner and xattrs, MetaWriter.freshPlan), the addon makes the
 * same calls in the same order, and JavaScript builds the result from the words it wrote.
 *
 * Only what the usual way would install with nothing more to decide goes here: a file to a path where nothing
 * stood (the worker's whole share, copy-in-worker.ts worksInCopyWorker), whose owner and attributes need no more
 * than a chown (the first file of each directory goes the usual way and teaches what a fresh file gets there).
 * Any file the addon stops before its rename left nothing behind and is copied again the usual way, which meets
 * the same condition (a source changed since the scan, a name taken, a chown refused) and reports it as it always
 * has: the errors and warnings a run gives are the usual way's.
 */

/** Files per call: bounds the arrays, and a call's time (about 2-4 ms of copies on this machine). */
export const SMALL_BATCH_MAX = 64;

/**
 * The run of copies that starts at `list[start]` (which `pick` takes): it and the items after it, before `end`, that
 * `pick` takes and that go the same way (`sideOf`) into the same directory, at most SMALL_BATCH_MAX; items `pick`
 * leaves are passed over. A plan lists a directory's copies together, so a run is a directory's (or its next
 * SMALL_BATCH_MAX). Returns the run and the index after it. Used wherever runs are formed: the copy worker's chunks,
 * the main thread's share of them, and the main thread's copies when no worker runs.
 */
export function sameDirectoryRun<T extends { readonly path: RelPath }, U extends T>(
  list: readonly T[],
  start: number,
  end: number,
  pick: (x: T) => x is U,
  sideOf: (x: U) => Side,
): { readonly run: U[]; readonly next: number } {
  const first = list[start] as U;
  const dir = parentOf(first.path);
  const side = sideOf(first);
  const run: U[] = [first];
  let next = start + 1;
  while (next < end && run.length < SMALL_BATCH_MAX) {
    const x = list[next] as T;
    if (pick(x)) {
      if (sideOf(x) !== side || parentOf(x.path) !== dir) break;
      run.push(x);
    }
    next++;
  }
  return { run, next };
}

/** A batch's copy of one file: its result, or null where it must be copied the usual way (copyLocally). */
export type BatchCopied = { readonly ok: LocalCopied } | { readonly error: Error } | null;

/** What one file of a batch is installed with. */
interface Planned {
  readonly at: number;
  readonly plan: FreshPlan;
}

const NO_META: FreshPlan = { chown: false, meta: {} };

/** SmallCopyBatcher.create's batcher for this thread (each worker thread has its own copy of this module). */
let thisThreads: SmallCopyBatcher | undefined;

/** Copies batches of one directory's new small files through the addon; one per thread (its arrays are reused). */
export class SmallCopyBatcher {
  private readonly want = new BigInt64Array(SMALL_BATCH_MAX * BATCH_WANT.length);
  private readonly out = new BigInt64Array(SMALL_BATCH_MAX * BATCH_OUT.length);

  private constructor(private readonly native: CopySmallBatch) {}

  /**
   * This thread's batcher, or null where the addon is not in use (TSYNC_NATIVE=0, read at each call; not built): every
   * copy goes the usual way. One per thread, made on first use: a watch cycle asks for it every time.
   */
  static create(): SmallCopyBatcher | null {
    const native = nativeCopySmallBatch();
    if (native === null) return null;
    thisThreads ??= new SmallCopyBatcher(native);
    return thisThreads;
  }

  /**
   * Whether `dst` can take a batch into the directory of `path` now. Where it keeps owners or attributes, the
   * directory's first copy must have gone the usual way (MetaWriter.knowsFreshIn).
   */
  ready(dst: LocalRunSide, path: RelPath): boolean {
    return dst.meta === null || dst.meta.knowsFreshIn(parentOf(path) ?? '');
  }

  /**
   * Copies the files `paths` (scanned as `sources`), all in one directory and at most SMALL_BATCH_MAX of them, from
   * `src` to the same paths on `dst`, where nothing stood at the scan. One answer per file, in order.
   */
  copy(src: LocalRunSide, dst: LocalRunSide, paths: readonly RelPath[], sources: readonly ScannedEntry[]): BatchCopied[] {
    const answers: BatchCopied[] = paths.map(() => null);
    const first = paths[0];
    if (first === undefined) return answers;
    if (paths.length > SMALL_BATCH_MAX) throw new Error(`a batch of ${paths.length} copies (at most ${SMALL_BATCH_MAX})`);
    const dirKey = parentOf(first) ?? '';
    // placing the target pins its directory, as every install's check before its rename does (copyLocally)
    const from = src.anchors.place(first);
    try {
      const to = dst.anchors.place(first);
      try {
        if (from.dirFd === undefined || to.dirFd === undefined) return answers; // no /proc: by path, the usual way
        const names: string[] = [];
        const planned: Planned[] = [];
        paths.forEach((path, at) => {
          const scanned = sources[at] as ScannedEntry;
          // a file another link may later name goes the usual way, which remembers it (local-copy.ts mayBeLinkedTo)
          const plan = mayBeLinkedTo(scanned) ? null : planOf(src, dst, scanned.entry, dirKey);
          if (plan === null || (parentOf(path) ?? '') !== dirKey) return;
          this.fillWant(names.length, scanned.stat, plan);
          names.push(baseName(path));
          planned.push({ at, plan });
        });
        if (names.length === 0) return answers;
        this.native(from.dirFd, to.dirFd, names, `${tempName('b')}-`, smallCopyScratch(), this.want, this.out, Number(src.racyWindowNs));
        planned.forEach(({ at, plan }, i) => {
          answers[at] = this.answerOf(i, sources[at] as ScannedEntry, plan);
        });
        return answers;
      } finally {
        to.release();
      }
    } finally {
      from.release();
    }
  }

  private fillWant(i: number, stat: StatId, plan: FreshPlan): void {
    const w = this.want;
    const at = i * BATCH_WANT.length;
    w[at + BATCH_WANT.ino] = BigInt.asIntN(64, stat.ino);
    w[at + BATCH_WANT.size] = BigInt(stat.size);
    w[at + BATCH_WANT.mtime] = stat.mtimeNs;
    w[at + BATCH_WANT.ctime] = stat.ctimeNs;
    w[at + BATCH_WANT.anyCtime] = (stat.nlink ?? 1) > 1 ? 1n : 0n;
    w[at + BATCH_WANT.chown] = plan.chown ? 1n : 0n;
    w[at + BATCH_WANT.uid] = BigInt(plan.meta.uid ?? -1);
    w[at + BATCH_WANT.gid] = BigInt(plan.meta.gid ?? -1);
  }

  /** File i's answer from the words the addon wrote (copy-file.ts finish builds the same result). */
  private answerOf(i: number, scanned: ScannedEntry, plan: FreshPlan): BatchCopied {
    const o = this.out;
    const at = i * BATCH_OUT.length;
    const word = (k: number): bigint => o[at + k] ?? 0n;
    const stage = Number(word(COPY_OUT.stage));
    const result = Number(word(BATCH_OUT.result));
    if (stage === BatchStage.installedUnchecked) return { error: new NativeCallError(getSystemErrorName(result), 'fstat') };
    if (result !== 0) return null;
    const sourceStat = statIdFromWords(o, at, COPY_OUT);
    const targetStat = statIdFromWords(o, at, BATCH_OUT);
    const bytes = Number(word(COPY_OUT.bytes));
    const entry: Entry = {
      kind: 'file',
      size: bytes,
      mtimeNs: sourceStat.mtimeNs,
      mode: Number(word(COPY_OUT.mode)) & 0o7777,
      hash: hexOf(BigInt.asUintN(64, word(COPY_OUT.hash))),
      ...plan.meta,
    };
    // each stamped with when its fstat was taken (before it, to the millisecond): no later than the usual way's
    return {
      ok: {
        source: { entry, stat: sameStat(sourceStat, scanned.stat) ? scanned.stat : sourceStat, observedAtNs: word(COPY_OUT.observed) },
        target: { entry, stat: targetStat, observedAtNs: word(BATCH_OUT.observed) },
        bytes,
      },
    };
  }
}

/**
 * How `e` is installed on `dst` when it goes in a batch (what copyLocally and applyToTempFile would decide), or
 * null where it goes the usual way: not a small file, attributes to copy, or what a fresh file gets there unknown.
 */
function planOf(src: LocalRunSide, dst: LocalRunSide, e: Entry, dirKey: string): FreshPlan | null {
  if (e.kind !== 'file' || e.size > SMALL_FILE_MAX) return null;
  const meta = dst.meta;
  const srcMeta = src.meta;
  if (meta === null || srcMeta === null) return meta === null && srcMeta === null ? NO_META : null;
  if (srcMeta.chownRefused) return null; // noteOwnerLeft's look at the source
  // none at scan time means none now: adding one changes the ctime, which the copy checks (as copyLocally)
  let xattrs: SourceXattrs = null;
  if (srcMeta.keepsXattrs) {
    if (e.xattrs !== '') return null;
    xattrs = NO_XATTRS;
  }
  return meta.freshPlan(e, dirKey, xattrs);
}

/**
 * Copies `items` (copies that go the same way into one directory, at most SMALL_BATCH_MAX; each a new small file) from
 * `src` to `dst`: in one batch where it can, each other the usual way (`usual`). A directory's first copy goes the
 * usual way first where the run keeps owners or attributes: it learns what a fresh file gets there, which the batch
 * then goes by. `took` is given each batched copy's result.
 */
export async function copyRun<T>(
  batcher: SmallCopyBatcher,
  sides: { readonly src: LocalRunSide; readonly dst: LocalRunSide },
  items: readonly T[],
  copyOf: (item: T) => { readonly path: RelPath; readonly source: ScannedEntry },
  usual: (item: T) => Promise<void>,
  took: (item: T, result: { readonly ok: LocalCopied } | { readonly error: Error }) => void,
): Promise<void> {
  const first = items[0];
  if (first === undefined) return;
  let rest = items;
  if (!batcher.ready(sides.dst, copyOf(first).path)) {
    await usual(first);
    rest = items.slice(1);
    if (rest.length === 0 || !batcher.ready(sides.dst, copyOf(first).path)) {
      for (const item of rest) await usual(item);
      return;
    }
  }
  const copies = rest.map(copyOf);
  const answers = batcher.copy(
    sides.src,
    sides.dst,
    copies.map((c) => c.path),
    copies.map((c) => c.source),
  );
  for (const [i, item] of rest.entries()) {
    const answer = answers[i];
    if (answer === null || answer === undefined) await usual(item);
    else took(item, answer);
  }
}
