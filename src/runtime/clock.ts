/**
 * Milliseconds on a monotonic clock, as performance.now() gives them but without the `performance` global: its
 * first use loads eight of Node's perf_hooks modules, about 2 ms of the start of every command that walks or
 * copies (issue 11). For deadlines and intervals only; the origin is arbitrary.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
