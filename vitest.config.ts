import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs every end-to-end file a second time with TSYNC_NO_PROC=1: the fallback that macOS takes (no
 * /proc: plain paths checked by the lstat guard instead of descriptor-anchored names). Left out there: the
 * memory ceiling (200,000 files; memory does not depend on how paths are opened) and the worker-scan
 * comparison, whose expected stderr quotes messages that name the /proc path form (an unreadable root's
 * syscall, the first name whose xattrs cannot be addressed); both run in the main pass.
 */
const NO_PROC_EXCLUDED = ['test/e2e/memory-bound.test.ts', 'test/e2e/scan-worker.test.ts'];

export default defineConfig({
  test: {
    // e2e tests spawn the built CLI against real trees; give slow CI machines room
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          // `npm test`: unit, property and end-to-end tests. Crash trials and injected faults run with
          // `npm run test:faults`, the scale trials and full-strength properties with `npm run test:long`.
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/remote/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'no-proc',
          include: ['test/e2e/**/*.test.ts'],
          exclude: NO_PROC_EXCLUDED,
          env: { TSYNC_NO_PROC: '1' },
        },
      },
    ],
  },
});
