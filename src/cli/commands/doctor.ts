import type { CheckResult } from '../../doctor/check.js';
import { runDoctor } from '../../doctor/run-doctor.js';
import { UsageError } from '../../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { reportError } from '../report-error.js';

export interface DoctorFlags {
  readonly stateDir: string;
  readonly json: boolean;
}

function line(c: CheckResult): string {
  const head = `${c.verdict.padEnd(4)} ${c.check}${c.subject === null ? '' : ` ${c.subject}`}: ${c.message}`;
  return c.fix === null ? head : `${head}\n     fix: ${c.fix}`;
}

/**
 * `tsync doctor [A B]`: one line per check (ok, warn or fail), `--json` one object per line. Exit 1 when
 * any check fails, else 0 (warnings do not change it); 2 for a usage error (one root given).
 */
export function doctorCommand(a: string | undefined, b: string | undefined, flags: DoctorFlags, io: Io): ExitCode {
  try {
    if ((a === undefined) !== (b === undefined)) throw new UsageError('doctor takes two roots or none (tsync doctor [A B])');
    const checks = runDoctor({ roots: a !== undefined && b !== undefined ? [a, b] : null, stateDir: flags.stateDir, nowMs: Date.now() });
    for (const c of checks) io.out(flags.json ? JSON.stringify(c) : line(c));
    return checks.some((c) => c.verdict === 'fail') ? EXIT.partial : EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}
