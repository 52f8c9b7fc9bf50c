import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parseConcurrency, parseConflictPolicy, parseDeleteLimit, CONFLICT_POLICIES } from '../config/options.js';
import { TsyncError, UsageError } from '../errors.js';
import { resolveStateDir } from '../store/state-location.js';
import { runOneWay } from '../sync/one-way.js';
import { EXIT, EXIT_CODE_HELP, exitCodeOf, type ExitCode } from './exit-codes.js';
import { formatPlan, formatProblems, formatSummary } from './report.js';

interface SyncFlags {
  oneWay?: boolean;
  conflict: string;
  stateDir?: string;
  checksum?: boolean;
  dryRun?: boolean;
  force?: boolean;
  maxDelete?: string;
  concurrency?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

const SYNC_EXAMPLES = `
Examples:
  tsync sync --one-way ~/projects /mnt/backup/projects   make the backup an exact mirror
  tsync sync --one-way --dry-run src/ dst/                show what would change, change nothing
  tsync sync --one-way --checksum src/ dst/               re-hash every file instead of trusting the stat cache
  tsync sync --one-way --max-delete 10% src/ dst/         allow deleting at most 10% of dst's files

${EXIT_CODE_HELP}`;

/** Runs the CLI and returns the exit code. The only place that knows about argv and exit codes. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = new Command('tsync')
    .description('Keep directories in sync: exact one-way mirrors (and, soon, safe two-way sync).')
    .version(packageVersion(), '-V, --version')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  program
    .command('sync')
    .description('sync two directory trees once; with --one-way, DST becomes an exact mirror of SRC')
    .argument('<src>', 'the source tree (left)')
    .argument('<dst>', 'the destination tree (right); created if missing')
    .option('--one-way', 'make DST an exact mirror of SRC (new, changed and extra files in DST are replaced or removed)')
    .addOption(new Option('--conflict <policy>', 'two-way conflict policy').choices([...CONFLICT_POLICIES]).default('keep-both'))
    .option('--state-dir <dir>', 'where the state index lives (default: $TSYNC_STATE_DIR, $XDG_STATE_HOME/tsync, ~/.local/state/tsync)')
    .option('--checksum', 're-hash every file instead of trusting the stat cache')
    .option('-n, --dry-run', 'print the plan (+ new, ~ changed, - deleted) and change nothing')
    .option('--force', 'override the safety guards (empty source, mass deletion)')
    .option('--max-delete <limit>', 'largest deletion allowed without --force: N files or P% of the destination (default 50%)')
    .option('--concurrency <n>', 'parallel file operations (default 8)')
    .option('-v, --verbose', 'print every action as it is applied')
    .option('-q, --quiet', 'print only errors')
    .addHelpText('after', SYNC_EXAMPLES)
    .action(async (src: string, dst: string, flags: SyncFlags) => {
      code = await syncCommand(src, dst, flags, io);
    });

  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage; // commander has already printed its one-line message
    }
    return reportError(e, io);
  }
  return code;
}

async function syncCommand(src: string, dst: string, flags: SyncFlags, io: Io): Promise<ExitCode> {
  try {
    parseConflictPolicy(flags.conflict);
    if (flags.oneWay !== true) {
      throw new UsageError('two-way sync is not available in this version yet; use --one-way to mirror SRC into DST');
    }
    const summary = await runOneWay({
      source: src,
      destination: dst,
      stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }),
      checksum: flags.checksum === true,
      dryRun: flags.dryRun === true,
      force: flags.force === true,
      deleteLimit: parseDeleteLimit(flags.maxDelete),
      concurrency: parseConcurrency(flags.concurrency),
    });
    for (const w of summary.warnings) io.err(`tsync: warning: ${w}`);
    if (summary.dryRun) {
      for (const line of formatPlan(summary.plan)) io.out(line);
    } else if (flags.verbose === true && flags.quiet !== true) {
      for (const line of formatPlan({ ...summary.plan, actions: summary.outcomes.filter((o) => o.status === 'applied').map((o) => o.action) })) io.out(line);
    }
    for (const line of formatProblems(summary.problems)) io.err(line);
    if (flags.quiet !== true) io.out(formatSummary(summary));
    return summary.problems.length > 0 ? EXIT.partial : EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: Io): ExitCode {
  if (e instanceof TsyncError) {
    io.err(`tsync: ${e.code === 'SAFETY_HALT' ? 'halted' : 'error'}: ${e.message}`);
    return exitCodeOf(e);
  }
  // An unexpected failure is a bug; say so on one line, with the stack only when asked for.
  const msg = e instanceof Error ? e.message : String(e);
  io.err(`tsync: internal error: ${msg}`);
  if (process.env.TSYNC_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
  return EXIT.partial;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
