// CI gate for the HTTP part of the abuse campaign (tools/fuzz/http.ts): every route with missing
// and wrong tokens, path tricks, other methods, malformed, huge, truncated and slow requests,
// slowloris and many connections at once, against the one listener as each role serves it — a
// spawned root, leaf and controller node. Bounded: the slowest check waits for the listener's
// request timeout (HTTP_LIMITS), with generous slack.

import { describe, expect, it } from 'vitest';
import { formatHttpReport, httpFailures, runHttpCampaign } from '../../tools/fuzz/http.ts';

describe('HTTP campaign', () => {
  it.each(['root', 'leaf', 'controller'] as const)('every route of the %s keeps its token, status codes and limits; the process stays up with bounded memory', async (role) => {
    const r = await runHttpCampaign({ role, seed: 14, slowConnections: 60, concurrent: 200 });
    console.log(formatHttpReport(r));
    expect(httpFailures(r)).toEqual([]);
    expect(r.checks.length).toBeGreaterThan(250);
  }, 180_000);
});
