// `node --require ./record-builtins.cjs …`: at exit, writes the names of the Node built-in modules the process loaded
// (process.moduleLoadList, e.g. `NativeModule child_process`) to the file named by TSYNC_TEST_BUILTINS
// (test/e2e/lazy-modules.test.ts). Built-ins loaded with require() never pass ES module loader hooks.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  writeFileSync(process.env.TSYNC_TEST_BUILTINS, builtins.join('\n'));
});
