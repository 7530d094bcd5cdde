// The Ethernet side of one joined network (docs/protocol/04-verbs.md §7, §8, §10, §13, §14): a TAP
// device on the host, frames between it and the network's members.
// - host → network: unicast to a member's MAC becomes a FRAME to that member; broadcast and
//   multicast go as MULTICAST_FRAME to the group's subscribers, found with MULTICAST_GATHER at the
//   roots (an ARP request is sent to its target's group: broadcast MAC, ADI = the IPv4 address);
// - network → host: FRAME, EXT_FRAME and MULTICAST_FRAME from members whose COM we accept;
// - our subscriptions (ARP groups of our addresses, broadcast, and what the host joined on the
//   device, read from /proc/net/dev_mcast) announced to the roots with MULTICAST_LIKE every 60 s;
// - our credentials pushed to a member before we send it frames (NetworkMember.pushCredentials
//   rate-limits it).
// Every frame in either direction first passes the network's rules (rules-filter.ts), judged with
// what the other member showed us; the TEE/WATCH copies and REDIRECTs they ask for go out as
// EXT_FRAME (rule-forwarding.ts). Only frames from our own MAC leave (no bridging yet).

import { readFileSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
import type { Address } from '../identity/address.ts';
import type { Inbound } from '../node/node.ts';
import type { Peer } from '../node/peer.ts';
import type { DropReason } from '../node/stats.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { ExtFrameFlag, NetconfFlag, Verb } from '../wire/constants.ts';
import { addressFromMac, arpGroupFor, BROADCAST_GROUP, ETHERNET_HEADER_LENGTH, formatMac, isMulticastMac, macFromAddress, macFromBytes, type MulticastGroup } from '../wire/mac.ts';
import type { NetworkConfig } from '../wire/netconf/network-config.ts';
import { decodeExtFrame, encodeOkExtFrame } from '../wire/verbs/ext-frame.ts';
import { copyPayload, type PacketPayload } from '../wire/packet.ts';
import { FRAME_HEADER_LENGTH, writeFrameHeader } from '../wire/verbs/frame.ts';
import { decodeMulticastFrame, encodeMulticastFrame } from '../wire/verbs/multicast-frame.ts';
import { decodeOkMulticastGather, encodeMulticastGather } from '../wire/verbs/multicast-gather.ts';
import { encodeMulticastLike } from '../wire/verbs/multicast-like.ts';
import type { NetworkSettings } from './leaf-home.ts';
import type { NetworkMember } from './network-member.ts';
import type { SimpleLeaf } from './simple-leaf.ts';
import { filterFrame, type FilteredFrame, type FilterVerdict } from './rules-filter.ts';
import { forwardedFrames } from './rule-forwarding.ts';
import type { RemoteCredentials } from './remote-credentials.ts';
import { managedPlan } from './managed-plan.ts';
import { configureTap, openTap, tapDeviceName, type EthernetDevice, type TapApplied } from './tap-device.ts';
import { VirtualEthernet } from './virtual-ethernet.ts';

/**
 * What carries a network's frames on this side: a TAP device on the host, a VirtualEthernet for
 * the program embedding the leaf, or nothing (the node only keeps its membership).
 */
export type EthernetMode = 'tap' | 'frames' | 'none';

const second = 1000;
/** ZT_MULTICAST_ANNOUNCE_PERIOD: subscriptions re-announced this often. */
const ANNOUNCE_INTERVAL_MS = 60 * second;
/** Gathered subscribers of a group are asked for again after this. */
const GATHER_REFRESH_MS = 30 * second;
/** Frames held for a group while its first gather is out. */
const PENDING_MULTICAST_FRAMES = 16;
/** Multicast groups remembered at once (junk from the host must not grow them without bound). */
const MAX_GROUPS = 1024;
/** Names tried when a device name is taken (1.14 tries more; nine is plenty on one host). */
const NAME_TRIALS = 9;
const ETHERTYPE_ARP = 0x0806;

/** Frames between the networks and this side, over every network of the node (for /metrics). */
export class FrameCounts {
  /** From the host (device or program) to the network, and from the network to the host. */
  out = 0;
  in = 0;
  /** Dropped by the network's rules, by direction. */
  readonly dropped = { outbound: 0, inbound: 0 };
}

interface GroupState { members: Address[]; askedMs: number; pending: { etherType: number; payload: Uint8Array }[] }

export class NetworkPort {
  readonly nwid: bigint;
  private readonly leaf: SimpleLeaf;
  private readonly member: NetworkMember;
  private readonly log: Logger;
  private readonly mac: number;
  private device: EthernetDevice | undefined;
  private readonly mode: EthernetMode;
  /** Why there is no device (no addon, no permission), for the API's portError and the log. */
  deviceError: string | undefined;
  private applied: TapApplied = { addresses: [], routes: [] };
  private config: NetworkConfig | undefined;
  private readonly groups = new LRUCache<string, GroupState>({ max: MAX_GROUPS });
  private readonly announceTimer: NodeJS.Timeout;
  private readonly onPacket = (peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void => this.fromPeer(peer, verb, payload, inbound);
  private readonly onFrame = (nwid: bigint, source: Address, f: { etherType: number; payload: Uint8Array }): void => {
    if (nwid === this.nwid) this.toHost(source, this.mac, macFromAddress(source, nwid), f.etherType, f.payload, 'frame');
  };
  private readonly counts: FrameCounts;
  /** FRAME's header for the frame being sent (reused: each packet is built before the next frame). */
  private readonly frameHeader = new Uint8Array(FRAME_HEADER_LENGTH);

  constructor(leaf: SimpleLeaf, member: NetworkMember, nwid: bigint, counts: FrameCounts, mode: EthernetMode = 'tap', log: Logger = silentLogger) {
    this.counts = counts;
    this.mode = mode;
    this.leaf = leaf;
    this.log = log;
    this.member = member;
    this.nwid = nwid;
    this.mac = macFromAddress(leaf.address, nwid);
    leaf.on('packet', this.onPacket);
    member.on('frame', this.onFrame);
    this.announceTimer = setInterval(() => this.announce(), ANNOUNCE_INTERVAL_MS);
    this.announceTimer.unref();
  }

  get deviceName(): string {
    return this.device?.name ?? '';
  }

  /** The program's Ethernet for this network ('frames' mode), once the network is configured. */
  get virtual(): VirtualEthernet | undefined {
    return this.device instanceof VirtualEthernet ? this.device : undefined;
  }

  /** A (new) config: open the device if needed, apply MAC, MTU, addresses and routes, announce. */
  async apply(config: NetworkConfig, settings: NetworkSettings): Promise<void> {
    this.config = config;
    if (!this.device && this.mode === 'frames') this.device = new VirtualEthernet(this.mac, (f) => this.fromHost(f));
    if (!this.device && this.mode === 'none') this.deviceError = 'no Ethernet device (ethernet: none)';
    if (!this.device && this.deviceError === undefined) {
      for (let trial = 0; trial < NAME_TRIALS && !this.device; trial++) {
        const opened = openTap(tapDeviceName(this.nwid, trial), (f) => this.fromHost(f));
        if ('reason' in opened) this.deviceError = opened.reason;
        else {
          this.device = opened;
          this.deviceError = undefined;
        }
        if (this.deviceError && !/EBUSY|busy/.test(this.deviceError)) break;
      }
    }
    if (this.device?.kind === 'tap') {
      const { addresses, routes } = managedPlan(config, settings);
      this.applied = configureTap(this.device.name, { mac: formatMac(this.mac), mtu: config.mtu, addresses, routes }, this.applied);
    }
    this.announce();
  }

  close(): void {
    clearInterval(this.announceTimer);
    this.leaf.off('packet', this.onPacket);
    this.member.off('frame', this.onFrame);
    this.device?.close();
    this.device = undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Subscriptions
  // ------------------------------------------------------------------------------------------

  /** Groups we listen to: broadcast, ARP for each of our IPv4 addresses, and the device's own. */
  subscriptions(): MulticastGroup[] {
    const out: MulticastGroup[] = [];
    if (this.config && (this.config.flags & NetconfFlag.enableBroadcast) !== 0n) out.push(BROADCAST_GROUP);
    for (const a of this.config?.staticIps ?? []) if (a.family === 4) out.push(arpGroupFor(a.ip));
    if (this.device?.kind === 'tap') out.push(...deviceMulticastMacs(this.device.name).map((mac) => ({ mac, adi: 0 })));
    return out;
  }

  private announce(): void {
    const subscriptions = this.subscriptions().map((group) => ({ networkId: this.nwid, group }));
    if (subscriptions.length === 0) return;
    const payload = encodeMulticastLike({ subscriptions });
    for (const up of this.leaf.node.topology.upstreams().keys()) this.sendToMember(up, Verb.MULTICAST_LIKE, payload, false);
  }

  // ------------------------------------------------------------------------------------------
  // Host → network
  // ------------------------------------------------------------------------------------------

  /** A frame the host wrote to the device. Never throws: a failure drops the frame and is logged. */
  private fromHost(frame: Uint8Array): void {
    try {
      this.forwardFromHost(frame);
    } catch (e) {
      this.log.error('frame from the host dropped', { network: this.nwid.toString(16), error: (e as Error).message });
    }
  }

  private forwardFromHost(frame: Uint8Array): void {
    if (!this.config) return;
    if (frame.length < ETHERNET_HEADER_LENGTH) return this.drop('frame-too-short');
    const destination = macFromBytes(frame, 0), source = macFromBytes(frame, 6);
    if (source !== this.mac) return this.drop('foreign-source-mac'); // bridging other hosts' frames is not supported yet
    const etherType = (frame[12] << 8) | frame[13];
    const payload = frame.subarray(ETHERNET_HEADER_LENGTH);
    if (payload.length > this.config.mtu) return this.drop('frame-too-big');
    const self = this.leaf.address;
    if (!isMulticastMac(destination)) {
      const to = addressFromMac(destination, this.nwid);
      if (to === self) return;
      const f: FilteredFrame = { inbound: false, ztSource: self, ztDest: to, macSource: source, macDest: destination, etherType, data: payload };
      if (!this.obey(f, filterFrame(this.config, self, f, this.remoteOf(to)))) return;
      this.counts.out++;
      writeFrameHeader(this.frameHeader, this.nwid, etherType);
      this.sendToMember(to, Verb.FRAME, [this.frameHeader, payload]);
      return;
    }
    const f: FilteredFrame = { inbound: false, ztSource: self, ztDest: 0, macSource: source, macDest: destination, etherType, data: payload };
    if (!this.obey(f, filterFrame(this.config, self, f))) return;
    const group = destination === BROADCAST_GROUP.mac && etherType === ETHERTYPE_ARP && payload.length >= 28 && payload[7] === 1
      ? arpGroupFor(payload.subarray(24, 28)) // an ARP request goes to its target's group
      : { mac: destination, adi: 0 };
    this.counts.out++;
    this.multicast(group, etherType, Uint8Array.from(payload));
  }

  private multicast(group: MulticastGroup, etherType: number, payload: Uint8Array): void {
    const key = `${group.mac}/${group.adi}`;
    const now = this.leaf.node.now();
    let g = this.groups.get(key);
    if (!g) {
      g = { members: [], askedMs: -Infinity, pending: [] };
      this.groups.set(key, g);
    }
    if (now - g.askedMs >= GATHER_REFRESH_MS) {
      g.askedMs = now;
      if (g.pending.length < PENDING_MULTICAST_FRAMES) g.pending.push({ etherType, payload });
      const ask = encodeMulticastGather({ networkId: this.nwid, flags: 0, group, gatherLimit: this.config?.multicastLimit ?? 32, com: this.config?.com });
      for (const up of this.leaf.node.topology.upstreams().keys()) this.sendToMember(up, Verb.MULTICAST_GATHER, ask, false);
      if (g.members.length === 0) return;
    }
    this.sendMulticast(group, g.members, etherType, payload);
  }

  private sendMulticast(group: MulticastGroup, members: readonly Address[], etherType: number, payload: Uint8Array): void {
    const frame = encodeMulticastFrame({ networkId: this.nwid, flags: 0, group, etherType, payload });
    const limit = this.config?.multicastLimit ?? 32;
    const self = this.leaf.address;
    for (const m of members.slice(0, limit)) {
      if (m === self || !this.config) continue;
      // each recipient is judged again, without copies (OutboundMulticast::sendOnly)
      const f: FilteredFrame = { inbound: false, ztSource: self, ztDest: m, macSource: this.mac, macDest: group.mac, etherType, data: payload };
      if (this.obey(f, filterFrame(this.config, self, f, this.remoteOf(m)), false)) void this.sendToMember(m, Verb.MULTICAST_FRAME, frame);
    }
  }

  private remoteOf(member: Address): RemoteCredentials | undefined {
    const n = this.member.networks.get(this.nwid);
    return n ? this.member.remoteOf(n, member) : undefined;
  }

  /**
   * Send the copies (unless `copies` is false) and the redirected frame a verdict asks for;
   * returns whether the frame itself goes on as addressed. A drop is counted.
   */
  private obey(f: FilteredFrame, v: FilterVerdict, copies = true): boolean {
    if (v.accept === 0) {
      this.counts.dropped[f.inbound ? 'inbound' : 'outbound']++;
      return false;
    }
    for (const x of forwardedFrames(this.nwid, f, v, copies)) void this.sendToMember(x.to, Verb.EXT_FRAME, x.payload, false);
    return v.redirectTo === undefined;
  }

  /**
   * Send to a node on the network's behalf, our COM first when `withCom` (a 1.14 member of a
   * private network drops frames from members it has no COM for). A node we know is sent to
   * before this returns, so `payload` may be a view into the TAP's read ring; for one we must
   * look up first, the payload is copied and sent when WHOIS answers. Never throws.
   */
  private sendToMember(to: Address, verb: number, payload: PacketPayload, withCom = true): void {
    try {
      if (this.leaf.node.peers.has(to)) {
        for (const c of this.credentialsDue(to, withCom)) this.leaf.sendVerbNow(to, Verb.NETWORK_CREDENTIALS, c);
        this.leaf.sendVerbNow(to, verb, payload);
        return;
      }
    } catch (e) {
      this.log.error('frame to a member dropped', { network: this.nwid.toString(16), error: (e as Error).message });
      return;
    }
    void this.sendToUnknownMember(to, verb, copyPayload(payload), withCom);
  }

  private async sendToUnknownMember(to: Address, verb: number, payload: Uint8Array, withCom: boolean): Promise<void> {
    try {
      for (const c of this.credentialsDue(to, withCom)) await this.leaf.sendVerb(to, Verb.NETWORK_CREDENTIALS, c);
      await this.leaf.sendVerb(to, verb, payload);
    } catch (e) {
      this.log.error('frame to a member dropped', { network: this.nwid.toString(16), error: (e as Error).message });
    }
  }

  /** Our credentials for `to` when `withCom` and they are due (NetworkMember.credentialsDue). */
  private credentialsDue(to: Address, withCom: boolean): Uint8Array[] {
    const n = withCom ? this.member.networks.get(this.nwid) : undefined;
    return n ? this.member.credentialsDue(n, to) : [];
  }

  // ------------------------------------------------------------------------------------------
  // Network → host
  // ------------------------------------------------------------------------------------------

  private fromPeer(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void {
    const n = this.member.networks.get(this.nwid);
    if (!n) return;
    if (verb === Verb.OK && payload[0] === Verb.MULTICAST_GATHER) {
      const ok = decodeOkMulticastGather(payload);
      if (!ok.ok || ok.value.networkId !== this.nwid) return;
      const g = this.groups.get(`${ok.value.group.mac}/${ok.value.group.adi}`);
      if (!g) return;
      for (const m of ok.value.members) if (!g.members.includes(m)) g.members.push(m);
      const pending = g.pending.splice(0);
      for (const p of pending) this.sendMulticast(ok.value.group, g.members, p.etherType, p.payload);
      return;
    }
    if ((verb === Verb.EXT_FRAME || verb === Verb.MULTICAST_FRAME) && !this.isOurs(payload)) return; // counted by NetworkMember
    if (verb === Verb.EXT_FRAME) {
      const f = decodeExtFrame(payload);
      if (!f.ok) return this.drop('bad-payload');
      if (f.value.com) this.member.addCom(n, peer, f.value.com);
      if (!this.member.gate(n, peer.address, verb, inbound.packetId)) return;
      const { sourceMac, destinationMac } = f.value;
      if (sourceMac === 0 || sourceMac === this.mac) return; // 1.14 ignores these, unacknowledged
      this.toHost(peer.address, destinationMac, sourceMac, f.value.etherType, f.value.payload, 'ext');
      if ((f.value.flags & ExtFrameFlag.ackRequested) !== 0) {
        this.leaf.node.send(peer, Verb.OK, encodeOkExtFrame({ inRePacketId: inbound.packetId, networkId: this.nwid }));
      }
      return;
    }
    if (verb === Verb.MULTICAST_FRAME) {
      const f = decodeMulticastFrame(payload);
      if (!f.ok) return this.drop('bad-payload');
      if (f.value.com) this.member.addCom(n, peer, f.value.com);
      if (!this.member.gate(n, peer.address, verb, inbound.packetId)) return;
      this.toHost(peer.address, f.value.group.mac, f.value.sourceMac ?? macFromAddress(peer.address, this.nwid), f.value.etherType, f.value.payload, 'multicast');
    }
  }

  /** Whether a frame verb's payload names this network (its first 8 bytes). */
  private isOurs(payload: Uint8Array): boolean {
    return payload.length >= 8 && new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0) === this.nwid;
  }

  private drop(reason: DropReason): void {
    this.leaf.node.stats.drop(reason);
  }

  /**
   * A frame from member `from` to the host, if the rules let it in (judged with the sender's
   * credentials). An EXT_FRAME the rules merely accept (not a TEE/REDIRECT to us) must also come
   * from the sender's own MAC and go to ours or to a group, as 1.14 requires of a non-bridge.
   */
  private toHost(from: Address, destination: number, source: number, etherType: number, payload: Uint8Array, verb: 'frame' | 'ext' | 'multicast'): void {
    if (!this.config) return;
    if (payload.length > this.config.mtu) return this.drop('frame-too-big');
    const f: FilteredFrame = { inbound: true, ztSource: from, ztDest: this.leaf.address, macSource: source, macDest: destination, etherType, data: payload };
    const v = filterFrame(this.config, this.leaf.address, f, this.remoteOf(from));
    if (!this.obey(f, v) || !this.device) return;
    if (verb === 'ext' && v.accept === 1) {
      if (source !== macFromAddress(from, this.nwid)) return; // bridging is not supported
      if (destination !== this.mac && (!isMulticastMac(destination) || this.config.multicastLimit === 0)) return;
    }
    this.counts.in++;
    this.device.write(destination, source, etherType, payload);
  }
}

/** Multicast MACs the host joined on a device (/proc/net/dev_mcast: index name users global address). */
function deviceMulticastMacs(device: string): number[] {
  let text = '';
  try {
    text = readFileSync('/proc/net/dev_mcast', 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === device && /^[0-9a-f]{12}$/.test(f[4] ?? '')) out.push(Number.parseInt(f[4], 16));
  }
  return out;
}
