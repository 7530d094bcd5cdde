// Root persistence and reloads over real UDP on 127.0.0.1: identities survive a stop and a
// kill -9 (answered by WHOIS from the on-disk cache without validating again), and SIGHUP
// re-reads moons.d (docs/protocol/08-root-behaviour.md §3, docs/protocol/09-local-api-and-cli.md §1).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Identity } from '../../src/identity/identity.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { ErrorCode, Verb } from '../../src/wire/constants.ts';
import { decodeError } from '../../src/wire/verbs/error.ts';
import { decodeOkHello } from '../../src/wire/verbs/hello.ts';
import { decodeOkWhois, encodeWhois } from '../../src/wire/verbs/whois.ts';
import { tempDir } from '../support/cli.ts';
import {
  helloMoon, makeWorld, RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, writeRootHome, type TestRoot,
} from '../support/root-harness.ts';
import { RootProcess } from '../support/root-process.ts';
import { toHex } from '../support/vectors.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';

const [rootId, idA, idB, idClaimant, , , idProcessRoot, idReloadRoot] = VECTOR_IDENTITIES;

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  removeDirs(dirs);
});

async function openPeer(identity: Identity): Promise<RawPeer> {
  const p = await RawPeer.open(identity);
  cleanups.push(() => p.close());
  return p;
}

/** WHOIS `addresses` and return the identities answered (as public strings). */
async function whois(p: RawPeer, via: IpAddress, root: Identity, addresses: number[]): Promise<string[]> {
  const id = p.send(via, root, Verb.WHOIS, encodeWhois({ addresses }));
  const ok = decodeOkWhois((await p.reply(root, id)).payload);
  if (!ok.ok) throw new Error(`bad OK(WHOIS): ${ok.error}`);
  return ok.value.identities.map((i) => i.toString());
}

describe('restart (in process)', () => {
  it('answers WHOIS for identities known before the stop, without validating them again', async () => {
    const first = await startTestRoot({ identity: rootId });
    dirs.push(first.home);
    cleanups.push(() => first.stop());
    const a = await openPeer(idA);
    const b = await openPeer(idB);
    await a.register(first.endpoint, rootId);
    await b.register(first.endpoint, rootId);
    expect(first.root.node.stats.validationsValid).toBe(2);
    await first.stop();

    const second: TestRoot = await startTestRoot({ identity: rootId, home: first.home });
    cleanups.push(() => second.stop());
    expect(second.root.store.size).toBe(2);
    expect(second.root.node.peers.size).toBe(0);
    await a.register(second.endpoint, rootId); // HELLO again: admitted from the cache
    expect(await whois(a, second.endpoint, rootId, [idB.address, idA.address])).toEqual([idB, idA].map((i) => i.publicOnly().toString()));
    expect(second.root.node.stats.validationsValid).toBe(0);
    expect(second.root.node.stats.validationsInvalid).toBe(0);

    // an address known only from the cache is still protected against a second identity
    const claimant = new Identity(idB.address, idClaimant.publicKey, idClaimant.privateKey);
    const c = await openPeer(idClaimant);
    const helloId = c.hello(second.endpoint, rootId, { as: claimant });
    const e = decodeError((await c.reply(rootId, helloId, { as: claimant })).payload);
    expect(e.ok && e.value.errorCode).toBe(ErrorCode.IDENTITY_COLLISION);
    expect(second.root.store.get(idB.address)?.equals(idB)).toBe(true);
  });
});

describe('ztroot root as a child process', () => {
  function processHome(identity: Identity): string {
    const home = tempDir('ztroot-proc-');
    dirs.push(home);
    writeRootHome(home, identity);
    return home;
  }

  async function spawnRoot(home: string): Promise<RootProcess> {
    const p = await RootProcess.start(home);
    cleanups.push(() => p.stop('SIGKILL'));
    return p;
  }

  it('still answers WHOIS for a registered leaf after kill -9 and a restart on the same home', async () => {
    const home = processHome(idProcessRoot);
    const a = await openPeer(idA);
    const b = await openPeer(idB);

    const before = await spawnRoot(home);
    await a.register(before.udpEndpoint, idProcessRoot);
    await b.register(before.udpEndpoint, idProcessRoot);
    expect(await whois(a, before.udpEndpoint, idProcessRoot, [idB.address])).toEqual([idB.publicOnly().toString()]);
    await before.stop('SIGKILL');
    expect((await before.exited).signal).toBe('SIGKILL');

    const after = await spawnRoot(home);
    await a.register(after.udpEndpoint, idProcessRoot);
    expect(await whois(a, after.udpEndpoint, idProcessRoot, [idB.address, idA.address])).toEqual([idB, idA].map((i) => i.publicOnly().toString()));
    await after.stop('SIGTERM');
    expect((await after.exited).code).toBe(0);
  });

  it('re-reads moons.d on SIGHUP: a moon added afterwards is served to a HELLO that lists it with timestamp 0', async () => {
    const home = processHome(idReloadRoot);
    const moon = makeWorld({ type: 'moon', id: 0x0000_00cc_dd00_0001n, timestamp: 4242n, roots: [{ identity: idReloadRoot, endpoints: [] }] });
    const a = await openPeer(idA);
    const root = await spawnRoot(home);
    const wantMoon = { moons: [helloMoon(moon.id, 0n)] };

    const worldsIn = (r: Awaited<ReturnType<RawPeer['register']>>): string => {
      const ok = decodeOkHello(r.payload);
      if (!ok.ok || !ok.value.worlds) throw new Error('OK(HELLO) without a world section');
      return toHex(ok.value.worlds);
    };
    expect(worldsIn(await a.register(root.udpEndpoint, idReloadRoot, wantMoon))).toBe('');

    writeFileSync(join(home, HOME_FILES.moonsDir, moon.fileName), moon.serialize());
    root.child.kill('SIGHUP');
    await root.waitFor(() => root.logLines('worlds reloaded').length === 1, 'the reload log line');
    expect(root.logLines('worlds reloaded')[0].worlds).toEqual([moon.idHex]);
    // register() repeats the HELLO past the root's 250 ms reply spacing
    expect(worldsIn(await a.register(root.udpEndpoint, idReloadRoot, wantMoon))).toBe(toHex(moon.serialize()));
    expect(root.running).toBe(true);
  });
});
