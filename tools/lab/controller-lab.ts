// A `ztroot root --controller` and leaves on one private network of it, as the leaf end-to-end
// tests and the leaf fuzz campaign build them: a lab planet with the root in it, a network with a
// managed IPv4 pool, and members that join it and are authorized through the controller API.
// The root may run in this process, as a child process or in a network namespace: the lab only
// needs its identity, its UDP endpoint and a way to call its API. Embedded leaves (LeafNode,
// Ethernet through the program, `ethernet: 'frames'`) are started by addLeaf; a leaf daemon in a
// namespace takes labHome() and authorize() alone.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress, type Address } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { LeafNode, type LeafNodeOptions } from '../../src/leaf/leaf-node.ts';
import type { VirtualEthernet } from '../../src/leaf/virtual-ethernet.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { until } from './until.ts';

/** The controller API: JSON body in, parsed JSON out; throws on an error status. */
export type ControllerApi = (method: string, path: string, body?: unknown) => Promise<any>;

export interface LabNetworkSpec {
  name: string;
  /** Three octets ("10.147.19"): route `<subnet>.0/24`, members get addresses from .10 to .20. */
  subnet: string;
  rules?: unknown[];
  mtu?: number;
}

/** A planet whose one root is `root` at `endpoint`, signed with a key made for it. */
export function labPlanet(id: bigint, root: Identity, endpoint: IpAddress): World {
  const signer = generateKeyPair();
  return World.make({
    type: WorldType.planet, id, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
    roots: [{ identity: root.publicOnly(), stableEndpoints: [endpoint] }],
  }, signer);
}

/** A new temporary node home (`prefix` names it) holding identity.secret, the planet and an empty moons.d. */
export function labHome(prefix: string, identity: Identity, planet: World): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, 'moons.d'));
  writeFileSync(join(home, 'identity.secret'), identity.toString(true), { mode: 0o600 });
  writeFileSync(join(home, 'planet'), planet.serialize());
  return home;
}

/** Create a private network on the controller with managed IPv4 (LabNetworkSpec); returns its 16-hex-digit ID. */
export async function createLabNetwork(api: ControllerApi, controller: Address, spec: LabNetworkSpec): Promise<string> {
  const created = await api('POST', `/controller/network/${formatAddress(controller)}______`, {
    name: spec.name, private: true, v4AssignMode: { zt: true }, ...(spec.mtu === undefined ? {} : { mtu: spec.mtu }),
    ...(spec.rules === undefined ? {} : { rules: spec.rules }),
    routes: [{ target: `${spec.subnet}.0/24` }], ipAssignmentPools: [{ ipRangeStart: `${spec.subnet}.10`, ipRangeEnd: `${spec.subnet}.20` }],
  });
  return created.id as string;
}

/** Authorize a member of a network (with any other member fields, e.g. tags). */
export async function authorize(api: ControllerApi, networkId: string, member: Address, fields: Record<string, unknown> = {}): Promise<void> {
  await api('POST', `/controller/network/${networkId}/member/${formatAddress(member)}`, { authorized: true, ...fields });
}

export interface ControllerLabOptions {
  /** The root's (and controller's) identity. */
  root: Identity;
  /** Its UDP endpoint. */
  endpoint: IpAddress;
  api: ControllerApi;
  planetId: bigint;
  network: LabNetworkSpec;
}

/** Options of every embedded lab leaf: loopback, a random port, Ethernet through the program. */
const EMBEDDED_LEAF: Omit<LeafNodeOptions, 'home'> = { bind: ['127.0.0.1'], port: 0, allowLoopbackPaths: true, ethernet: 'frames' };

export class ControllerLab {
  readonly planet: World;
  /** The network's ID, as the API writes it. */
  readonly networkId: string;
  readonly nwid: bigint;
  readonly leaves: LeafNode[] = [];
  private readonly api: ControllerApi;
  private readonly homes: string[] = [];

  private constructor(planet: World, api: ControllerApi, networkId: string) {
    this.planet = planet;
    this.api = api;
    this.networkId = networkId;
    this.nwid = BigInt(`0x${networkId}`);
  }

  /** The planet and the network (no members yet). */
  static async create(o: ControllerLabOptions): Promise<ControllerLab> {
    const planet = labPlanet(o.planetId, o.root, o.endpoint);
    return new ControllerLab(planet, o.api, await createLabNetwork(o.api, o.root.address, o.network));
  }

  /**
   * Start an embedded leaf with this identity (EMBEDDED_LEAF plus `options`), join it to the
   * network and authorize it (with `member` fields). It is configured some time later: configured().
   */
  async addLeaf(identity: Identity, options: Partial<LeafNodeOptions> = {}, member: Record<string, unknown> = {}): Promise<LeafNode> {
    const home = labHome('ztroot-lab-leaf-', identity, this.planet);
    this.homes.push(home);
    const leaf = new LeafNode({ ...EMBEDDED_LEAF, home, ...options });
    await leaf.start();
    this.leaves.push(leaf);
    leaf.join(this.nwid);
    await authorize(this.api, this.networkId, identity.address, member);
    return leaf;
  }

  /** Every leaf's Ethernet side, once each has its network config. */
  async configured(timeoutMs = 30_000): Promise<VirtualEthernet[]> {
    const out: VirtualEthernet[] = [];
    for (const [i, leaf] of this.leaves.entries()) out.push(await until(`member ${i} configured`, () => leaf.ethernet(this.nwid), timeoutMs));
    return out;
  }

  /** Stop the leaves and remove their homes (the root is its owner's to stop). */
  async stop(): Promise<void> {
    for (const leaf of this.leaves.splice(0)) await leaf.stop();
    for (const home of this.homes.splice(0)) rmSync(home, { recursive: true, force: true });
  }
}
