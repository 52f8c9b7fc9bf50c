import { parseConcurrency, parseTrashKeep, parseWait } from '../../config/options.js';
import { resolveStateDir } from '../../store/state-location.js';
import { keptMetaOf } from '../../sync/kept-meta.js';
import { applyPlanFile, exitStatusOf } from '../../sync/run-loop.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { formatConflicts, formatSummary } from '../report.js';
import { printJson, reportFailure } from './sync.js';

export interface ApplyFlags {
  stateDir?: string;
  concurrency?: string;
  trash: boolean;
  fsync: boolean;
  flushNow?: boolean;
  wait?: string | boolean;
  /** --ssh, for a plan with a remote root. */
  ssh?: string;
  json?: boolean;
  quiet?: boolean;
}

/** `tsync apply FILE`: carries out a plan; each action whose preconditions broke is refused and told. */
export async function applyCommand(file: string, flags: ApplyFlags, io: Io): Promise<ExitCode> {
  const startedMs = Date.now();
  try {
    const summary = await applyPlanFile(file, {
      stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }),
      concurrency: parseConcurrency(flags.concurrency),
      flush: flags.fsync,
      ...(flags.flushNow === true ? { flushNow: true } : {}),
      trash: { enabled: flags.trash, keepMs: parseTrashKeep(undefined) },
      waitSeconds: parseWait(flags.wait),
      ...(flags.ssh === undefined ? {} : { sshCommand: flags.ssh }),
      // what the plan's entries carry (owner, group, xattrs where the planning run kept them) is applied
      ...keptMetaOf({ owner: true, group: true, xattrs: true }),
    });
    if (flags.json === true) {
      const code = printJson('apply', summary, Date.now() - startedMs, io);
      for (const p of summary.problems) io.err(`tsync: refused: ${p.message}`);
      return code;
    }
    for (const w of summary.warnings) io.err(`tsync: warning: ${w}`);
    for (const p of summary.problems) io.err(`tsync: refused: ${p.message}`);
    for (const line of formatConflicts(summary.plan.conflicts)) (flags.quiet === true ? () => undefined : io.out)(line);
    if (flags.quiet !== true) io.out(formatSummary(summary));
    return exitStatusOf(summary);
  } catch (e) {
    return reportFailure(e, flags.json === true, io);
  }
}
