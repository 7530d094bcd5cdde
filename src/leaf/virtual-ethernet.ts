// A network's Ethernet for a Node program instead of a TAP device (the embedding libzt offers C
// programs): frames from the network arrive as 'frame' events, frames the program sends go to the
// network exactly as frames from a TAP would (rules, COMs, multicast). Nothing touches the host.

import { EventEmitter } from 'node:events';
import { ETHERNET_HEADER_LENGTH, writeEthernetHeader } from '../wire/mac.ts';
import type { EthernetDevice } from './tap-device.ts';

export interface VirtualEthernetEvents {
  /** A whole Ethernet frame (destination MAC, source MAC, EtherType, payload) from the network. */
  frame: [frame: Uint8Array];
}

export class VirtualEthernet extends EventEmitter<VirtualEthernetEvents> implements EthernetDevice {
  readonly name = '';
  readonly kind = 'virtual' as const;
  /** This member's MAC on the network, as a number (formatMac prints it). */
  readonly mac: number;
  private readonly toNetwork: (frame: Uint8Array) => void;
  private closed = false;

  constructor(mac: number, toNetwork: (frame: Uint8Array) => void) {
    super();
    this.mac = mac;
    this.toNetwork = toNetwork;
  }

  /** Send a whole Ethernet frame to the network; its source MAC must be `mac`. */
  send(frame: Uint8Array): void {
    if (!this.closed) this.toNetwork(frame);
  }

  write(destination: number, source: number, etherType: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
    writeEthernetHeader(frame, destination, source, etherType);
    frame.set(payload, ETHERNET_HEADER_LENGTH);
    this.emit('frame', frame);
    return true;
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }
}
