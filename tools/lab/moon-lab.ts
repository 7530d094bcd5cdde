// The NAT lab's nodes (nat-lab.ts): a root on its "public" address, named by a moon, and one
// leaf runner (leaf-runner.ts) behind each NAT site, orbiting that moon — what the NAT
// end-to-end tests start from before each adds its own part.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { LEAF_RUNNER, NODE } from './lab-root.ts';
import { LeafClient } from './leaf-client.ts';
import type { NatLab } from './nat-lab.ts';
import type { NetnsLab } from './netns.ts';

export interface MoonRootHome {
  /** A new temporary home: identity.secret, and the moon in moons.d. */
  home: string;
  /** The root's address, 10 hex digits. */
  address: string;
  /** The moon file for the leaves (in the home, outside moons.d). */
  moonFile: string;
}

/** A home for a new root identity and a moon (its ID the root's address) naming it at `endpoint`. */
export function moonRootHome(prefix: string, endpoint: IpAddress): MoonRootHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const identity = generateIdentity();
  writeFileSync(join(home, 'identity.secret'), identity.toString(true), { mode: 0o600 });
  const signingKey = generateKeyPair();
  const moon = World.make({
    type: WorldType.moon, id: BigInt(identity.address), timestamp: BigInt(Date.now()), updatesMustBeSignedBy: signingKey.publicKey,
    roots: [{ identity: identity.publicOnly(), stableEndpoints: [endpoint] }],
  }, signingKey);
  mkdirSync(join(home, 'moons.d'), { mode: 0o700 });
  writeFileSync(join(home, 'moons.d', moon.fileName), moon.serialize());
  const moonFile = join(home, 'leaf.moon');
  writeFileSync(moonFile, moon.serialize());
  return { home, address: formatAddress(identity.address), moonFile };
}

/**
 * One leaf runner behind each NAT site of `net` (named "leaf A", "leaf B", …) with `moonFile`;
 * resolves once every one is ready and online, with their addresses in site order.
 */
export async function startSiteLeaves(lab: NetnsLab, net: NatLab, moonFile: string, startupMs: number): Promise<{ leaves: LeafClient[]; addresses: string[] }> {
  const leaves = net.sites.map((site, i) =>
    new LeafClient(`leaf ${String.fromCharCode(65 + i)}`, lab.spawn(site.leaf, NODE, [LEAF_RUNNER, '--bind', site.leafIp, '--moon', moonFile])));
  const addresses: string[] = [];
  for (const leaf of leaves) addresses.push((await leaf.waitFor('ready', (e) => e.event === 'ready', startupMs)).address as string);
  for (const leaf of leaves) await leaf.waitFor('online', (e) => e.event === 'online', startupMs);
  return { leaves, addresses };
}
