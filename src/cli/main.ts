import { writeSync } from 'node:fs';
import { EXIT, type ExitCode } from './exit-codes.js';
import { capYoungGeneration, WATCH_YOUNG_GENERATION_CAP_MB, YOUNG_GENERATION_CAP_MB } from '../runtime/young-generation.js';
import { limitHeapGrowth } from './heap-growth.js';
import { outputFailureLine, processIo, type Io } from './io.js';
import { packageVersion } from './version.js';

/** Runs the CLI and returns the exit code. The only place that knows about argv and exit codes. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  const code = await runCommand(argv, io);
  // the command's own output could not be written (a full disk under `> file`): its work is done, and it says so
  const failure = io === processIo ? outputFailureLine() : null;
  if (failure === null) return code;
  try {
    writeSync(2, `${failure}\n`);
  } catch {
    // stderr is gone or full too: the exit code is all that is left to say it
  }
  return code === EXIT.ok ? EXIT.partial : code;
}

async function runCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  if (isVersionOnly(argv.slice(2))) {
    io.out(packageVersion()); // what commander prints for it, without loading commander (most of a bare start-up)
    return EXIT.ok;
  }
  limitHeapGrowth();
  // the command is argv[2] when there is one (program.ts commandFilter); a long-lived watch gets a larger cap
  capYoungGeneration(process.env, argv[2] === 'watch' ? WATCH_YOUNG_GENERATION_CAP_MB : YOUNG_GENERATION_CAP_MB);
  const [{ CommanderError }, { buildProgram }, { reportError }] = await Promise.all([import('commander'), import('./program.js'), import('./report-error.js')]);
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    argv,
  );
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // `tsync` alone prints the usage on stderr as a usage error (as git and rsync do); `--help` asked for it
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
      return EXIT.usage; // commander has already printed its one-line message
    }
    return reportError(e, io);
  }
  return code;
}

/** `tsync --version` or `tsync -V` and nothing else; any other shape goes through commander as before. */
function isVersionOnly(args: readonly string[]): boolean {
  return args.length === 1 && (args[0] === '--version' || args[0] === '-V');
}
