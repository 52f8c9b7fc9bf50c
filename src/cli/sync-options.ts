import { Option, type Command } from 'commander';
import { CONFLICT_POLICIES } from '../core/types.js';

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
  /** Wait for the flush to disk before the run exits (else the next run on the pair makes it). */
  flushNow?: boolean;
  wait?: string | boolean;
  exclude: string[];
  include: string[];
  trash: boolean;
  trashKeep?: string;
  /** Owner, group and xattrs kept in sync (each off with --no-owner, --no-group, --no-xattrs). */
  owner?: boolean;
  group?: boolean;
  xattrs?: boolean;
  json?: boolean;
  profile?: string;
  config?: string;
  /** The command that reaches a remote root (like rsync's -e); else TSYNC_SSH, else ssh. */
  ssh?: string;
  /** Owners and groups keep their numbers across machines (default: matched by user and group name). */
  numericIds?: boolean;
  /** A remote root's link: file data deflated; at most RATE bytes per second. */
  compress?: boolean;
  bwlimit?: string;
}

/** --ssh as every command that takes a root has it. */
export const SSH_OPTION_HELP = 'how to reach a remote root (HOST:PATH or ssh://[USER@]HOST[:PORT]/PATH): the ssh command and its options, like rsync -e (default: $TSYNC_SSH, else ssh)';

/**
 * The options `sync`, `plan` and `watch` share (the CLI contract: watch takes the same options as sync).
 * Only their definitions: what they mean is sync-settings.ts, loaded when a command runs, so that
 * `--help` and `--version` load no parser, schema library or profile reader.
 */
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
    .option('--ssh <command>', SSH_OPTION_HELP)
    .option('--numeric-ids', 'with a remote root: keep owner and group ids as numbers instead of matching them by user and group name')
    .option('-z, --compress', 'with a remote root: compress file data on the link (deflate, fast level; for slow links and compressible files)')
    .option('--bwlimit <rate>', 'with a remote root: send and receive at most RATE bytes per second (500K, 4M, 1G: powers of 1024)')
    .option('--state-dir <dir>', 'where the state index lives (default: $TSYNC_STATE_DIR, $XDG_STATE_HOME/tsync, ~/.local/state/tsync)')
    .option('--checksum', 're-hash every file instead of trusting the stat cache')
    .option('-n, --dry-run', 'print the plan (+ new, ~ changed, - deleted) and change nothing')
    .option('--force', 'override the safety guards (empty source, mass deletion)')
    .addOption(new Option('--max-delete <limit>', 'largest deletion allowed without --force: N files or P% of a side (default 50%)').env('TSYNC_MAX_DELETE'))
    .addOption(new Option('--concurrency <n>', 'parallel file operations (default 8)').env('TSYNC_CONCURRENCY'))
    .option('--no-trash', 'do not keep overwritten and deleted files in <root>/.tsync/trash (conflict losers are then kept as conflict copies)')
    .option('--trash-keep <days>', "how long the trash keeps a run's files (default 30)")
    .option('--wait [seconds]', 'if another tsync works on this pair, wait for it instead of exiting 5: for ever, or at most SECONDS (write --wait=SECONDS)')
    .option('--no-owner', 'do not keep file owners (kept by default where the process may chown: root or CAP_CHOWN)')
    .option('--no-group', 'do not keep file groups (kept by default where the process may chown)')
    .option('--no-xattrs', 'do not keep extended attributes and POSIX ACLs (user.*, security.*, system.posix_acl_*, trusted.* as root)')
    .option('--no-fsync', 'skip the flush to disk before the index records a run (faster, but after a power cut a truncated file could be taken for an edit)')
    .option(
      '--flush-now',
      'wait for the flush to disk before exiting (default: the next run on the pair makes it, and after a restart compares what this run wrote afresh); for a job that deletes its source next',
    )
    .option('--json', 'NDJSON on stdout: one event per action, conflict and problem, then a summary (watch: a stream of events; README "Scripting")')
    .option('-v, --verbose', 'print every action as it is applied')
    .option('-q, --quiet', 'print only errors');
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
