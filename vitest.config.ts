import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The memory-hard identity hash costs tens of milliseconds per call; generous per-test time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // prints one "skipped: <group> — <reason>" line per skipped group at the end (test/support/skips.ts)
    globalSetup: ['test/support/skip-summary.ts'],
    // V8's JIT-page tracking under memory protection keys (PKU, on AMD EPYC / Xeon hosts) races
    // when worker threads come and go quickly, aborting the process with "Check failed:
    // jit_page.has_value()" (a V8 bug, nodejs/node#64500 and others); the root tests start and
    // stop packet and validation threads many times over, so their processes run without it.
    execArgv: ['--no-memory-protection-keys'],
  },
});
