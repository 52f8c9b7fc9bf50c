import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs every end-to-end file a second time with TSYNC_NO_PROC=1: the fallback that macOS takes (no
 * /proc: plain paths checked by the lstat guard instead of descriptor-anchored names). Left out there: the
 * memory ceiling (200,000 files; memory does not depend on how paths are opened) and the worker-scan
 * comparison, whose expected stderr quotes messages that name the /proc path form (an unreadable root's
 * syscall, the first name whose xattrs cannot be addressed); both run in the main pass.
 */
const NO_PROC_EXCLUDED = ['test/e2e/memory-bound.test.ts', 'test/e2e/scan-worker.test.ts'];

/**
 * The suites that copy between the sides and resolve conflicts, run a third time with TSYNC_STREAM_COPIES=1
 * (a test hook, engine/execute.ts): every copy between two local roots then takes the path a remote side
 * takes (source endpoint's openRead piped into the target's install, engine/stream-copy.ts) instead of the
 * kernel copy, so that path is held to the same checks (one-way, two-way and its conflicts, holes and hard
 * links, owners and xattrs, hostile trees, changes during a copy, metadata, byte-exact names, watch cycles).
 */
const STREAM_SUITES = [
  'test/e2e/mirror.test.ts',
  'test/e2e/two-way.test.ts',
  'test/e2e/sparse-hardlinks.test.ts',
  'test/e2e/owners-xattrs.test.ts',
  'test/e2e/hostile.test.ts',
  'test/e2e/faults.test.ts',
  'test/e2e/meta-converge.test.ts',
  'test/e2e/names.test.ts',
  'test/e2e/operations.test.ts',
  'test/e2e/backup-round-trip-holes-links.test.ts',
  'test/e2e/watch.test.ts',
];

export default defineConfig({
  test: {
    // e2e tests spawn the built CLI against real trees; give slow CI machines room
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // deep equality sees a scan table's rows as the entries they read (the file says why)
    setupFiles: ['test/helpers/scanned-rows.ts'],
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
      {
        extends: true,
        test: {
          name: 'stream',
          include: STREAM_SUITES,
          env: { TSYNC_STREAM_COPIES: '1' },
        },
      },
    ],
  },
});
