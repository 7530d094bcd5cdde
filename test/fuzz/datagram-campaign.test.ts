// CI gate for the datagram part of the abuse campaign (tools/fuzz/datagrams.ts): 100k hostile
// datagrams against a spawned root in each UDP transport (native batch, then dgram), at a bounded
// rate from 128 loopback /24s. The root must stay up, log nothing at error level, keep answering
// known peers, and give unauthenticated sources less than a byte back per byte; every category
// must have reached the code it aims at (its drop reasons show in /metrics), the native HELLO path
// included (ztroot_native_hello_answers_total).

import { describe, expect, it } from 'vitest';
import { nativeUdpAvailability } from '../../src/node/batch-udp.ts';
import { CATEGORY_NAMES, NETWORK_CATEGORIES } from '../../tools/fuzz/corpus.ts';
import { datagramFailures, formatDatagramReport, runDatagramCampaign } from '../../tools/fuzz/datagrams.ts';

const native = nativeUdpAvailability();

describe('datagram campaign', () => {
  for (const mode of ['on', 'off'] as const) {
    it.skipIf(mode === 'on' && !native.ok)(`--native-udp ${mode}: 100k hostile datagrams; the root stays up, quiet and answering`, async () => {
      const r = await runDatagramCampaign({ packets: 100_000, seed: mode === 'on' ? 14 : 15, rate: 20_000, nativeUdp: mode, socketsPerCategory: 16 });
      console.log(formatDatagramReport(r));
      expect(datagramFailures(r)).toEqual([]);
      expect(r.transport).toMatch(mode === 'on' ? /native batch/ : /dgram/);
      for (const c of CATEGORY_NAMES.filter((c) => !r.skipped[c])) expect(r.categories[c].sent).toBeGreaterThan(1000);
      expect(Object.keys(r.skipped).sort()).toEqual([...NETWORK_CATEGORIES].sort()); // those aim at a leaf
      // each kind of hostility reached its code: header checks, MACs, LZ4, fragments, identities, relaying
      for (const reason of ['too-short', 'bad-mac', 'decompress-failed', 'fragment-rejected', 'bad-payload', 'hello-address-mismatch', 'hop-limit', 'relay-unknown-destination']) {
        expect(r.drops[reason] ?? 0, reason).toBeGreaterThan(0);
      }
      expect(r.reassemblyInFlight).toBeLessThanOrEqual(64);
      // with the batch addon, known peers' HELLOs in the hostile stream met its native HELLO path
      if (mode === 'on') expect(r.nativeHelloAnswers).toBeGreaterThan(0);
      else expect(r.nativeHelloAnswers).toBe(0);
    }, 180_000);
  }
});
