import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The memory-hard identity hash costs tens of milliseconds per call; generous per-test time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
