import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // `npm test`: unit, property and end-to-end tests. Crash trials and injected faults run with
    // `npm run test:faults`, the scale trials and full-strength properties with `npm run test:long`.
    include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // e2e tests spawn the built CLI against real trees; give slow CI machines room
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
