import PQueue from 'p-queue';
import { displayPath, parentOf } from '../core/paths.js';
import type { AbsPath, Action, Outcome, Problem, Side } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { HASH_CHUNK } from '../hash/xxhash.js';
import { copyFileAtomic, copySymlinkAtomic, SourceChangedError } from './copy-file.js';
import { assertRealAncestors, StaleTargetError, UnsafePathError } from './guards.js';
import { deleteEntry, makeDir, setMeta } from './operations.js';

export interface ExecuteOptions {
  readonly roots: { readonly left: AbsPath; readonly right: AbsPath };
  /** Parallel file operations. Measured on 2 cores: see bench/README.md. */
  readonly concurrency: number;
  readonly onOutcome?: (o: Outcome) => void;
}

export interface ExecuteResult {
  readonly outcomes: Outcome[];
  readonly bytes: number;
}

/**
 * Carries out a plan in its phases: deletes (files in parallel, then directories deepest first),
 * directories top-down, copies in parallel, then metadata (files in parallel, directories deepest
 * first). Each action is independent: a failure is an outcome, never an abort.
 */
export async function executePlan(actions: readonly Action[], opts: ExecuteOptions): Promise<ExecuteResult> {
  const outcomes: Outcome[] = [];
  let bytes = 0;
  const queue = new PQueue({ concurrency: opts.concurrency });
  const buffers: Buffer[] = [];
  const record = (o: Outcome): void => {
    outcomes.push(o);
    opts.onOutcome?.(o);
  };
  const run = async (a: Action): Promise<void> => {
    const buffer = buffers.pop() ?? Buffer.allocUnsafe(HASH_CHUNK);
    try {
      const o = await apply(a, opts, buffer);
      if (o.status === 'applied' && a.type === 'copy' && a.source.entry.kind === 'file') bytes += a.source.entry.size;
      record(o);
    } finally {
      buffers.push(buffer);
    }
  };
  const parallel = async (list: readonly Action[]): Promise<void> => {
    for (const a of list) void queue.add(() => run(a));
    await queue.onIdle();
  };
  const serial = async (list: readonly Action[]): Promise<void> => {
    for (const a of list) await run(a);
  };

  const isDirAction = (a: Action): boolean =>
    (a.type === 'delete' && a.expect?.kind === 'dir') || (a.type === 'meta' && a.source.entry.kind === 'dir');
  await parallel(actions.filter((a) => a.type === 'delete' && !isDirAction(a)));
  await serial(actions.filter((a) => a.type === 'delete' && isDirAction(a)));
  await serial(actions.filter((a) => a.type === 'mkdir'));
  await parallel(actions.filter((a) => a.type === 'copy'));
  await parallel(actions.filter((a) => a.type === 'meta' && !isDirAction(a)));
  await serial(actions.filter((a) => a.type === 'meta' && isDirAction(a)));
  return { outcomes, bytes };
}

async function apply(a: Action, opts: ExecuteOptions, buffer: Buffer): Promise<Outcome> {
  const targetRoot = a.target === 'right' ? opts.roots.right : opts.roots.left;
  const sourceRoot = a.target === 'right' ? opts.roots.left : opts.roots.right;
  const targetAbs = toBytes(under(targetRoot, a.path));
  const label = displayPath(a.path);
  const ancestorsSafe = (): Promise<void> => assertRealAncestors(targetRoot, a.path);
  try {
    switch (a.type) {
      case 'delete':
        await ancestorsSafe();
        await deleteEntry(targetAbs, a.expect, label);
        return { action: a, status: 'applied' };
      case 'mkdir': {
        await ancestorsSafe();
        const made = await makeDir(targetAbs, a.source, label);
        return { action: a, status: 'applied', written: { entry: a.source.entry, source: a.source, target: made } };
      }
      case 'meta': {
        await ancestorsSafe();
        const target = await setMeta(targetAbs, a.source, a.expect, label);
        return { action: a, status: 'applied', written: { entry: a.source.entry, source: a.source, target } };
      }
      case 'copy': {
        const parent = parentOf(a.path);
        const targetDirAbs = toBytes(parent === null ? targetRoot : under(targetRoot, parent));
        const e = a.source.entry;
        if (e.kind === 'symlink') {
          const target = await copySymlinkAtomic({
            targetDirAbs, targetAbs, linkTarget: Buffer.from(e.target, 'latin1'), mtimeNs: e.mtimeNs, expect: a.expect, label, beforeRename: ancestorsSafe,
          });
          return { action: a, status: 'applied', written: { entry: e, source: a.source, target } };
        }
        if (e.kind !== 'file') throw new Error(`cannot copy a ${e.kind}`);
        await ancestorsSafe();
        const r = await copyFileAtomic({
          sourceAbs: toBytes(under(sourceRoot, a.path)), targetDirAbs, targetAbs, source: a.source, expect: a.expect, buffer, label, beforeRename: ancestorsSafe,
        });
        return { action: a, status: 'applied', written: { entry: r.entry, source: r.source, target: r.target } };
      }
    }
  } catch (e) {
    return failure(a, e, a.target, label);
  }
}

function failure(a: Action, e: unknown, side: Side, label: string): Outcome {
  if (e instanceof StaleTargetError) {
    return { action: a, status: 'stale', problem: { path: a.path, side, code: 'stale', message: `${e.message}; left alone for the next run` } };
  }
  let problem: Problem;
  if (e instanceof SourceChangedError) problem = { path: a.path, side, code: 'changed-during-copy', message: `${e.message}; not recorded, the next run copies it again` };
  else if (e instanceof UnsafePathError) problem = { path: a.path, side, code: 'unsafe-path', message: `${label}: ${e.message}` };
  else {
    const code = errCode(e);
    const verb = a.type === 'copy' ? 'copy' : a.type === 'delete' ? 'delete' : a.type === 'mkdir' ? 'create directory' : 'set mode/mtime of';
    problem = { path: a.path, side, code: code === 'ENOENT' ? 'vanished' : 'io-error', message: `${label}: cannot ${verb} (${code}${e instanceof Error && code === 'EUNKNOWN' ? `: ${e.message}` : ''})` };
  }
  return { action: a, status: 'failed', problem };
}
