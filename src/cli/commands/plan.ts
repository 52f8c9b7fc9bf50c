import { writeFileSync } from 'node:fs';
import { serializePlan } from '../../sync/plan-file.js';
import { exitStatusOf, runSync } from '../../sync/run-loop.js';
import { resolveRoots } from '../../sync/roots.js';
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
    const summary = await runSync(settings);
    const roots = resolveRoots(left, right, { createRight: settings.mode === 'one-way', allowMissing: settings.mode === 'two-way' });
    writeFileSync(flags.output, serializePlan(summary.plan, { mode: settings.mode, policy: settings.policy, left: roots.left, right: roots.right }));
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
