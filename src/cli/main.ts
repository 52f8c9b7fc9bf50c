import { CommanderError } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.js';
import { processIo, type Io } from './io.js';
import { buildProgram } from './program.js';
import { reportError } from './report-error.js';

/** Runs the CLI and returns the exit code. The only place that knows about argv and exit codes. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
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
