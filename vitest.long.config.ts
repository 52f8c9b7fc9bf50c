import { defineConfig } from 'vitest/config';

// `npm run test:long`: the property tests at full strength (PROPERTY_RUNS, default 10,000 histories) and
// the scale trials in test/long (they skip themselves unless TSYNC_LONG is set, as it is here).
export default defineConfig({
  test: {
    include: ['test/long/**/*.test.ts', 'test/property/**/*.test.ts'],
    setupFiles: ['test/helpers/scanned-rows.ts'],
    env: {
      TSYNC_LONG: '1',
      PROPERTY_RUNS: process.env.PROPERTY_RUNS ?? '10000',
    },
    testTimeout: 6 * 3_600_000,
    hookTimeout: 600_000,
  },
});
