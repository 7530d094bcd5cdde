// Ethernet frames as the lab's programs write them into a leaf (its embedding API or a runner).

import { macToBytes } from '../../src/wire/mac.ts';

/** The EtherType lab frames carry (0x88b5: IEEE local experimental EtherType). */
export const LAB_ETHERTYPE = 0x88b5;

/** An Ethernet frame: destination and source MAC (48-bit numbers), EtherType, payload. */
export function ethernetFrame(destination: number, source: number, payload: Uint8Array | string, etherType = LAB_ETHERTYPE): Uint8Array {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const f = new Uint8Array(14 + body.length);
  f.set(macToBytes(destination), 0);
  f.set(macToBytes(source), 6);
  f[12] = etherType >> 8;
  f[13] = etherType & 0xff;
  f.set(body, 14);
  return f;
}
