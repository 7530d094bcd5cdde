// Waiting for a condition in tests and tools: polled, bounded, and named when it runs out. The
// one polling wait of the repository (test/support/root-harness.ts's waitUntil is it, for conditions).

/** The first value of `f()` that is neither undefined nor false; throws after `timeoutMs`. */
export async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, pollMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
