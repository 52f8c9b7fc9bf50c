import { displayPath } from '../../core/paths.js';
import type { ConflictVersion } from '../../core/types.js';
import type { StoredConflict } from '../../store/store.js';
import { withPairIndex } from '../../sync/open-index.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { reportError } from '../report-error.js';
import type { Io } from '../io.js';

/** `tsync conflicts A B`: what the index recorded, open conflicts (policy skip) first. Either root may be remote. */
export async function conflictsCommand(a: string, b: string, opts: { stateDir: string; json: boolean; sshCommand?: string }, io: Io): Promise<ExitCode> {
  try {
    const list: StoredConflict[] = await withPairIndex(a, b, opts, (store) => store.listConflicts());
    const open = list.filter((c) => c.resolution === 'skipped');
    const closed = list.filter((c) => c.resolution !== 'skipped');
    for (const c of [...open, ...closed]) io.out(opts.json ? JSON.stringify(toJson(c)) : toLine(c));
    if (!opts.json && list.length === 0) io.out('no conflicts recorded');
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}

function toLine(c: StoredConflict): string {
  const when = new Date(c.atMs).toISOString();
  const winner = `${c.winner === 'left' ? 'first' : 'second'} root's version keeps the name`;
  const what =
    c.resolution === 'skipped' ? 'OPEN (skipped)' : c.copyName === null ? `${winner}, the other went to the trash` : `kept both: ${winner}, the other is ${displayPath(c.copyName)}`;
  return `${when}  ${displayPath(c.path)}  ${what}  [policy ${c.policy}]`;
}

function toJson(c: StoredConflict): Record<string, unknown> {
  const v = (x: ConflictVersion): Record<string, unknown> => ({ kind: x.kind, size: x.size, mtimeNs: x.mtimeNs.toString(), hash: x.hash });
  return {
    at: new Date(c.atMs).toISOString(),
    path: displayPath(c.path),
    policy: c.policy,
    resolution: c.resolution,
    open: c.resolution === 'skipped',
    winner: c.winner,
    copyName: c.copyName === null ? null : displayPath(c.copyName),
    left: v(c.left),
    right: v(c.right),
  };
}
