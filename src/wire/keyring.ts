// Peer keys for a set of identities, for offline work (capture analysis, tests, tools): given
// some identities with secrets and others public only, find the key shared by the two ends of
// a packet and dearmor it. A running node keeps its own per-peer cache instead.

import { formatAddress, type Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import { dearmor, type ArmorCipher, type DearmorError } from './armor.ts';
import { MIN_PACKET_LENGTH } from './constants.ts';
import { PeerKey } from './peer-key.ts';
import { packetDestination, packetSource } from './packet.ts';

export type KeyringDearmorResult =
  | { ok: true; cipher: ArmorCipher; key: PeerKey }
  | { ok: false; error: DearmorError | 'unknown-pair' };

export class Keyring {
  private readonly identities = new Map<Address, Identity>();
  private readonly keys = new Map<string, PeerKey | null>();

  /** Add an identity (with or without its private key). A secret replaces a public-only entry. */
  add(identity: Identity): void {
    const known = this.identities.get(identity.address);
    if (!known || (!known.hasPrivate && identity.hasPrivate)) {
      this.identities.set(identity.address, identity);
      this.keys.clear();
    }
  }

  get(address: Address): Identity | undefined {
    return this.identities.get(address);
  }

  /**
   * The key shared by two addresses, if both identities are known and at least one has its
   * secret. Cached per unordered pair.
   */
  keyFor(a: Address, b: Address): PeerKey | undefined {
    const id = a < b ? `${formatAddress(a)}${formatAddress(b)}` : `${formatAddress(b)}${formatAddress(a)}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      key = this.agree(a, b);
      this.keys.set(id, key);
    }
    return key ?? undefined;
  }

  /** Dearmor a complete packet in place with the key of its (source, destination) pair. */
  dearmor(p: Uint8Array): KeyringDearmorResult {
    if (p.length < MIN_PACKET_LENGTH) return { ok: false, error: 'too-short' };
    const key = this.keyFor(packetSource(p), packetDestination(p));
    if (!key) return { ok: false, error: 'unknown-pair' };
    const r = dearmor(p, key);
    return r.ok ? { ok: true, cipher: r.cipher, key } : r;
  }

  private agree(a: Address, b: Address): PeerKey | null {
    const x = this.identities.get(a);
    const y = this.identities.get(b);
    if (!x || !y) return null;
    const raw = x.hasPrivate ? x.agree(y) : y.hasPrivate ? y.agree(x) : null;
    return raw ? new PeerKey(raw) : null;
  }
}
