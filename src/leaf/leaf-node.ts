// `ztroot leaf`: a node that does what a zerotier-one leaf does, on a zerotier-one home directory:
// it lives in its planet, orbits moons (by file or by seed, kept in moons.d), joins networks (kept
// in networks.d and rejoined at start), and answers the local API that zerotier-cli and the
// controller UIs read (docs/protocol/09-local-api-and-cli.md §3–§4). The packets are the core's (SimpleLeaf's
// node); membership is NetworkMember's; each configured network gets a TAP device (NetworkPort)
// where the host allows it — without one the node stays up and the network reports portError.

import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { formatAddress, type Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import type { Json } from '../api/http-listener.ts';
import { moonJson, peerJson, statusJson } from '../api/node-json.ts';
import type { NodeApiView } from '../api/node-routes.ts';
import type { NativeUdpMode } from '../node/batch-udp.ts';
import { choosePlanet, loadWorldFiles, saveWorldFile } from '../node/topology.ts';
import { PATH_EXPIRATION_MS } from '../node/peer.ts';
import { ensureHome, HOME_FILES, HomeError, loadOrCreateIdentity, loadOrCreateMetricsToken } from '../root/home.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { NetconfFlag, NetworkType, SpecialistFlag } from '../wire/constants.ts';
import { formatInetAddress, formatIp, type InetAddress, type IpAddress } from '../wire/inet-address.ts';
import { formatMac, macFromAddress } from '../wire/mac.ts';
import { decodeNetworkConfig, encodeNetworkConfig, type NetworkConfig } from '../wire/netconf/network-config.ts';
import type { World } from '../world/world.ts';
import {
  DEFAULT_NETWORK_SETTINGS, forgetNetwork, joinedNetworks, LEAF_FILES, saveJoined, saveNetworkConfig, saveNetworkSettings,
  type NetworkSettings,
} from './leaf-home.ts';
import { NetworkMember, type MemberNetwork } from './network-member.ts';
import { FrameCounts, NetworkPort, type EthernetMode } from './network-port.ts';
import type { VirtualEthernet } from './virtual-ethernet.ts';
import { SimpleLeaf } from './simple-leaf.ts';
import { hex64 } from '../util/hex.ts';

export interface LeafNodeOptions {
  home: string;
  /** Local IPs for UDP (empty: every local address). */
  bind: string[];
  /** Primary UDP port (0: any). */
  port: number;
  /** Secondary UDP port on every address, as zerotier-one binds one (default 0: random; 'off': none). */
  secondaryPort?: number | 'off';
  /** The planet: a file or "public"; unset, `<home>/planet` (never the public planet unless named). */
  planet?: string;
  /** Loopback tests only: 1.14 never uses loopback paths. */
  allowLoopbackPaths?: boolean;
  /**
   * How networks meet this side: TAP devices on the host ('tap', the default), Ethernet frames for
   * the program that embeds the leaf ('frames': leaf.ethernet(nwid)), or nothing ('none').
   */
  ethernet?: EthernetMode;
  /** Ping check period (1.14: 5 s); tests shorten it. */
  pingIntervalMs?: number;
  /** UDP through the batch addon: 'auto' (default), 'on' or 'off' (dgram). */
  nativeUdp?: NativeUdpMode;
  log?: Logger;
}


export class LeafNode implements NodeApiView {
  readonly home: string;
  readonly identity: Identity;
  readonly leaf: SimpleLeaf;
  readonly member: NetworkMember;
  private readonly settings = new Map<bigint, NetworkSettings>();
  private readonly ports = new Map<bigint, NetworkPort>();
  /** Frames in and out of every network, for /metrics. */
  readonly frames = new FrameCounts();
  private readonly ethernetMode: EthernetMode;
  private readonly log: Logger;
  /** What could not be saved in the home (read-only, full): said once in the log until a save works again. */
  private readonly unsaved = new Set<string>();

  constructor(options: LeafNodeOptions) {
    this.home = options.home;
    this.log = options.log ?? silentLogger;
    this.ethernetMode = options.ethernet ?? 'tap';
    ensureHome(options.home);
    mkdirSync(join(options.home, LEAF_FILES.networksDir), { recursive: true, mode: 0o700 });
    const writable = homeWritable(options.home);
    if (writable !== true) {
      if (!existsSync(join(options.home, HOME_FILES.identitySecret))) {
        throw new HomeError(`home ${options.home} cannot be written (${writable}) and holds no ${HOME_FILES.identitySecret} to run with`);
      }
      this.log.warn('the home cannot be written: joins, network configs and worlds take effect but are not saved', { home: options.home, error: writable });
    }
    this.identity = loadOrCreateIdentity(options.home).identity;
    const worlds = loadWorldFiles(options.home);
    for (const p of worlds.problems) this.log.warn('world file ignored', { problem: p });
    const planet = choosePlanet(options.planet, worlds.planet);
    if (!planet) this.log.warn('no planet: this leaf lives in no planet (give one with --planet FILE, or --planet public)');
    this.leaf = new SimpleLeaf({
      identity: this.identity, planet, moons: worlds.moons, bind: options.bind, port: options.port,
      secondaryPort: options.secondaryPort === 'off' ? undefined : options.secondaryPort ?? 0,
      allowLoopbackPaths: options.allowLoopbackPaths, pingIntervalMs: options.pingIntervalMs, nativeUdp: options.nativeUdp,
    });
    this.member = new NetworkMember(this.leaf);
    this.leaf.on('world', (w) => this.saveWorld(w));
    this.member.on('config', (nwid, config) => {
      if (!this.member.networks.has(nwid)) return;
      this.persist('network config', () => saveNetworkConfig(this.home, nwid, encodeNetworkConfig(config)));
      this.applyConfig(nwid, config);
    });
  }

  get address(): Address {
    return this.identity.address;
  }

  async start(): Promise<void> {
    await this.leaf.start();
    this.persist('port file', () => writeFileAtomic(join(this.home, LEAF_FILES.port), String(this.primaryPort)));
    for (const saved of joinedNetworks(this.home)) {
      const n = this.joinInMemory(saved.nwid, saved.settings);
      // the last config applies until the controller sends a fresh one, as in 1.14
      const d = saved.config ? decodeNetworkConfig(saved.config) : undefined;
      if (d?.ok && d.value.networkId === saved.nwid && d.value.issuedTo === this.address) {
        n.config = d.value;
        n.status = 'OK';
        this.applyConfig(saved.nwid, d.value);
      }
    }
  }

  async stop(): Promise<void> {
    for (const p of this.ports.values()) p.close();
    this.ports.clear();
    this.member.close();
    await this.leaf.stop();
  }

  /**
   * The Ethernet of a configured network for a program embedding this leaf (`ethernet: 'frames'`):
   * 'frame' events from the network, send(frame) to it. Undefined until the network is configured.
   */
  ethernet(nwid: bigint): VirtualEthernet | undefined {
    return this.ports.get(nwid)?.virtual;
  }

  /** Online as 1.14 counts it: heard from an upstream within 500 s. */
  get online(): boolean {
    return this.leaf.online;
  }

  get primaryPort(): number {
    return this.leaf.sockets[0]?.port ?? 0;
  }

  /** A network's config arrived (or was loaded): its port takes the device settings. */
  private applyConfig(nwid: bigint, config: NetworkConfig): void {
    let port = this.ports.get(nwid);
    if (!port) {
      port = new NetworkPort(this.leaf, this.member, nwid, this.frames, this.ethernetMode, this.log);
      this.ports.set(nwid, port);
    }
    const p = port;
    p.apply(config, this.settings.get(nwid) ?? DEFAULT_NETWORK_SETTINGS).then(() => {
      if (p.deviceError) this.log.warn('network has no Ethernet device', { network: hex64(nwid), reason: p.deviceError });
    }, (e: unknown) => this.log.error('could not configure the network device', { network: hex64(nwid), error: (e as Error).message }));
  }

  /** A world a root sent that the core took: saved where a restart finds it. */
  private saveWorld(w: World): void {
    this.persist('world', () => saveWorldFile(this.home, w));
  }

  /**
   * metricstoken.secret, made if missing. On a home that cannot be written, a random token kept in
   * memory only, which nobody knows: /metrics stays closed rather than the leaf not starting.
   */
  metricsToken(): string {
    let token: string | undefined;
    this.persist('metrics token', () => { token = loadOrCreateMetricsToken(this.home); });
    return token ?? randomBytes(24).toString('hex');
  }

  /**
   * Save something in the home. A home that cannot be written (read-only, full) does not stop the
   * leaf: the change stays in memory, and the log says so once per kind until a save works again.
   */
  private persist(what: string, save: () => void): void {
    try {
      save();
      this.unsaved.delete(what);
    } catch (e) {
      if (this.unsaved.has(what)) return;
      this.unsaved.add(what);
      this.log.warn('not saved in the home: kept in memory only', { what, error: (e as Error).message });
    }
  }

  // ------------------------------------------------------------------------------------------
  // What the local API changes
  // ------------------------------------------------------------------------------------------

  /** orbit: the moon if we have it, else remember the seed and return 1.14's "waiting" placeholder. */
  orbit(moonId: bigint, seed: Address): Json {
    const have = this.leaf.node.topology.moons.find((m) => m.id === moonId);
    if (have) return moonJson(have);
    if (seed !== 0) this.leaf.node.topology.addSeed(moonId, seed);
    return { id: hex64(moonId), roots: [], signature: null, timestamp: 0, updatesMustBeSignedBy: null, waiting: true };
  }

  deorbit(moonId: bigint): void {
    const moon = this.leaf.node.topology.moons.find((m) => m.id === moonId);
    this.leaf.node.topology.removeMoon(moonId);
    if (moon) this.persist('world', () => rmSync(join(this.home, HOME_FILES.moonsDir, moon.fileName), { force: true }));
  }

  join(nwid: bigint, settings: Partial<NetworkSettings> = {}): Json {
    const merged = { ...(this.settings.get(nwid) ?? DEFAULT_NETWORK_SETTINGS), ...settings };
    this.persist('joined network', () => {
      saveJoined(this.home, nwid, merged);
      saveNetworkSettings(this.home, nwid, merged);
    });
    const n = this.joinInMemory(nwid, merged);
    if (n.config) this.applyConfig(nwid, n.config); // settings changed on a configured network
    return this.networkJson(nwid)!;
  }

  private joinInMemory(nwid: bigint, settings: NetworkSettings): MemberNetwork {
    this.settings.set(nwid, settings);
    return this.member.join(nwid);
  }

  /** leave: true if the network was joined. */
  leave(nwid: bigint): boolean {
    const was = this.member.networks.has(nwid);
    this.ports.get(nwid)?.close();
    this.ports.delete(nwid);
    this.member.leave(nwid);
    this.settings.delete(nwid);
    this.persist('joined network', () => forgetNetwork(this.home, nwid));
    return was;
  }

  // ------------------------------------------------------------------------------------------
  // What the local API shows (docs/protocol/09-local-api-and-cli.md §4)
  // ------------------------------------------------------------------------------------------

  statusJson(): Json {
    return statusJson({
      address: formatAddress(this.address), publicIdentity: this.identity.toString(false), online: this.leaf.online, homeDir: this.home,
      listeningOn: this.leaf.sockets.map((s) => `${s.address}/${s.port}`), primaryPort: this.primaryPort, secondaryPort: this.leaf.secondaryPort,
      surfaceAddresses: this.leaf.directPaths.surfaceAddresses().map(formatInetAddress), planet: this.leaf.node.topology.planet,
    });
  }

  peersJson(): Json[] {
    const node = this.leaf.node;
    const now = node.now();
    const upstreams = node.topology.upstreams();
    return [...node.peers.values()].map((p) => {
      const best = p.bestPath();
      const known = p.version.major > 0 || p.version.protocol > 0;
      return peerJson({
        address: formatAddress(p.address),
        version: known ? p.version : undefined,
        role: upstreams.get(p.address)?.role ?? 'LEAF',
        latencyMs: best?.latencyMs,
        // the paths 1.14 would still keep (expired ones go at its next ping check)
        paths: [...p.paths.values()].filter((x) => now - x.lastReceiveMs < PATH_EXPIRATION_MS).map((x) => ({
          address: formatInetAddress(x.remote), lastReceiveMs: x.lastReceiveMs, lastSendMs: x.lastSendMs,
          localSocket: x.socket.index, localPort: x.socket.port, preferred: x === best,
        })),
      });
    });
  }

  moonsJson(): Json[] {
    return this.leaf.node.topology.moons.map(moonJson);
  }

  networksJson(): Json[] {
    return [...this.member.networks.keys()].map((nwid) => this.networkJson(nwid)!);
  }

  networkJson(nwid: bigint): Json | undefined {
    const n = this.member.networks.get(nwid);
    if (!n) return undefined;
    const c: NetworkConfig | undefined = n.config;
    const s = this.settings.get(nwid) ?? DEFAULT_NETWORK_SETTINGS;
    const flags = c?.flags ?? 0n;
    const bridge = c?.specialists.some((x) => (x & SpecialistFlag.activeBridge) !== 0n && Number(x & 0xff_ffff_ffffn) === this.address) ?? false;
    return {
      allowDNS: s.allowDNS, allowDefault: s.allowDefault, allowGlobal: s.allowGlobal, allowManaged: s.allowManaged,
      assignedAddresses: (c?.staticIps ?? []).map(cidr),
      bridge,
      broadcastEnabled: (flags & NetconfFlag.enableBroadcast) !== 0n,
      dhcp: false,
      dns: { domain: c?.dns.domain ?? '', servers: (c?.dns.servers ?? []).map((a) => formatIp(a as IpAddress)) },
      id: hex64(nwid),
      mac: formatMac(macFromAddress(this.address, nwid)),
      mtu: c?.mtu ?? 2800,
      multicastSubscriptions: (this.ports.get(nwid)?.subscriptions() ?? []).map((g) => ({ adi: g.adi, mac: formatMac(g.mac) })),
      name: c?.name ?? '',
      netconfRevision: Number(c?.revision ?? 0n),
      nwid: hex64(nwid),
      portDeviceName: this.ports.get(nwid)?.deviceName ?? '',
      portError: this.ports.get(nwid)?.deviceError ? -1 : 0,
      routes: (c?.routes ?? []).map((r) => ({
        flags: r.flags, metric: r.metric, target: cidr(r.target), via: r.via.family === 0 ? null : formatIp(r.via as IpAddress),
      })),
      status: n.status,
      type: c?.type === NetworkType.public ? 'PUBLIC' : 'PRIVATE',
    };
  }
}

/** true, or why the home cannot be written (a read-only mount refuses root too: EROFS). */
function homeWritable(home: string): true | string {
  try {
    accessSync(home, constants.W_OK);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/** "IP/bits" (the InetAddress carries the prefix length in its port). */
function cidr(a: InetAddress): string {
  return a.family === 0 ? '' : `${formatIp(a as IpAddress)}/${(a as IpAddress).port}`;
}
