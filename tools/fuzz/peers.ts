// Keyed peers for the campaigns: identities the target knows (registered with real HELLOs), each
// on its own loopback socket, that send any verb with a valid MAC and recognise the OK/ERROR the
// root sends back by the packet ID it quotes. Also the fixtures they come from
// (test/fixtures/zerotier-1.14.1: identities made by zerotier-idtool 1.14.1 and the lab capture).

import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agree } from '../../src/crypto/c25519.ts';
import { readAddress } from '../../src/identity/address.ts';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { armor, dearmor, type ArmorCipher } from '../../src/wire/armor.ts';
import { parseCaptureJson, type JsonCapture } from '../../src/wire/capture.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import { Cipher, FRAGMENT_INDICATOR, HeaderFlag, MIN_PACKET_LENGTH, PacketOffset, Verb, VerbFlag } from '../../src/wire/constants.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { formatIp, parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { markFragmentedIfNeeded, Reassembler, splitPacket } from '../../src/wire/fragment.ts';
import { newPacket, readPacketId } from '../../src/wire/packet.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { encodeHelloWithCryptFieldOffset, type HelloMoon } from '../../src/wire/verbs/hello.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import { encodeWhois } from '../../src/wire/verbs/whois.ts';
import { REPO } from './target.ts';

export const FIXTURES = join(REPO, 'test/fixtures/zerotier-1.14.1');

/** The eight zerotier-idtool 1.14.1 identities with their secrets. */
export function fixtureIdentities(): Identity[] {
  const doc = JSON.parse(readFileSync(join(FIXTURES, 'identities.json'), 'utf8')) as { identities: { secret: string }[] };
  return doc.identities.map((i) => {
    const id = parseIdentity(i.secret);
    if (!id) throw new Error('identities.json: unparsable secret');
    return id;
  });
}

/** The moon-lab capture (r: moon root, a and b: leaves), secrets included. */
export function fixtureCapture(): JsonCapture {
  const parsed = parseCaptureJson(readFileSync(join(FIXTURES, 'capture-moon-lab.json'), 'utf8'));
  if (!parsed.ok) throw new Error(`capture-moon-lab.json: ${parsed.error}`);
  return parsed.capture;
}

export function keyBetween(me: Identity, other: Identity): PeerKey {
  const raw = agree(me.privateKey!, other.publicKey);
  if (!raw) throw new Error('key agreement failed');
  return new PeerKey(raw);
}

export function endpoint(host: string, port: number): IpAddress {
  const a = parseInetAddress(`${host}/${port}`);
  if (!a) throw new Error(`bad endpoint ${host}/${port}`);
  return a;
}

/** Armor a packet (any verb byte, compressed flag included) from `source` to `destination`. */
export function armored(id: Uint8Array, destination: number, source: number, verbByte: number, payload: Uint8Array, key: PeerKey, cipher: ArmorCipher, hops = 0): Uint8Array {
  const p = newPacket({ id, destination, source, verb: verbByte & VerbFlag.verbMask, payload });
  p[PacketOffset.verb] = verbByte;
  p[PacketOffset.flags] |= hops & HeaderFlag.hopsMask;
  armor(p, key, cipher);
  return p;
}

/** A HELLO payload as 1.14 sends it (moon list obscured by cryptField after armor: see helloDatagram). */
export function helloDatagram(id: Uint8Array, me: Identity, root: Identity, key: PeerKey, via: IpAddress, moons: HelloMoon[] = [], timestamp = BigInt(Date.now())): Uint8Array {
  const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset({
    protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, timestamp,
    identity: me.publicOnly(), destination: via, planet: { id: 0n, timestamp: 0n }, moons,
  });
  const p = newPacket({ id, destination: root.address, source: me.address, verb: Verb.HELLO, payload });
  if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, key.salsaKey);
  armor(p, key, Cipher.poly1305None);
  return p;
}

/** Open a datagram from the root with `key`: verb and payload, or undefined. */
export function openReply(d: Uint8Array, key: PeerKey): { verb: number; payload: Uint8Array; source: number } | undefined {
  if (d.length < MIN_PACKET_LENGTH || d[13] === 0xff) return undefined;
  const p = Uint8Array.from(d);
  if (!dearmor(p, key).ok) return undefined;
  const u = uncompressPacket(p);
  if (!u.ok) return undefined;
  return { verb: u.packet[PacketOffset.verb] & VerbFlag.verbMask, payload: u.packet.subarray(PacketOffset.payload), source: readAddress(u.packet, PacketOffset.source) };
}

/** An OK or ERROR from the root, opened. */
export interface Reply { verb: number; inReVerb: number; payload: Uint8Array; datagram: Uint8Array }

