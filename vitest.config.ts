import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The memory-hard identity hash costs tens of milliseconds per call; generous per-test time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // prints one "skipped: <group> — <reason>" line per skipped group at the end (test/support/skips.ts)
    globalSetup: ['test/support/skip-summary.ts'],
  },
});
