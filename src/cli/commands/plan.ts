import { writeFileSync } from 'node:fs';
import type { Side } from '../../core/types.js';
import type { OpenPair } from '../../sync/pair.js';
import { type PlanRoot, serializePlan } from '../../sync/plan-file.js';
import { exitStatusOf, runSync } from '../../sync/run-loop.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { formatPlan, formatProblems, formatSummary } from '../report.js';
import { printJson, reportFailure } from './sync.js';
import type { SyncFlags } from '../sync-options.js';
import { settingsOf } from '../sync-settings.js';

/** `tsync plan A B -o FILE`: a dry run whose plan, with every action's preconditions, goes to FILE. */
export async function planCommand(left: string, right: string, flags: SyncFlags & { output: string }, io: Io): Promise<ExitCode> {
  const startedMs = Date.now();
  try {
    const settings = settingsOf(left, right, { ...flags, dryRun: true }, io);
    // the roots as the run resolved them: a remote one is known by its identity only once its agent answered
    const seen: { roots?: Record<Side, PlanRoot> } = {};
    const summary = await runSync(settings, {}, (pair) => {
      seen.roots = { left: planRoot(pair, 'left'), right: planRoot(pair, 'right') };
    });
    if (seen.roots === undefined) throw new Error('unreachable: the run opened its pair');
    writeFileSync(flags.output, serializePlan(summary.plan, { mode: settings.mode, policy: settings.policy, ...seen.roots }));
    if (flags.json === true) {
      const code = printJson('plan', summary, Date.now() - startedMs, io);
      for (const line of formatProblems(summary)) io.err(line);
      return code;
    }
    if (flags.quiet !== true) {
      for (const line of formatPlan(summary.plan, summary.mode)) io.out(line);
      io.out(`${formatSummary(summary)}; plan written to ${flags.output}`);
    }
    for (const line of formatProblems(summary)) io.err(line);
    return exitStatusOf(summary);
  } catch (e) {
    return reportFailure(e, flags.json === true, io);
  }
}

/** A local root by its real path; the remote one as given (apply reaches it the same way) and by its identity. */
function planRoot(pair: OpenPair, side: Side): PlanRoot {
  const id = pair.root(side);
  if (pair.remote !== side) return { kind: 'local', path: id };
  return { kind: 'remote', spec: side === 'left' ? pair.roots.leftText : pair.roots.rightText, identity: id };
}
