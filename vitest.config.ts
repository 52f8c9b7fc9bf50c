import { defineConfig } from 'vitest/config';

/**
 * The suites that touch tsync's descriptor-anchored I/O (src/engine/dir-anchors.ts), run a second time with
 * TSYNC_NO_PROC=1: the fallback that macOS takes (no /proc: plain paths checked by the lstat guard). Not every
 * e2e file, to keep `npm test` near its CI budget; these are the ones that read and write through the anchors
 * hardest (hostile trees, both sync modes, odd names, unreadable paths).
 */
const NO_PROC_SUITES = ['test/e2e/hostile.test.ts', 'test/e2e/mirror.test.ts', 'test/e2e/two-way.test.ts', 'test/e2e/names.test.ts', 'test/e2e/problems.test.ts'];

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
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/e2e/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'no-proc',
          include: NO_PROC_SUITES,
          env: { TSYNC_NO_PROC: '1' },
        },
      },
    ],
  },
});
