// CI smoke run of the soak (tools/fuzz/soak.ts): one minute of the same mixed load — known
// peers' HELLO, WHOIS, ECHO, relayed pairs with RENDEZVOUS, new identities admitted, junk. The
// process must stay up and log nothing at error level. One minute is too short for the 5 %
// memory criterion of `npm run soak` (30 minutes; GC and the registration burst move RSS by a
// few per cent early on), so here memory only has to stay within 25 % of its post-warm-up level.

import { describe, expect, it } from 'vitest';
import { formatSoakReport, runSoak } from '../../tools/fuzz/soak.ts';

describe('soak (short)', () => {
  it('a minute of mixed load: alive, no error logged, memory flat within 25 %', async () => {
    const r = await runSoak({ minutes: 1, warmupSeconds: 30, peers: 500, junkRate: 200, scale: 0.5, sampleSeconds: 3, seed: 14 });
    console.log(formatSoakReport(r));
    expect(r.alive).toBe(true);
    expect(r.logProblems).toEqual([]);
    expect(r.stages.relay.answered).toBeGreaterThan(0);
    expect(r.rendezvousSent).toBeGreaterThan(0);
    expect(r.stages.admit.extra.admitted).toBeGreaterThan(0);
    expect(r.rssGrowth).toBeLessThan(0.25);
  }, 240_000);
});
