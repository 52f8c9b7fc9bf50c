import type { CycleObserver } from '../../sync/cycle.js';
import { eventLine, runEvents, type EventCommand, type RunEvent } from '../../sync/events.js';
import { exitStatusOf, runSync, type RunSummary } from '../../sync/run-loop.js';
import type { ExitCode } from '../exit-codes.js';
import { stderrIsTerminal, type Io } from '../io.js';
import { formatConflicts, formatPlan, formatProblems, formatSummary } from '../report.js';
import { reportError } from '../report-error.js';
import type { SyncFlags } from '../sync-options.js';
import { settingsOf } from '../sync-settings.js';
import { stopOnSignals } from '../stop-signals.js';
import { delayTierUp, ONE_SHOT_BUDGET } from '../../runtime/tier-up.js';
import { timing } from '../../runtime/timings.js';

/** `tsync sync A B`: one run; text for people, or NDJSON events with --json. */
export async function syncCommand(left: string, right: string, flags: SyncFlags, io: Io): Promise<ExitCode> {
  const startedMs = Date.now();
  // a one-shot run: V8's optimizing compiler only for what stays hot (runtime/tier-up.ts)
  if (delayTierUp()) timing(`tier-up: V8's interrupt budget ${ONE_SHOT_BUDGET} (8 times its default)`);
  const wantBar = stderrIsTerminal() && flags.json !== true && flags.quiet !== true && flags.dryRun !== true;
  // cli-progress is loaded only when a bar can be drawn: scripts, cron jobs and --json never pay for it
  const bar = wantBar ? (await import('../progress.js')).progressBar(process.stderr) : null;
  // Ctrl-C once the run writes: finish what is in flight, record it, exit 130 (stop-signals.ts)
  const stop = stopOnSignals(io);
  const observer: CycleObserver = {
    onPlan: (actions, bytes) => {
      stop.arm();
      bar?.onPlan?.(actions, bytes);
    },
    onOutcome: bar?.onOutcome,
    stopSignal: stop.signal,
  };
  try {
    const summary = await runSync(settingsOf(left, right, flags, io), observer).finally(() => {
      bar?.stop();
      stop.dispose();
    });
    if (flags.json === true) {
      const code = printJson('sync', summary, Date.now() - startedMs, io);
      for (const line of formatProblems(summary)) io.err(line); // also for a person watching the job
      return code;
    }
    for (const w of summary.warnings) io.err(`tsync: warning: ${w}`);
    if (summary.dryRun) {
      for (const line of formatPlan(summary.plan, summary.mode)) io.out(line);
    } else if (flags.verbose === true && flags.quiet !== true) {
      const applied = summary.outcomes.appliedActions();
      for (const line of formatPlan({ actions: applied }, summary.mode)) io.out(line);
    }
    for (const line of formatProblems(summary)) io.err(line);
    for (const line of formatConflicts(summary.plan.conflicts)) (summary.unresolvedConflicts > 0 ? io.err : flags.quiet === true ? () => undefined : io.out)(line);
    if (flags.quiet !== true) io.out(formatSummary(summary));
    return exitStatusOf(summary);
  } catch (e) {
    return reportFailure(e, flags.json === true, io);
  }
}

/** A run's events as NDJSON on stdout: its warnings, actions, conflicts and problems, then the summary. */
export function printJson(command: EventCommand, summary: RunSummary, durationMs: number, io: Io): ExitCode {
  const code = exitStatusOf(summary);
  const warnings: RunEvent[] = summary.warnings.map((message) => ({ type: 'warning', message }));
  for (const e of [...warnings, ...runEvents(command, summary, durationMs, code)]) io.out(eventLine(e));
  return code;
}

/** A run that could not go ahead: one line on stderr, and with --json an `error` event as the last line. */
export function reportFailure(e: unknown, json: boolean, io: Io): ExitCode {
  const code = reportError(e, io);
  if (json) io.out(eventLine({ type: 'error', message: e instanceof Error ? e.message : String(e), exitCode: code }));
  return code;
}