/** A known identity on its own socket that talks to the root and waits for its answers. */
export class KeyedPeer {
  readonly identity: Identity;
  readonly root: Identity;
  readonly key: PeerKey;
  readonly socket: Socket;
  readonly target: IpAddress;
  private readonly waiting = new Map<bigint, (reply: Reply) => void>();
  private readonly reassembler = new Reassembler();
  /** The target's IP as text, for send(). */
  private readonly host: string;
  /** Every datagram received, as bytes (relayed junk lands here too). */
  bytesIn = 0;
  datagramsIn = 0;
  /** Datagrams that were pieces of a fragmented packet. */
  fragmentsIn = 0;

  private constructor(identity: Identity, root: Identity, socket: Socket, target: IpAddress) {
    this.identity = identity;
    this.root = root;
    this.key = keyBetween(identity, root);
    this.socket = socket;
    this.target = target;
    this.host = formatIp(target);
    socket.on('message', (msg) => {
      this.bytesIn += msg.length;
      this.datagramsIn++;
      if (this.waiting.size === 0) return;
      let d: Uint8Array = msg;
      if (msg.length > 13 && (msg[13] === FRAGMENT_INDICATOR || (msg.length >= MIN_PACKET_LENGTH && (msg[PacketOffset.flags] & HeaderFlag.fragmented) !== 0))) {
        this.fragmentsIn++;
        const r = msg[13] === FRAGMENT_INDICATOR ? this.reassembler.addFragment(msg, Date.now()) : this.reassembler.addHead(msg, Date.now());
        if (r.status !== 'complete') return;
        d = r.packet;
      }
      const r = openReply(d, this.key);
      if (!r || (r.verb !== Verb.OK && r.verb !== Verb.ERROR) || r.source !== root.address) return;
      const h = decodeOkHeader(r.payload);
      if (!h.ok) return;
      const w = this.waiting.get(h.value.inRePacketId);
      if (w) {
        this.waiting.delete(h.value.inRePacketId);
        w({ verb: r.verb, inReVerb: h.value.inReVerb, payload: r.payload, datagram: d });
      }
    });
  }

  /** A socket bound to `bindAddress` (default: loopback when the target is on loopback, else any address). */
  static async open(identity: Identity, root: Identity, target: IpAddress, bindAddress?: string): Promise<KeyedPeer> {
    const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
    bindAddress ??= target.family === 6 ? '::' : target.ip[0] === 127 ? '127.0.0.1' : '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, bindAddress, () => resolve());
    });
    socket.on('error', () => { /* ENOBUFS and the like: a lost datagram */ });
    return new KeyedPeer(identity, root, socket, target);
  }

  private async sendAndWait(p: Uint8Array, timeoutMs: number): Promise<boolean> {
    return (await this.exchange([p], readPacketId(p), timeoutMs)) !== undefined;
  }

  /** Send datagrams and wait for the OK/ERROR quoting `id` (undefined after `timeoutMs`). */
  exchange(datagrams: Uint8Array[], id: bigint, timeoutMs: number): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiting.delete(id); resolve(undefined); }, timeoutMs);
      this.waiting.set(id, (r) => { clearTimeout(timer); resolve(r); });
      for (const d of datagrams) this.socket.send(d, this.target.port, this.host);
    });
  }

  /** Any verb with a valid MAC (fragmented at 1432 bytes when longer); resolves with the answer. */
  request(verb: number, payload: Uint8Array, timeoutMs = 2000, cipher: ArmorCipher = Cipher.poly1305Salsa2012): Promise<Reply | undefined> {
    const p = newPacket({ id: this.newId(), destination: this.root.address, source: this.identity.address, verb, payload });
    markFragmentedIfNeeded(p);
    armor(p, this.key, cipher);
    return this.exchange(splitPacket(p).map((d) => Uint8Array.from(d)), readPacketId(p), timeoutMs);
  }

  private static counter = 0n;
  private newId(): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, (BigInt(Date.now()) << 20n) ^ (KeyedPeer.counter++ * 0x9e3779b97f4a7c15n & 0xffff_ffff_ffff_ffffn));
    return b;
  }

  /** HELLO; resolves whether an OK came back within `timeoutMs`. */
  hello(timeoutMs = 2000, moons: HelloMoon[] = []): Promise<boolean> {
    return this.sendAndWait(helloDatagram(this.newId(), this.identity, this.root, this.key, this.target, moons), timeoutMs);
  }

  /** WHOIS for `address` (default: the root's own); resolves whether it was answered. */
  whois(address = this.root.address, timeoutMs = 2000): Promise<boolean> {
    return this.sendAndWait(armored(this.newId(), this.root.address, this.identity.address, Verb.WHOIS, encodeWhois({ addresses: [address] }), this.key, Cipher.poly1305Salsa2012), timeoutMs);
  }

  /** HELLO every 300 ms until one is answered (a new identity is validated first). */
  async register(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.hello(300))) {
      if (Date.now() > deadline) throw new Error(`${this.identity.toString()} was not registered within ${timeoutMs} ms`);
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
