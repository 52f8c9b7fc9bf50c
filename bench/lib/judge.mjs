// How one measured run went, for bench/run.mjs and bench/remote.mjs: a run counts only if it exited 0, did no work
// when it was meant to be a no-op, and left a correct replica; anything else is recorded against its tool.

/** @typedef {{ ok: boolean, mismatches: number, problems: string[] }} Check */
/** @typedef {{ failures: string[], checks: number, wrong: number }} Judged */
/** @typedef {{ status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }} Outcome */

/** The summary line of a tsync run that did nothing. */
const NOOP_SUMMARY = /^0 copied, 0 dirs created, 0 deleted, 0 metadata updates/m;

/**
 * Records the run's problems in `slot` (the replica is checked only after exit 0) and returns the tag for its
 * progress line: ' ok', or what went wrong.
 * @param {Judged} slot @param {Outcome} m
 * @param {{ tsync: boolean, expectNoop?: boolean, verify?: () => Check }} options
 */
export function judgeRun(slot, m, { tsync, expectNoop = false, verify }) {
  let tag = '';
  if (m.status !== 0) {
    const why = `exit ${m.status ?? m.signal}: ${(m.stderr || m.stdout).trim().split('\n').slice(-2).join(' / ').slice(0, 300)}`;
    slot.failures.push(why);
    tag = ` FAILED (${why})`;
  }
  if (expectNoop && tsync && m.status === 0 && !NOOP_SUMMARY.test(m.stdout)) {
    slot.failures.push(`no-op run did work: ${m.stdout.trim()}`);
    tag += ` (not a no-op: ${m.stdout.trim()})`;
  }
  if (verify && m.status === 0) {
    const v = verify();
    slot.checks++;
    if (!v.ok) {
      slot.wrong++;
      slot.failures.push(`replica differs (${v.mismatches} mismatches): ${v.problems.join('; ')}`);
      tag += ` WRONG: ${v.mismatches} mismatches, e.g. ${v.problems[0]}`;
    } else {
      tag += ' ok';
    }
  }
  return tag;
}
