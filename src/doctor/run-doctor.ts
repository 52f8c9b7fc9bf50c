import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { absFromText, toBytes } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { type CheckResult, result } from './check.js';
import { countDirs } from './count-dirs.js';
import { inotifyVerdict, readInotifyLimits, readInotifyUse } from './inotify.js';
import { listingCheck } from './listing.js';
import { filesystemsCheck, probeRoot } from './root-probes.js';
import { stateIndexCheck } from './state-index.js';
import { stateDirChecks } from './state-dir.js';

export interface DoctorInput {
  /** The two roots as typed, or null for the machine-wide checks only. */
  readonly roots: readonly [string, string] | null;
  readonly stateDir: string;
  readonly nowMs: number;
}

/** A root that exists and is a directory, else the fail line that says why not. */
function rootCheck(text: string): CheckResult {
  try {
    if (!statSync(text).isDirectory()) return result('root', text, 'fail', 'not a directory');
    return result('root', text, 'ok', 'a directory');
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT') return result('root', text, 'fail', 'does not exist (an unmounted disk?)', 'mount it, or create it (mkdir -p) if this is the first sync');
    return result('root', text, 'fail', `cannot be reached (${code})`);
  }
}

/**
 * Every check, in the order they print. Read-only towards the pair: no lock, no index write; the only
 * writes are the probe directories inside the roots and one probe file in the state dir, each removed
 * before this returns.
 */
export function runDoctor(input: DoctorInput): CheckResult[] {
  const checks: CheckResult[] = [];
  const limits = readInotifyLimits();
  const use = limits === null ? { watches: 0, instances: 0 } : readInotifyUse();
  if (input.roots === null) {
    checks.push(inotifyVerdict(limits, use, null));
    checks.push(listingCheck());
    checks.push(...stateDirChecks(input.stateDir));
    return checks;
  }
  const [a, b] = input.roots;
  const rootResults = [rootCheck(a), rootCheck(b)];
  checks.push(...rootResults);
  const usable = rootResults.filter((r) => r.verdict === 'ok').map((r) => r.subject as string);
  const dirs = usable.reduce((n, root) => n + countDirs(toBytes(absFromText(resolve(root)))), 0);
  checks.push(inotifyVerdict(limits, use, dirs));
  checks.push(listingCheck());
  for (const root of usable) checks.push(...probeRoot(root));
  if (usable.length === 2) checks.push(filesystemsCheck(a, b));
  const stateChecks = stateDirChecks(input.stateDir);
  checks.push(...stateChecks);
  if (usable.length === 2 && stateChecks.every((c) => c.verdict !== 'fail')) checks.push(stateIndexCheck(input.stateDir, a, b, input.nowMs));
  return checks;
}
