/** What one doctor check found. `ok`: nothing to do; `warn`: works, but not as one may expect; `fail`: will not work. */
export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Which check: `root`, `inotify`, `listing`, `ctime`, `case`, `xattr`, `hardlink`, `sparse`, `filesystems`, `state-dir`, `index`. */
  readonly check: string;
  /** What it looked at (a root as typed, the state dir), or null for the machine. */
  readonly subject: string | null;
  readonly verdict: Verdict;
  /** A short explanation, for humans. */
  readonly message: string;
  /** What to do about it, when there is something to do. */
  readonly fix: string | null;
}

export function result(check: string, subject: string | null, verdict: Verdict, message: string, fix: string | null = null): CheckResult {
  return { check, subject, verdict, message, fix };
}

export const GIB = 1024 ** 3;

/** 1536 -> "1.5 KiB": sizes in messages. */
export function humanBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

/** 90_000 -> "1.5 minutes": ages in messages. */
export function humanAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 90) return Math.round(s) === 1 ? '1 second' : `${Math.round(s)} seconds`;
  if (s < 90 * 60) return `${(s / 60).toFixed(0)} minutes`;
  if (s < 36 * 3600) return `${(s / 3600).toFixed(1)} hours`;
  return `${(s / 86400).toFixed(1)} days`;
}
