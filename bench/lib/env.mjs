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

/**
 * Variables that change how long every Node process takes to start, which a benchmark of start-up and of 10k-file runs
 * must not inherit from whoever started it. NODE_EXTRA_CA_CERTS makes each Node process read and parse the named CA
 * bundle before it runs anything: on the machine this was written on (where the sandbox sets it for every process)
 * `node -e 0` took 103 ms with it and 61 ms without, and so did every tsync command, while rsync, cp and unison paid
 * nothing; the ratios against `node -e 0` looked better than they are and those against rsync worse. NODE_OPTIONS could
 * add anything (a --require, V8 flags that void tsync's code cache). Both are removed from this process's environment,
 * which every command the benchmark starts inherits; the results' header names what was removed.
 * @returns {string[]} the names removed
 */
export function withoutStartupEnv() {
  const removed = [];
  for (const name of ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS']) {
    if (process.env[name] === undefined) continue;
    delete process.env[name];
    removed.push(name);
  }
  return removed;
}

/**
 * The header line that says which variables withoutStartupEnv removed.
 * @param {readonly string[]} removed
 */
export function startupEnvText(removed) {
  return removed.length === 0 ? 'no NODE_EXTRA_CA_CERTS or NODE_OPTIONS set' : `${removed.join(' and ')} removed for every command run (bench/lib/env.mjs says why)`;
}
