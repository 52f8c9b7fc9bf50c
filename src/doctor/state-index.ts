import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { withNativeBinding } from '../store/sqlite-binding.js';
import type { AbsPath } from '../core/types.js';
import { absFromText, realpathAbs } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { pairKey } from '../store/state-location.js';
import { type CheckResult, humanAge, humanBytes, result } from './check.js';

interface LastRuns {
  readonly paths: number;
  readonly last: { readonly endedAtMs: number; readonly exitCode: number } | null;
  readonly lastOkMs: number | null;
}

const EXIT_MEANING: Readonly<Record<number, string>> = {
  1: 'some paths failed',
  2: 'a usage or state error',
  3: 'conflicts left unresolved',
  4: 'a safety guard halted it',
  5: 'the pair was locked',
};

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Reads the run log without writing: no pair lock, no migration, and `query_only` refuses any write, so
 * a doctor can run beside a watch. Not a read-only connection: on a WAL index that leaves an empty -wal
 * and -shm behind, where a read-write one that only reads removes them on close like any run does.
 */
function readRuns(file: string): LastRuns {
  const db = new Database(file, withNativeBinding({ fileMustExist: true, timeout: 5000 }));
  try {
    db.pragma('query_only = ON');
    const paths = Number(db.prepare('SELECT count(*) FROM entries').pluck().get());
    const last = db.prepare('SELECT ended_at_ms AS endedAtMs, exit_code AS exitCode FROM runs ORDER BY id DESC LIMIT 1').get() as { endedAtMs: number; exitCode: number } | undefined;
    const lastOk = db.prepare('SELECT max(ended_at_ms) FROM runs WHERE exit_code = 0').pluck().get() as number | null;
    return { paths, last: last ?? null, lastOkMs: lastOk };
  } finally {
    db.close();
  }
}

/**
 * The pair's index (found as sync finds it: by the two real paths, in either order): its size, how many
 * paths it holds, and how long ago the last successful run ended. A pair never synced is fine: there
 * is nothing to check yet.
 */
export function stateIndexCheck(stateDir: string, aText: string, bText: string, nowMs: number): CheckResult {
  const real = (t: string): AbsPath => realpathAbs(absFromText(resolve(t)));
  const file = join(stateDir, pairKey(real(aText), real(bText)).fileName);
  const subject = file;
  const size = fileSize(file);
  if (size === 0) return result('index', subject, 'ok', 'no index yet: this pair has not been synced');
  let runs: LastRuns;
  try {
    runs = readRuns(file);
  } catch (e) {
    return result('index', subject, 'warn', `cannot read it (${errCode(e)}: ${e instanceof Error ? e.message : String(e)}); the next sync moves an unreadable index aside and starts afresh`);
  }
  const sizeText = `${humanBytes(size + fileSize(`${file}-wal`))}, ${runs.paths} paths`;
  const okText = runs.lastOkMs === null ? 'no successful run yet' : `last successful run ${humanAge(nowMs - runs.lastOkMs)} ago`;
  if (runs.last === null) return result('index', subject, 'ok', `${sizeText}; no run recorded yet`);
  if (runs.last.exitCode !== 0) {
    const meaning = EXIT_MEANING[runs.last.exitCode] ?? 'an error';
    return result(
      'index',
      subject,
      'warn',
      `${sizeText}; the last run, ${humanAge(nowMs - runs.last.endedAtMs)} ago, ended with exit ${runs.last.exitCode} (${meaning}); ${okText}`,
      'see tsync log A B, then sync again',
    );
  }
  return result('index', subject, 'ok', `${sizeText}; ${okText}`);
}
