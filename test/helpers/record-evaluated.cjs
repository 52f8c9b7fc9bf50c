// `node --require ./record-evaluated.cjs …`: appends to the file named by TSYNC_TEST_EVALUATED the source module
// (`dist/…js`) of every module the CLI's bundle runs (test/e2e/lazy-modules.test.ts). The bundle is one CommonJS
// file per entry point (scripts/bundle.mjs) in which esbuild wraps each module reached through a dynamic import()
// in `__esm({ "dist/x.js"() { …body… } })`, run the first time the import happens; this adds one line to the start
// of each such body, as the file is compiled, and first writes how many bodies it instrumented in which file (a
// test that found none would prove nothing). Test-only: nothing in the package loads it.
const Module = require('node:module');
const { appendFileSync } = require('node:fs');

const log = process.env.TSYNC_TEST_EVALUATED;
const WRAPPED_MODULE = /__esm\(\{\s*"(dist\/[^"]+\.js)"\(\)\s*\{/g;
const compile = Module.prototype._compile;

Module.prototype._compile = function (content, filename) {
  if (log === undefined || !/[\\/]dist[\\/]bundle[\\/][^\\/]+\.js$/.test(filename)) return compile.call(this, content, filename);
  let count = 0;
  const instrumented = content.replace(WRAPPED_MODULE, (whole, module) => {
    count++;
    return `${whole} require('node:fs').appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${module}\n`)});`;
  });
  appendFileSync(log, `instrumented ${count} ${filename}\n`);
  return compile.call(this, instrumented, filename);
};
