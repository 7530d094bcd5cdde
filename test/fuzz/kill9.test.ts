// CI gate for crash consistency (tools/fuzz/kill9.ts): a few rounds of kill -9 at a random moment
// while new identities are validated and written. The pool of identities with proof of work is
// made once and cached under $TMPDIR/ztroot-fuzz-cache (a few seconds with the native hash).

import { describe, expect, it } from 'vitest';
import { formatKill9Report, kill9Failures, runKill9Campaign } from '../../tools/fuzz/kill9.ts';

describe('kill -9 while identities are written', () => {
  it('the store always opens, keeps every acknowledged identity and holds nothing half-written', async () => {
    // 1.5 s: validation threads start on demand, so on a loaded CI machine the first acknowledgement
    // of a round can come later than 400 ms after registration starts
    const r = await runKill9Campaign({ rounds: 5, seed: 14, peersPerRound: 24, killWithinMs: 1500 });
    console.log(formatKill9Report(r));
    expect(kill9Failures(r)).toEqual([]);
    expect(r.rounds).toBe(5);
    expect(r.acknowledged).toBeGreaterThan(0);
  }, 180_000);
});
