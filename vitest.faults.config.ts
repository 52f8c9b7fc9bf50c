import { defineConfig } from 'vitest/config';

// `npm run test:faults`: crash trials (SIGKILL at random moments) and injected file-system faults
// (test/faults/fault-layer.mjs, loaded only into the CLI processes these tests spawn). The default
// budget fits CI (a few minutes); TSYNC_FAULTS_BUDGET=long runs bigger trees.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    setupFiles: ['test/helpers/scanned-rows.ts'],
    env: { TSYNC_FAULTS: '1' },
    // the files share the two cores with the CLI processes they spawn: run them one after another
    fileParallelism: false,
    testTimeout: 6 * 3_600_000,
    hookTimeout: 600_000,
  },
});
