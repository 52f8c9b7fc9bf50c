import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { namesRemoteRoot } from '../remote/root-spec.js';
import type { SyncSettings } from '../sync/settings.js';
import type { ApplyFlags } from './commands/apply.js';
import type { WatchFlags } from './commands/watch.js';
import { EXIT_CODE_HELP, type ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { reportError } from './report-error.js';
import { addSyncOptions, collect, SSH_OPTION_HELP, type SyncFlags } from './sync-options.js';
import { packageVersion } from './version.js';

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

/**
 * The commander wiring: every command, its arguments and options, and which module runs it. Each
 * action hands its exit code to `done`.
 *
 * Every command module is imported inside its action, never here: `--version`, `--help` and a usage
 * error then load commander and this file only, and each command loads just what it uses (SQLite,
 * the hasher, the watcher, the progress bar, the schema library). Start-up is part of every run.
 */
export function buildProgram(io: Io, done: (code: ExitCode) => void, argv: readonly string[] = []): Command {
  const wanted = commandFilter(argv);
  const program = new Command('tsync')
    .description('Keep directories in sync: safe two-way sync and exact one-way mirrors.')
    .version(packageVersion(), '-V, --version')
    // commander's own errors (unknown option, missing argument) become one line like ours
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.startsWith('error:') ? `tsync: ${s.trim()} (see tsync --help)` : s.trimEnd()) })
    .exitOverride()
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  if (wanted('sync')) {
    const sync = program
      .command('sync')
      .description('sync two directory trees once: two-way by default; with --one-way, DST becomes an exact mirror of SRC')
      .argument('[src]', 'the first tree (the source with --one-way); may come from --profile')
      .argument('[dst]', 'the second tree (the destination with --one-way, created if missing); may come from --profile')
      .addHelpText('after', SYNC_EXAMPLES);
    addSyncOptions(sync).action(async (left: string | undefined, right: string | undefined, flags: SyncFlags, cmd: Command) => {
      const { withProfile, validSettingsOf } = await import('./sync-settings.js');
      done(
        await withProfile(left, right, flags, cmd, io, (a, b, f) =>
          // ssh starts before the command's modules load (commands/sync.js holds the engine): the two overlap
          connectingAheadIfRemote(validSettingsOf(a, b, f, io), async () => (await import('./commands/sync.js')).syncCommand(a, b, f, io)),
        ),
      );
    });
  }

  if (wanted('watch')) {
    const watch = program
      .command('watch')
      .description('sync once, then keep syncing as files change (Ctrl-C to stop; the state is saved)')
      .argument('[src]', 'the first tree (the source with --one-way); may come from --profile')
      .argument('[dst]', 'the second tree (the destination with --one-way); may come from --profile')
      .option('--rescan-interval <seconds>', 'full rescan as a backstop for missed events (default 600)')
      .addHelpText('after', WATCH_EXAMPLES);
    addSyncOptions(watch).action(async (left: string | undefined, right: string | undefined, flags: WatchFlags, cmd: Command) => {
      const { withProfile, validSettingsOf } = await import('./sync-settings.js');
      done(
        await withProfile(left, right, flags, cmd, io, (a, b, f) =>
          // ssh starts before the command's modules load (commands/watch.js holds the engine): the two overlap
          connectingAheadIfRemote(validSettingsOf(a, b, f, io), async () => (await import('./commands/watch.js')).watchCommand(a, b, f, io)),
        ),
      );
    });
  }

  if (wanted('conflicts')) {
    program
      .command('conflicts')
      .description('list the conflicts recorded for a pair of roots (the open ones first)')
      .argument('<a>', 'the first root')
      .argument('<b>', 'the second root')
      .option('--state-dir <dir>', 'where the state index lives')
      .option('--ssh <command>', SSH_OPTION_HELP)
      .option('--json', 'one JSON object per line')
      .action(async (left: string, right: string, flags: { stateDir?: string; json?: boolean; ssh?: string }) => {
        const [{ conflictsCommand }, { resolveStateDir }] = await Promise.all([import('./commands/conflicts.js'), import('../store/state-location.js')]);
        const stateDir = resolveStateDir({ flag: flags.stateDir, env: io.env });
        done(await conflictsCommand(left, right, { stateDir, json: flags.json === true, ...(flags.ssh === undefined ? {} : { sshCommand: flags.ssh }) }, io));
      });
  }

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
      .option('--ssh <command>', SSH_OPTION_HELP)
      .option('--json', 'one JSON object per line');
  const withSettings = async (left: string, right: string, flags: Partial<SyncFlags>, run: (s: SyncSettings) => Promise<ExitCode>): Promise<void> => {
    const { settingsOf } = await import('./sync-settings.js');
    let st: SyncSettings;
    try {
      st = settingsOf(left, right, { conflict: 'keep-both', fsync: true, trash: true, exclude: [], include: [], ...flags }, io);
    } catch (e) {
      done(reportError(e, io));
      return;
    }
    done(await connectingAheadIfRemote(st, () => run(st)));
  };
  if (wanted('status')) {
    inspect('status', 'last sync, pending changes per direction, open conflicts (exit 0)').action(async (left: string, right: string, flags: Partial<SyncFlags>) => {
      const { statusCommand } = await import('./commands/inspect.js');
      await withSettings(left, right, flags, (st) => statusCommand(st, flags.json === true, io));
    });
  }
  if (wanted('check')) {
    inspect('check', 'compare both trees by content: exit 0 when identical, else list the differences and exit 1')
      .option('--checksum', 're-hash every file instead of trusting the stat cache')
      .option('--no-owner', 'do not compare owners')
      .option('--no-group', 'do not compare groups')
      .option('--no-xattrs', 'do not compare extended attributes and ACLs')
      .action(async (left: string, right: string, flags: Partial<SyncFlags>) => {
        const { checkCommand } = await import('./commands/inspect.js');
        await withSettings(left, right, flags, (st) => checkCommand(st, flags.json === true, io));
      });
  }
  if (wanted('log')) {
    inspect('log', 'one row per past run: sync, apply, and each watch cycle that changed something (newest first)')
      .option('--limit <n>', 'at most N rows (default 50)')
      .action(async (left: string, right: string, flags: Partial<SyncFlags> & { limit?: string }) => {
        let limit: number;
        try {
          limit = parseLimit(flags.limit);
        } catch (e) {
          done(reportError(e, io));
          return;
        }
        const { logCommand } = await import('./commands/inspect.js');
        await withSettings(left, right, flags, (st) => logCommand(st, { json: flags.json === true, limit }, io));
      });
  }

  if (wanted('plan')) {
    const plan = program
      .command('plan')
      .description("work out what a sync would do and write it, with each action's preconditions, to a JSON file for `tsync apply`")
      .argument('[src]', 'the first tree (the source with --one-way); may come from --profile')
      .argument('[dst]', 'the second tree; may come from --profile')
      .requiredOption('-o, --output <file>', 'where to write the plan');
    addSyncOptions(plan).action(async (left: string | undefined, right: string | undefined, flags: SyncFlags & { output: string }, cmd: Command) => {
      const { withProfile, validSettingsOf } = await import('./sync-settings.js');
      done(
        await withProfile(left, right, flags, cmd, io, (a, b, f) =>
          // ssh starts before the command's modules load (commands/plan.js holds the engine): the two overlap
          connectingAheadIfRemote(validSettingsOf(a, b, f, io), async () => (await import('./commands/plan.js')).planCommand(a, b, f, io)),
        ),
      );
    });
  }

  if (wanted('apply')) {
    program
      .command('apply')
      .description('carry out a plan written by `tsync plan`, refusing each action whose preconditions no longer hold')
      .argument('<plan>', 'the plan file')
      .option('--state-dir <dir>', 'where the state index lives')
      .option('--concurrency <n>', 'parallel file operations (default 8)')
      .option('--no-trash', 'do not keep overwritten and deleted files')
      .option('--no-fsync', 'skip the flush to disk before the index records the run')
      .option('--flush-now', 'wait for the flush to disk before exiting (default: the next run on the pair makes it)')
      .option('--wait [seconds]', 'wait for another tsync on this pair instead of exiting 5')
      .option('--ssh <command>', SSH_OPTION_HELP)
      .option('--json', 'NDJSON events and a summary')
      .option('-q, --quiet', 'print only errors')
      .action(async (file: string, flags: ApplyFlags) => {
        const { applyCommand } = await import('./commands/apply.js');
        done(await applyCommand(file, flags, io));
      });
  }

  if (wanted('doctor')) {
    program
      .command('doctor')
      .description('check what can make sync or watch misbehave here (inotify limits, file system features, state dir): exit 1 on a fail')
      .argument('[a]', 'the first root (without roots: only the machine-wide checks)')
      .argument('[b]', 'the second root')
      .option('--state-dir <dir>', 'where the state index lives')
      .option('--json', 'one JSON object per check, one per line')
      .action(async (left: string | undefined, right: string | undefined, flags: { stateDir?: string; json?: boolean }) => {
        const [{ doctorCommand }, { resolveStateDir }] = await Promise.all([import('./commands/doctor.js'), import('../store/state-location.js')]);
        done(doctorCommand(left, right, { stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }), json: flags.json === true }, io));
      });
  }

  if (wanted('trash')) {
    program
      .command('trash')
      .description("list what a root's trash holds (files tsync overwrote or deleted there)")
      .argument('<root>', 'a synced root (here, or HOST:PATH / ssh://…)')
      .option('--ssh <command>', SSH_OPTION_HELP)
      .option('--json', 'one JSON object per line')
      .action(async (root: string, flags: { json?: boolean; ssh?: string }) => {
        const { trashCommand } = await import('./commands/trash.js');
        done(await trashCommand(root, { json: flags.json === true, ...(flags.ssh === undefined ? {} : { sshCommand: flags.ssh }) }, io));
      });
  }

  if (wanted('restore')) {
    program
      .command('restore')
      .description('put a trashed version back (whatever is there now goes to the trash); the next sync propagates it')
      .argument('<root>', 'a synced root (here, or HOST:PATH / ssh://…)')
      .argument('<path>', 'the path inside the root')
      .option('--at <time>', 'the newest version trashed at or before TIME (ISO 8601; default: now)')
      .option('--ssh <command>', SSH_OPTION_HELP)
      .action(async (root: string, path: string, flags: { at?: string; ssh?: string }) => {
        const { restoreCommand } = await import('./commands/trash.js');
        done(await restoreCommand(root, path, { at: flags.at, ...(flags.ssh === undefined ? {} : { sshCommand: flags.ssh }) }, io));
      });
  }

  // the far side of a remote root, started over ssh (remote/bootstrap.ts); hidden: not a command for people
  if (wanted('agent')) {
    program
      .command('agent', { hidden: true })
      .description('serve a remote root over stdin and stdout (started by tsync over ssh)')
      .option('--protocol', 'print the protocol version this tsync speaks and exit')
      .action(async (flags: { protocol?: boolean }) => {
        const { agentCommand } = await import('./commands/agent.js');
        done(await agentCommand(flags));
      });
  }

  return program;
}

