// Our credentials as 1.14.1's Membership::pushCredentials sends them to another member
// (docs/protocol/04-verbs.md §11): the COM, then our capabilities, tags and certificates of
// ownership from the config, no revocations, over as many NETWORK_CREDENTIALS packets as it takes.
// A packet takes one more credential while its size plus what 1.14 reserves for one (the size of
// that credential's C++ object, x86_64) plus 16 stays under the maximum packet length; the COM
// rides in the first packet only. Where a push splits matters only past ~10 KB of credentials.

import { MAX_PACKET_LENGTH, PacketOffset } from '../wire/constants.ts';
import { encodeCapability } from '../wire/credentials/capability.ts';
import { encodeCom } from '../wire/credentials/com.ts';
import { encodeCoo } from '../wire/credentials/coo.ts';
import { encodeTag } from '../wire/credentials/tag.ts';
import type { NetworkConfig } from '../wire/netconf/network-config.ts';

/** sizeof(Capability), sizeof(Tag), sizeof(CertificateOfOwnership) in 1.14.1 on x86_64, bytes. */
const RESERVED = { capability: 2864, tag: 136, coo: 424 } as const;
/** The slack 1.14 adds to each reservation, bytes. */
const SLACK = 16;

/** The payloads (after the verb) of the NETWORK_CREDENTIALS packets that carry our credentials. */
export function credentialPushPayloads(config: NetworkConfig): Uint8Array[] {
  const caps = config.capabilities.map(encodeCapability);
  const tags = config.tags.map(encodeTag);
  const coos = config.certificatesOfOwnership.map(encodeCoo);
  let com = config.com ? encodeCom(config.com) : undefined;
  const out: Uint8Array[] = [];
  let [c, t, o] = [0, 0, 0];
  while (c < caps.length || t < tags.length || o < coos.length || com) {
    const parts: Uint8Array[] = [];
    let size = PacketOffset.payload;
    const put = (b: Uint8Array): void => {
      parts.push(b);
      size += b.length;
    };
    if (com) put(com);
    com = undefined;
    put(Uint8Array.of(0)); // end of the COM list
    const section = (items: Uint8Array[], from: number, reserve: number): number => {
      const at = parts.length;
      put(new Uint8Array(2));
      let i = from;
      while (i < items.length && size + reserve + SLACK < MAX_PACKET_LENGTH) put(items[i++]);
      parts[at] = Uint8Array.of((i - from) >> 8, (i - from) & 0xff);
      return i;
    };
    c = section(caps, c, RESERVED.capability);
    t = section(tags, t, RESERVED.tag);
    put(new Uint8Array(2)); // no revocations: those travel from the controller
    o = section(coos, o, RESERVED.coo);
    out.push(Buffer.concat(parts));
  }
  return out;
}
