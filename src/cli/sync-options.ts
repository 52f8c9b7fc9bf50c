import { Option, type Command } from 'commander';
import { parseConcurrency, parseConflictPolicy, parseDeleteLimit, parseTrashKeep, parseWait, CONFLICT_POLICIES } from '../config/options.js';
import { configCandidates, loadProfile } from '../config/profiles.js';
import { UsageError } from '../errors.js';
import { resolveStateDir } from '../store/state-location.js';
import type { SyncSettings } from '../sync/settings.js';
import type { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { reportError } from './report-error.js';

/** The flags `sync`, `plan` and `watch` share, as commander hands them over. */
export interface SyncFlags {
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

/** The options `sync`, `plan` and `watch` share (the CLI contract: watch takes the same options as sync). */
export function addSyncOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--profile <name>', 'take roots and options from this profile of the config file').env('TSYNC_PROFILE'))
    .addOption(new Option('--config <file>', 'the config file (default: ./tsync.config.json, then $XDG_CONFIG_HOME/tsync/config.json)').env('TSYNC_CONFIG'))
    .option('--one-way', 'make DST an exact mirror of SRC (new, changed and extra files in DST are replaced or removed)')
    .addOption(
      new Option(
        '--conflict <policy>',
        'two-way: what to do when both sides changed a file differently (keep-both: newer keeps the name, the other is saved as NAME.tsync-conflict-…; newer/left/right: that version wins, the loser is still saved; skip: leave both, exit 3)',
      )
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
    .option('--trash-keep <days>', "how long the trash keeps a run's files (default 30)")
    .option('--wait [seconds]', 'if another tsync works on this pair, wait for it instead of exiting 5: for ever, or at most SECONDS (write --wait=SECONDS)')
    .option('--no-fsync', 'skip the flush to disk before the index records a run (faster, but after a power cut a truncated file could be taken for an edit)')
    .option('--json', 'NDJSON on stdout: one event per action, conflict and problem, then a summary (watch: a stream of events; README "Scripting")')
    .option('-v, --verbose', 'print every action as it is applied')
    .option('-q, --quiet', 'print only errors');
}

export function settingsOf(left: string, right: string, flags: SyncFlags, io: Io): SyncSettings {
  return {
    left,
    right,
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

/**
 * Roots and options from `--profile NAME` (config file, see config/profiles.ts), under what the command
 * line and TSYNC_* variables say: flags given there win, the profile fills in the rest.
 */
export async function withProfile<F extends SyncFlags>(
  left: string | undefined,
  right: string | undefined,
  flags: F,
  cmd: Command,
  io: Io,
  run: (left: string, right: string, flags: F) => Promise<ExitCode>,
): Promise<ExitCode> {
  let leftRoot = left;
  let rightRoot = right;
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
      leftRoot ??= profile.source;
      rightRoot ??= profile.destination;
    }
    if (leftRoot === undefined) throw new UsageError("missing required argument 'src' (or a --profile that names it)");
    if (rightRoot === undefined) throw new UsageError("missing required argument 'dst' (or a --profile that names it)");
  } catch (e) {
    return reportError(e, io);
  }
  return run(leftRoot, rightRoot, merged);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