const COMMAND_NAMES: ReadonlySet<string> = new Set(['sync', 'watch', 'conflicts', 'status', 'check', 'log', 'plan', 'apply', 'doctor', 'trash', 'restore', 'agent']);

/**
 * Which commands to register. Commander builds every option object of every command up front, and with
 * the sync options on three commands that was a measurable part of each start-up (issue 11). When argv
 * names a command, only that one is needed: its own --help, errors and parsing are the same. Anything
 * else (no command, `help`, a misspelt name, a global flag) gets all of them, so the overview, `help
 * CMD` and commander's "unknown command" stay as they were.
 */
function commandFilter(argv: readonly string[]): (name: string) => boolean {
  const named = argv[2];
  if (named === undefined || !COMMAND_NAMES.has(named)) return () => true;
  return (name) => name === named;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return 50;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--limit ${value}: expected a whole number, at least 1`);
  return Number(value);
}

/**
 * `run`, with ssh already started for a remote root (connect-ahead.ts), so that it connects while the command's
 * modules load; a local pair loads nothing for it.
 */
async function connectingAheadIfRemote<T>(st: Pick<SyncSettings, 'left' | 'right' | 'sshCommand'> | null, run: () => Promise<T>): Promise<T> {
  if (st === null || (!namesRemoteRoot(st.left) && !namesRemoteRoot(st.right))) return run();
  const { withConnectionAhead } = await import('./connect-ahead.js');
  return withConnectionAhead(st, run);
}
