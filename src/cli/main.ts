import { Command, CommanderError, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseConcurrency, parseConflictPolicy, parseDeleteLimit, parseRescanInterval, parseTrashKeep, parseWait, CONFLICT_POLICIES } from '../config/options.js';
import { UsageError } from '../errors.js';
import { resolveStateDir } from '../store/state-location.js';
import { exitStatusOf, runSync, type SyncSettings } from '../sync/session.js';
import { watchCommand } from './watch-command.js';
import { restoreCommand, trashCommand } from './trash-commands.js';
import { checkCommand, logCommand, statusCommand } from './inspect-commands.js';
import { conflictsCommand } from './conflicts-command.js';
import { EXIT, EXIT_CODE_HELP, type ExitCode } from './exit-codes.js';
import { formatConflicts, formatPlan, formatProblems, formatSummary } from './report.js';
import { configCandidates, loadProfile } from '../config/profiles.js';
import { applyPlanFile } from '../sync/apply.js';
import { serializePlan } from '../sync/plan-file.js';
import { resolveRoots } from '../sync/roots.js';
import { jsonEvents } from './json-report.js';
import { progressBar } from './progress.js';
import { reportError } from './report-error.js';

interface WatchFlags {
  rescanInterval?: string;
}

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
  fsync: boolean;
  wait?: string | boolean;
  exclude: string[];
  include: string[];
  trash: boolean;
  trashKeep?: string;
  json?: boolean;
  profile?: string;
  config?: string;
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
  tsync sync ~/notes /mnt/usb/notes                       two-way: changes on either side reach the other
  tsync sync --conflict newer laptop/ desktop/            two-way, the newer version of a conflicting file wins
  tsync sync --one-way ~/projects /mnt/backup/projects   make the backup an exact mirror
  tsync sync --one-way --dry-run src/ dst/                show what would change, change nothing
  tsync sync --one-way --checksum src/ dst/               re-hash every file instead of trusting the stat cache
  tsync sync --one-way --max-delete 10% src/ dst/         allow deleting at most 10% of dst's files

${EXIT_CODE_HELP}`;

const WATCH_EXAMPLES = `
Examples:
  tsync watch ./a ./b                          two-way, live; a status line on a terminal
  tsync watch --one-way src/ /mnt/mirror/      keep a mirror current as src changes
  tsync watch --json ./a ./b | jq .            NDJSON events for scripts

Stop with Ctrl-C or SIGTERM: the cycle in flight finishes and the state is saved (a second Ctrl-C exits at once).

