// The benchmarks' settings from environment variables: a bad value ends the run at once (exit 2) with the variable named.

/**
 * A positive whole number, or undefined when unset or empty.
 * @param {string} name @param {string} who the benchmark, for the message
 */
export function positiveIntEnv(name, who) {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    console.error(`${who}: ${name}=${v}: expected a positive whole number`);
    process.exit(2);
  }
  return Number(v);
}

/**
 * The scenarios named in BENCH_ONLY (comma-separated), each one of `all`; `defaults` when it is unset.
 * @param {string[]} all @param {string[]} defaults @param {string} who the benchmark, for the message
 */
export function onlyScenarios(all, defaults, who) {
  const only = new Set(
    (process.env.BENCH_ONLY ?? defaults.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of only) {
    if (!all.includes(s)) {
      console.error(`${who}: unknown scenario "${s}" in BENCH_ONLY (expected some of ${all.join(',')})`);
      process.exit(2);
    }
  }
  return only;
}
