import { linkDifferences } from '../../core/link-structure.js';
import { displayPath, compareRel } from '../../core/paths.js';
import type { RunRecord } from '../../store/store.js';
import type { Entry, RelPath, ScannedEntry } from '../../core/types.js';
import { fillHashes } from '../../sync/cycle.js';
import { openPair } from '../../sync/pair.js';
import { runSync } from '../../sync/run-loop.js';
import { filterOf, scanBothSides } from '../../sync/scan-pair.js';
import type { SyncSettings } from '../../sync/settings.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { reportError } from '../report-error.js';

/** `tsync status A B`: the last run, what a sync would do now (per direction), open conflicts. Exit 0. */
export async function statusCommand(settings: SyncSettings, json: boolean, io: Io): Promise<ExitCode> {
  try {
    const index: { last: RunRecord | null; open: number } = { last: null, open: 0 };
    // a dry run writes nothing to the index, so what it holds before the run is what it holds after
    const summary = await runSync({ ...settings, dryRun: true }, {}, (pair) => {
      index.last = pair.store.listRuns(1)[0] ?? null;
      index.open = pair.store.listConflicts().filter((c) => c.resolution === 'skipped').length;
    });
    const { last, open } = index;
    const toLeft = summary.plan.actions.filter((a) => a.target === 'left').length;
    const toRight = summary.plan.actions.filter((a) => a.target === 'right').length;
    if (json) {
      io.out(JSON.stringify({ lastSync: last, pending: { towardsFirst: toLeft, towardsSecond: toRight }, openConflicts: open, problems: summary.problems.length }));
      return EXIT.ok;
    }
    io.out(last === null ? 'last sync: never' : `last sync: ${new Date(last.endedAtMs).toISOString()} (${last.mode}, exit ${last.exitCode}, ${last.copied} copied, ${last.deleted} deleted)`);
    io.out(`pending: ${toRight} change${toRight === 1 ? '' : 's'} towards ${settings.right}${settings.mode === 'two-way' ? `, ${toLeft} towards ${settings.left}` : ''}`);
    io.out(`open conflicts: ${open}`);
    if (summary.problems.length > 0) io.out(`unreadable or special paths: ${summary.problems.length}`);
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}

/**
 * `tsync check A B`: do both trees hold the same content and metadata? Kinds, file bytes (hashing
 * whatever the stat cache cannot vouch for; a hole reads as zeros, so holes are content like any other),
 * link targets, modes, and owner, group and xattrs where the run keeps them (not owners without the right
 * to chown, nor what --no-owner etc. turn off); with --one-way also hard links (which paths share an
 * inode in each tree). Exit 0 when identical; otherwise one line per difference
 * and exit 1. Meant for CI verification steps.
 */
export async function checkCommand(settings: SyncSettings, json: boolean, io: Io): Promise<ExitCode> {
  try {
    const pair = await openPair({ ...settings, dryRun: true });
    const diffs: { path: RelPath; what: string }[] = [];
    try {
      const filter = filterOf(pair, settings);
      const { left, right } = await scanBothSides(pair, settings, filter);
      await fillHashes(pair, left, right, new Map(), 'all', settings.concurrency);
      const paths = [...new Set([...left.entries.keys(), ...right.entries.keys()])].sort(compareRel);
      for (const path of paths) {
        const what = difference(left.entries.get(path), right.entries.get(path));
        if (what !== null) diffs.push({ path, what });
      }
      // A one-way replica keeps the source's hard links; two-way syncs each path as a file of its own.
      if (settings.mode === 'one-way')
        for (const d of linkDifferences(left, right))
          diffs.push({ path: d.path, what: `hard links differ (${partnersText(d.left)} in the first root, ${partnersText(d.right)} in the second)` });
      diffs.sort((a, b) => compareRel(a.path, b.path));
      for (const p of [...left.problems, ...right.problems]) diffs.push({ path: p.path, what: `cannot compare: ${p.message}` });
    } finally {
      await pair.close();
    }
    for (const d of diffs) io.out(json ? JSON.stringify({ path: displayPath(d.path), difference: d.what }) : `${displayPath(d.path)}: ${d.what}`);
    if (!json) io.out(diffs.length === 0 ? 'identical' : `${diffs.length} difference${diffs.length === 1 ? '' : 's'}`);
    return diffs.length === 0 ? EXIT.ok : EXIT.partial;
  } catch (e) {
    return reportError(e, io);
  }
}

function partnersText(paths: readonly RelPath[]): string {
  return paths.length === 0 ? 'no other name' : `also named ${paths.map(displayPath).join(', ')}`;
}

function difference(l: ScannedEntry | undefined, r: ScannedEntry | undefined): string | null {
  if (l === undefined) return r === undefined ? null : 'only in the second root';
  if (r === undefined) return 'only in the first root';
  const a = l.entry;
  const b = r.entry;
  if (a.kind !== b.kind) return `a ${a.kind} in the first root, a ${b.kind} in the second`;
  if (a.kind === 'file' && b.kind === 'file') {
    if (a.size !== b.size) return `sizes differ (${a.size} and ${b.size} bytes)`;
    if (a.hash === null || b.hash === null || a.hash !== b.hash) return 'contents differ';
  }
  if (a.kind === 'symlink' && b.kind === 'symlink' && a.target !== b.target) return 'link targets differ';
  return metaDifference(a, b);
}

/** Mode, owner, group and xattrs (each where the run keeps it; see core/compare.ts); mtimes are not compared. */
function metaDifference(a: Entry, b: Entry): string | null {
  const parts: string[] = [];
  if (a.kind !== 'symlink' && b.kind !== 'symlink' && a.mode !== b.mode) parts.push(`mode ${octal(a.mode)} and ${octal(b.mode)}`);
  if (a.uid !== undefined && b.uid !== undefined && a.uid !== b.uid) parts.push(`owner ${a.uid} and ${b.uid}`);
  if (a.gid !== undefined && b.gid !== undefined && a.gid !== b.gid) parts.push(`group ${a.gid} and ${b.gid}`);
  if (a.kind !== 'symlink' && b.kind !== 'symlink' && a.xattrs !== undefined && b.xattrs !== undefined && a.xattrs !== b.xattrs) parts.push('extended attributes or ACLs');
  return parts.length === 0 ? null : `metadata differs: ${parts.join(', ')}`;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** `tsync log A B`: one row per past run (sync, apply, or a watch cycle that changed something), newest first. */
export async function logCommand(settings: SyncSettings, opts: { json: boolean; limit: number }, io: Io): Promise<ExitCode> {
  try {
    const pair = await openPair({ ...settings, dryRun: true });
    try {
      const runs = pair.store.listRuns(opts.limit);
      for (const r of runs) {
        if (opts.json) io.out(JSON.stringify({ started: new Date(r.startedAtMs).toISOString(), ended: new Date(r.endedAtMs).toISOString(), ...r }));
        else
          io.out(
            `${new Date(r.startedAtMs).toISOString()}  ${((r.endedAtMs - r.startedAtMs) / 1000).toFixed(1)}s  ${r.command.padEnd(5)}  ${r.mode}  copied ${r.copied}  deleted ${r.deleted}  ${r.bytes} bytes  conflicts ${r.conflicts}  problems ${r.problems}  exit ${r.exitCode}`,
          );
      }
      if (!opts.json && runs.length === 0) io.out('no runs recorded');
    } finally {
      await pair.close();
    }
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}
