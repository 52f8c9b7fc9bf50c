// `node --import ./record-loads.mjs …`: appends the URL of every ES module the process loads to the file named by
// TSYNC_TEST_LOADS (test/e2e/lazy-modules.test.ts). Loader hooks run on their own thread; this only registers them.
import { register } from 'node:module';

register('./record-loads-hooks.mjs', import.meta.url, { data: process.env.TSYNC_TEST_LOADS });
