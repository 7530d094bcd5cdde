// When packet workers cannot share the UDP sockets (no SO_REUSEPORT), the root keeps the first
// worker, logs a warning and serves on. Linux has SO_REUSEPORT, so the test makes the first
// worker bind without it (RootServerOptions.firstThreadExclusive): the kernel then refuses the
// second worker's bind with EADDRINUSE, the same failure the fallback exists for.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type RootConfig } from '../../src/root/config.ts';
import { RootServer } from '../../src/root/root-server.ts';
import { Verb } from '../../src/wire/constants.ts';
import { nativeArmorAvailability } from '../../src/wire/native-armor.ts';
import { decodeOkWhois, encodeWhois } from '../../src/wire/verbs/whois.ts';
import { tempDir } from '../support/cli.ts';
import { endpointOf, RawPeer, recordingLogger, removeDirs, VECTOR_IDENTITIES, writeRootHome, type LogEntry } from '../support/root-harness.ts';

const [rootId, leafA, leafB] = VECTOR_IDENTITIES;


describe.each(['auto', 'off'] as const)('a root whose packet workers cannot share sockets (native UDP: %s)', (nativeUdp) => {
  const logged: LogEntry[] = [];
  let home: string;
  let root: RootServer;
  let peers: RawPeer[] = [];

  beforeAll(async () => {
    home = tempDir('ztroot-reuseport-');
    writeRootHome(home, rootId);
    const config: RootConfig = {
      ...defaultConfig(), home, bind: ['127.0.0.1'], ports: [0], workers: 2, nativeUdp,
      validationThreads: 1, httpListen: '', logLevel: 'warn', // (the workers' own log lines go to stderr)
    };
    root = new RootServer({ config, log: recordingLogger(logged), firstThreadExclusive: true });
    await root.start();
    peers = await Promise.all([leafA, leafB].map((id) => RawPeer.open(id)));
  });

  afterAll(async () => {
    for (const p of peers) await p.close();
    await root?.stop();
    if (home) removeDirs([home]);
  });

  it('starts with one of the two workers and says why', () => {
    expect(root.workerCount).toBe(2);
    expect(root.runningWorkers).toBe(1);
    const warnings = logged.filter((e) => e.level === 'warn');
    expect(warnings.map((e) => e.msg)).toEqual(['packet workers could not share the UDP sockets (SO_REUSEPORT unavailable?); running with one worker']);
    expect(String(warnings[0].fields?.error)).toMatch(/EADDRINUSE/);
    const started = logged.find((e) => e.msg === 'root started');
    expect(started?.fields?.workers).toBe(1);
    expect(started?.fields?.armor).toBe(nativeArmorAvailability().ok ? 'native' : 'typescript');
    expect(root.sockets).toHaveLength(1);
  });

  it('admits peers and answers WHOIS on the remaining worker', async () => {
    const endpoint = endpointOf(root.sockets[0]);
    for (const p of peers) await p.register(endpoint, rootId);
    expect(root.store.size).toBe(peers.length);
    const [asker] = peers;
    const id = asker.send(endpoint, rootId, Verb.WHOIS, encodeWhois({ addresses: peers.map((p) => p.address) }));
    const ok = decodeOkWhois((await asker.reply(rootId, id)).payload);
    expect(ok.ok && ok.value.identities.map((i) => i.toString())).toEqual(peers.map((p) => p.identity.publicOnly().toString()));
  });

  it('reports the counters of the one running worker', async () => {
    const m = await root.refreshMetrics();
    expect(m.eventLoopLagSeconds.map((l) => l.worker)).toEqual(['main', '0']);
    expect(m.stats.validationsValid).toBe(peers.length);
  });
});