${EXIT_CODE_HELP}`;

/** Runs the CLI and returns the exit code. The only place that knows about argv and exit codes. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = new Command('tsync')
    .description('Keep directories in sync: safe two-way sync and exact one-way mirrors.')
    .version(packageVersion(), '-V, --version')
    // commander's own errors (unknown option, missing argument) become one line like ours
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.startsWith('error:') ? `tsync: ${s.trim()} (see tsync --help)` : s.trimEnd()) })
    .exitOverride()
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  const sync = program
    .command('sync')
    .description('sync two directory trees once: two-way by default; with --one-way, DST becomes an exact mirror of SRC')
    .argument('[src]', 'the first tree (the source with --one-way); may come from --profile')
    .argument('[dst]', 'the second tree (the destination with --one-way, created if missing); may come from --profile')
    .addHelpText('after', SYNC_EXAMPLES);
  addSyncOptions(sync).action(async (src: string | undefined, dst: string | undefined, flags: SyncFlags, cmd: Command) => {
    code = await withProfile(src, dst, flags, cmd, io, (a, b, f) => syncCommand(a, b, f, io));
  });

  const watchCmd = program
    .command('watch')
    .description('sync once, then keep syncing as files change (Ctrl-C to stop; the state is saved)')
    .argument('[src]', 'the first tree (the source with --one-way); may come from --profile')
    .argument('[dst]', 'the second tree (the destination with --one-way); may come from --profile')
    .option('--rescan-interval <seconds>', 'full rescan as a backstop for missed events (default 600)')
    .addHelpText('after', WATCH_EXAMPLES);
  addSyncOptions(watchCmd).action(async (src: string | undefined, dst: string | undefined, flags: SyncFlags & WatchFlags, cmd: Command) => {
    code = await withProfile(src, dst, flags, cmd, io, (a, b, f) => runWatch(a, b, f, io));
  });

  program
    .command('conflicts')
    .description('list the conflicts recorded for a pair of roots (the open ones first)')
    .argument('<a>', 'the first root')
    .argument('<b>', 'the second root')
    .option('--state-dir <dir>', 'where the state index lives')
    .option('--json', 'one JSON object per line')
    .action((a: string, b: string, flags: { stateDir?: string; json?: boolean }) => {
      code = conflictsCommand(a, b, { stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }), json: flags.json === true }, io);
    });

  const inspect = (name: string, description: string): Command =>
    program
      .command(name)
      .description(description)
      .argument('<a>', 'the first root (the source with --one-way)')
      .argument('<b>', 'the second root')
      .option('--one-way', 'the pair is synced one way (A to B)')
      .option('--state-dir <dir>', 'where the state index lives')
      .option('--exclude <glob>', 'as for sync (repeatable)', collect, [])
      .option('--include <glob>', 'as for sync (repeatable)', collect, [])
      .option('--json', 'one JSON object per line');
  const inspectSettings = (a: string, b: string, flags: Partial<SyncFlags>): SyncSettings =>
    settingsOf(a, b, { conflict: 'keep-both', fsync: true, trash: true, exclude: [], include: [], ...flags }, io);
  inspect('status', 'last sync, pending changes per direction, open conflicts (exit 0)').action(async (a: string, b: string, flags: Partial<SyncFlags>) => {
    code = await withSettings(() => inspectSettings(a, b, flags), (st) => statusCommand(st, flags.json === true, io));
  });
  inspect('check', 'compare both trees by content: exit 0 when identical, else list the differences and exit 1')
    .option('--checksum', 're-hash every file instead of trusting the stat cache')
    .action(async (a: string, b: string, flags: Partial<SyncFlags>) => {
      code = await withSettings(() => inspectSettings(a, b, flags), (st) => checkCommand(st, flags.json === true, io));
    });
  inspect('log', 'one row per past run (newest first)')
    .option('--limit <n>', 'at most N rows (default 50)')
    .action(async (a: string, b: string, flags: Partial<SyncFlags> & { limit?: string }) => {
      code = await withSettings(() => inspectSettings(a, b, flags), (st) => logCommand(st, { json: flags.json === true, limit: parseLimit(flags.limit) }, io));
    });

  const withSettings = async (make: () => SyncSettings, run: (s: SyncSettings) => Promise<ExitCode>): Promise<ExitCode> => {
    let st: SyncSettings;
    try {
      st = make();
    } catch (e) {
      return reportError(e, io);
    }
    return run(st);
  };

  const planCmd = program
    .command('plan')
    .description('work out what a sync would do and write it, with each action\'s preconditions, to a JSON file for `tsync apply`')
    .argument('[src]', 'the first tree (the source with --one-way); may come from --profile')
    .argument('[dst]', 'the second tree; may come from --profile')
    .requiredOption('-o, --output <file>', 'where to write the plan');
  addSyncOptions(planCmd).action(async (src: string | undefined, dst: string | undefined, flags: SyncFlags & { output: string }, cmd: Command) => {
    code = await withProfile(src, dst, flags, cmd, io, (a, b, f) => planCommand(a, b, f, io));
  });

  program
    .command('apply')
    .description('carry out a plan written by `tsync plan`, refusing each action whose preconditions no longer hold')
    .argument('<plan>', 'the plan file')
    .option('--state-dir <dir>', 'where the state index lives')
    .option('--concurrency <n>', 'parallel file operations (default 8)')
    .option('--no-trash', 'do not keep overwritten and deleted files')
    .option('--no-fsync', 'skip the flush to disk before the index records the run')
    .option('--wait [seconds]', 'wait for another tsync on this pair instead of exiting 5')
    .option('--json', 'NDJSON events and a summary')
    .option('-q, --quiet', 'print only errors')
    .action(async (file: string, flags: { stateDir?: string; concurrency?: string; trash: boolean; fsync: boolean; wait?: string | boolean; json?: boolean; quiet?: boolean }) => {
      const startedMs = Date.now();
      try {
        const summary = await applyPlanFile(file, {
          stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }),
          concurrency: parseConcurrency(flags.concurrency),
          flush: flags.fsync,
          trash: { enabled: flags.trash, keepMs: parseTrashKeep(undefined) },
          waitSeconds: parseWait(flags.wait),
        });
        code = exitStatusOf(summary);
        if (flags.json === true) for (const line of jsonEvents(summary, Date.now() - startedMs, code)) io.out(line);
        for (const p of summary.problems) io.err(`tsync: refused: ${p.message}`);
        if (flags.json !== true && flags.quiet !== true) io.out(formatSummary(summary));
      } catch (e) {
        code = reportError(e, io);
      }
    });

  program
    .command('trash')
    .description("list what a root's trash holds (files tsync overwrote or deleted there)")
    .argument('<root>', 'a synced root')
    .option('--json', 'one JSON object per line')
    .action((root: string, flags: { json?: boolean }) => {
      code = trashCommand(root, { json: flags.json === true }, io);
    });

  program
    .command('restore')
    .description('put a trashed version back (whatever is there now goes to the trash); the next sync propagates it')
    .argument('<root>', 'a synced root')
    .argument('<path>', 'the path inside the root')
    .option('--at <time>', 'the newest version trashed at or before TIME (ISO 8601; default: now)')
    .action((root: string, path: string, flags: { at?: string }) => {
      code = restoreCommand(root, path, { at: flags.at }, io);
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
  const startedMs = Date.now();
  const bar = process.stderr.isTTY === true && flags.json !== true && flags.quiet !== true && flags.dryRun !== true ? progressBar(process.stderr) : null;
  try {
    const summary = await runSync(settingsOf(src, dst, flags, io), bar ?? {}).finally(() => bar?.stop());
    for (const w of summary.warnings) io.err(`tsync: warning: ${w}`);
    if (flags.json === true) {
      const code = exitStatusOf(summary);
      for (const line of jsonEvents(summary, Date.now() - startedMs, code)) io.out(line);
      for (const line of formatProblems(summary)) io.err(line);
      return code;
    }
    if (summary.dryRun) {
      for (const line of formatPlan(summary.plan, summary.mode)) io.out(line);
    } else if (flags.verbose === true && flags.quiet !== true) {
      const applied = summary.outcomes.filter((o) => o.status === 'applied').map((o) => o.action);
      for (const line of formatPlan({ actions: applied }, summary.mode)) io.out(line);
    }
    for (const line of formatProblems(summary)) io.err(line);
    for (const line of formatConflicts(summary.plan.conflicts)) (summary.unresolvedConflicts > 0 ? io.err : flags.quiet === true ? () => undefined : io.out)(line);
    if (flags.quiet !== true) io.out(formatSummary(summary));
    return exitStatusOf(summary);
  } catch (e) {
    const code = reportError(e, io);
    if (flags.json === true) io.out(JSON.stringify({ event: 'summary', error: e instanceof Error ? e.message : String(e), durationMs: Date.now() - startedMs, exitCode: code }));
    return code;
  }
}

/**
 * Roots and options from `--profile NAME` (config file, see config/profiles.ts), under what the command
 * line and TSYNC_* variables say: flags given there win, the profile fills in the rest.
 */
async function withProfile<F extends SyncFlags>(
  src: string | undefined,
  dst: string | undefined,
  flags: F,
  cmd: Command,
  io: Io,
  run: (src: string, dst: string, flags: F) => Promise<ExitCode>,
): Promise<ExitCode> {
  let a = src;
  let b = dst;
  let merged: F = flags;
  try {
    if (flags.profile !== undefined) {
      const profile = loadProfile(flags.profile, configCandidates(flags.config, io.env, process.cwd()));
      const given = (key: string): boolean => ['cli', 'env'].includes(cmd.getOptionValueSource(key) ?? '');
      const fill: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(profile)) {
        if (key === 'source' || key === 'destination' || value === undefined || given(key)) continue;
        fill[key] = value;
      }
      merged = { ...flags, ...fill };
      a ??= profile.source;
      b ??= profile.destination;
    }
    if (a === undefined) throw new UsageError("missing required argument 'src' (or a --profile that names it)");
    if (b === undefined) throw new UsageError("missing required argument 'dst' (or a --profile that names it)");
  } catch (e) {
    return reportError(e, io);
  }
  return run(a, b, merged);
}

async function planCommand(src: string, dst: string, flags: SyncFlags & { output: string }, io: Io): Promise<ExitCode> {
  try {
    const settings = settingsOf(src, dst, { ...flags, dryRun: true }, io);
    const summary = await runSync(settings);
    const roots = resolveRoots(src, dst, { createRight: settings.mode === 'one-way', allowMissing: settings.mode === 'two-way' });
    writeFileSync(flags.output, serializePlan(summary.plan, { mode: settings.mode, policy: settings.policy, left: roots.left, right: roots.right }));
    if (flags.quiet !== true) {
      for (const line of formatPlan(summary.plan, summary.mode)) io.out(line);
      io.out(`${formatSummary(summary)}; plan written to ${flags.output}`);
    }
    for (const line of formatProblems(summary)) io.err(line);
    return exitStatusOf(summary);
  } catch (e) {
    return reportError(e, io);
  }
}

/** The options `sync` and `watch` share (the CLI contract: watch takes the same options as sync). */
function addSyncOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--profile <name>', 'take roots and options from this profile of the config file').env('TSYNC_PROFILE'))
    .addOption(new Option('--config <file>', 'the config file (default: ./tsync.config.json, then $XDG_CONFIG_HOME/tsync/config.json)').env('TSYNC_CONFIG'))
    .option('--one-way', 'make DST an exact mirror of SRC (new, changed and extra files in DST are replaced or removed)')
    .addOption(
      new Option('--conflict <policy>', 'two-way: what to do when both sides changed a file differently (keep-both: newer keeps the name, the other is saved as NAME.tsync-conflict-…; newer/left/right: that version wins, the loser is still saved; skip: leave both, exit 3)')
        .choices([...CONFLICT_POLICIES])
        .default('keep-both')
        .env('TSYNC_CONFLICT'),
    )
    .option('--exclude <glob>', 'leave paths matching GLOB out of the sync, on both sides (gitignore syntax; repeatable)', collect, [])
    .option('--include <glob>', 'take paths matching GLOB back in, over --exclude and .tsyncignore (repeatable)', collect, [])
    .option('--state-dir <dir>', 'where the state index lives (default: $TSYNC_STATE_DIR, $XDG_STATE_HOME/tsync, ~/.local/state/tsync)')
    .option('--checksum', 're-hash every file instead of trusting the stat cache')
    .option('-n, --dry-run', 'print the plan (+ new, ~ changed, - deleted) and change nothing')
    .option('--force', 'override the safety guards (empty source, mass deletion)')
    .addOption(new Option('--max-delete <limit>', 'largest deletion allowed without --force: N files or P% of a side (default 50%)').env('TSYNC_MAX_DELETE'))
    .addOption(new Option('--concurrency <n>', 'parallel file operations (default 8)').env('TSYNC_CONCURRENCY'))
    .option('--no-trash', 'do not keep overwritten and deleted files in <root>/.tsync/trash (conflict losers are then kept as conflict copies)')
    .option('--trash-keep <days>', 'how long the trash keeps a run\'s files (default 30)')
    .option('--wait [seconds]', 'if another tsync works on this pair, wait for it instead of exiting 5: for ever, or at most SECONDS (write --wait=SECONDS)')
    .option('--no-fsync', 'skip the flush to disk before the index records a run (faster, but after a power cut a truncated file could be taken for an edit)')
    .option('--json', 'NDJSON on stdout: one event per action, conflict and problem, then a summary (watch: a stream of events)')
    .option('-v, --verbose', 'print every action as it is applied')
    .option('-q, --quiet', 'print only errors');
}

function settingsOf(src: string, dst: string, flags: SyncFlags, io: Io): SyncSettings {
  return {
    left: src,
    right: dst,
    mode: flags.oneWay === true ? 'one-way' : 'two-way',
    policy: parseConflictPolicy(flags.conflict),
    stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }),
    checksum: flags.checksum === true,
    dryRun: flags.dryRun === true,
    force: flags.force === true,
    deleteLimit: parseDeleteLimit(flags.maxDelete),
    concurrency: parseConcurrency(flags.concurrency),
    flush: flags.fsync,
    waitSeconds: parseWait(flags.wait),
    filters: { exclude: flags.exclude, include: flags.include },
    trash: { enabled: flags.trash, keepMs: parseTrashKeep(flags.trashKeep) },
  };
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return 50;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--limit ${value}: expected a whole number, at least 1`);
  return Number(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runWatch(src: string, dst: string, flags: SyncFlags & WatchFlags, io: Io): Promise<ExitCode> {
  let settings: SyncSettings;
  let rescanIntervalMs: number;
  try {
    settings = settingsOf(src, dst, flags, io);
    if (settings.dryRun) throw new UsageError('--dry-run does not apply to watch; run `tsync sync --dry-run` instead');
    rescanIntervalMs = parseRescanInterval(flags.rescanInterval);
  } catch (e) {
    return reportError(e, io);
  }
  const stopRequested = new Promise<void>((resolve) => {
    let asked = false;
    const onSignal = (): void => {
      if (asked) process.exit(130); // a second Ctrl-C: leave at once (temp files are cleaned up next run)
      asked = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const tty = process.stdout.isTTY === true && flags.json !== true;
  return watchCommand(settings, {
    rescanIntervalMs,
    json: flags.json === true,
    quiet: flags.quiet === true,
    statusLine: tty ? (text) => process.stdout.write(`\r\x1b[2K${text}`) : null,
    stopRequested,
  }, io);
}


function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
