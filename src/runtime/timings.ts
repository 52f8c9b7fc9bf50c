/** With TSYNC_TIMINGS=1, a line about what a run did and how long it took (for profiling and the e2e tests, not a contract). */
export function timing(line: string): void {
  if (process.env.TSYNC_TIMINGS === '1') process.stderr.write(`tsync timing: ${line}\n`);
}
