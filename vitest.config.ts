import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // `npm test`: unit, property (default 400 histories) and end-to-end tests. The crash trials in
    // test/long run with `npm run test:long` (vitest.long.config.ts).
    include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // e2e tests spawn the built CLI against real trees; give slow CI machines room
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
