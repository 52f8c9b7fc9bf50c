import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests spawn the built CLI against real trees; give slow CI machines room
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
