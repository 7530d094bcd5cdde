// A Linux TAP device for one network (the `tap` addon in native/), named and configured as
// zerotier-one 1.14 names and configures it: `zt` + 8 base32 characters derived from the network
// ID, the member's MAC, the network's MTU, its managed addresses and routes (the `netif` addon).

import { requireNativeAddon } from '../util/native-addon.ts';
import { parseInetAddress } from '../wire/inet-address.ts';
import type { ManagedRoute } from './managed-plan.ts';
import { ETHERNET_HEADER_LENGTH, writeEthernetHeader } from '../wire/mac.ts';

/** The ring a device reads frames into, shared with the addon (native/src/tap.c). */
interface TapMemory { slots: number; slotBytes: number; frames: ArrayBuffer; lengths: ArrayBuffer; counters: ArrayBuffer }

interface TapBinding {
  open(name: string, memory: TapMemory, onFrames: (count: number) => void): { handle: unknown; name: string };
  /** writev of the 14-byte Ethernet header and the payload; bytes written or -errno. */
  write(handle: unknown, header: Uint8Array, payload: Uint8Array): number;
  close(handle: unknown): void;
  readonly counters: number;
}

/** Frames read per batch (one call into JavaScript per batch). */
const READ_SLOTS = 64;
/** A slot holds any frame: ZeroTier's largest MTU (ZT_MAX_MTU, 10000) plus the header, with room to spare. */
const SLOT_BYTES = 10240;
/** Counters the addon keeps per device, in its order (native/src/tap.c). */
const COUNTER = { frames: 0, batches: 1, short: 2, oversized: 3, readErrors: 4 } as const;

/** What a device counted: frames read and batches, and what it dropped or could not write. */
export interface TapStats {
  frames: number;
  batches: number;
  /** Read frames shorter than an Ethernet header, dropped. */
  short: number;
  /** Read frames that filled their slot (maybe cut), dropped. */
  oversized: number;
  readErrors: number;
  /** Frames the device refused on write (or too large to be one). */
  writeErrors: number;
}

let binding: { binding: TapBinding } | { reason: string } | undefined;
function tapBinding(): { binding: TapBinding } | { reason: string } {
  if (binding) return binding;
  if (process.platform !== 'linux') return (binding = { reason: 'TAP devices need Linux' });
  binding = requireNativeAddon<TapBinding>('tap');
  if ('binding' in binding && binding.binding.counters !== Object.keys(COUNTER).length) {
    binding = { reason: 'the tap addon is out of date: rebuild native/ (npm run build:native)' };
  }
  return binding;
}

/** LinuxEthernetTap's base32 alphabet for device names. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * 1.14's device name for a network: `zt` + base32 of the 40 bits (nwid ^ (nwid >> 24)) + trial,
 * where trial counts names already taken.
 */
export function tapDeviceName(nwid: bigint, trial = 0): string {
  const n40 = ((nwid ^ (nwid >> 24n)) + BigInt(trial)) & 0xff_ffff_ffffn;
  let name = 'zt';
  for (let shift = 35n; shift >= 0n; shift -= 5n) name += BASE32[Number((n40 >> shift) & 31n)];
  return name;
}

/** Where a network's Ethernet frames meet the host: a TAP device, or a program (VirtualEthernet). */
export interface EthernetDevice {
  /** The host interface name ('' when there is none). */
  readonly name: string;
  /** A TAP device gets MAC, MTU, addresses and routes applied on the host; a virtual one does not. */
  readonly kind: 'tap' | 'virtual';
  /**
   * Hand a frame to the host side: destination and source MAC (as numbers), EtherType and the
   * payload after the Ethernet header. False if it was refused.
   */
  write(destination: number, source: number, etherType: number, payload: Uint8Array): boolean;
  close(): void;
}

export type TapDevice = EthernetDevice & { readonly kind: 'tap'; stats(): TapStats };

/**
 * Open (create) the TAP device; the reason as text when that cannot be done here. `onFrame` gets
 * each frame the host sends (Ethernet header included) as a view into the read ring: valid only
 * during the call, so copy whatever is kept.
 */
export function openTap(name: string, onFrame: (frame: Uint8Array) => void): TapDevice | { reason: string } {
  const b = tapBinding();
  if ('reason' in b) return { reason: b.reason };
  const memory: TapMemory = {
    slots: READ_SLOTS, slotBytes: SLOT_BYTES,
    frames: new ArrayBuffer(READ_SLOTS * SLOT_BYTES), lengths: new ArrayBuffer(READ_SLOTS * 4), counters: new ArrayBuffer(b.binding.counters * 8),
  };
  const frames = new Uint8Array(memory.frames), lengths = new Uint32Array(memory.lengths), counters = new Float64Array(memory.counters);
  let frameErrors = 0, writeErrors = 0;
  const onFrames = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const at = i * SLOT_BYTES;
      try {
        onFrame(frames.subarray(at, at + lengths[i]));
      } catch {
        frameErrors++; // a handler must not throw; one frame never stops the batch
      }
    }
  };
  let opened: { handle: unknown; name: string };
  try {
    opened = b.binding.open(name, memory, onFrames);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { reason: code === 'EPERM' || code === 'EACCES' ? `no permission to create TAP devices (${code}: needs CAP_NET_ADMIN)` : (e as Error).message };
  }
  let open = true;
  const header = new Uint8Array(ETHERNET_HEADER_LENGTH);
  return {
    name: opened.name,
    kind: 'tap',
    write: (destination, source, etherType, payload) => {
      if (!open) return false;
      writeEthernetHeader(header, destination, source, etherType);
      if (b.binding.write(opened.handle, header, payload) === ETHERNET_HEADER_LENGTH + payload.length) return true;
      writeErrors++;
      return false;
    },
    stats: () => ({
      frames: counters[COUNTER.frames], batches: counters[COUNTER.batches], short: counters[COUNTER.short],
      oversized: counters[COUNTER.oversized], readErrors: counters[COUNTER.readErrors] + frameErrors, writeErrors,
    }),
    close: () => {
      if (!open) return;
      open = false;
      b.binding.close(opened.handle);
    },
  };
}

export interface TapSettings {
  mac: string;
  mtu: number;
  /** Managed addresses as "IP/bits". */
  addresses: string[];
  routes: ManagedRoute[];
}

/** What configureTap put on the device, so that the next call removes what is no longer wanted. */
export interface TapApplied {
  addresses: string[];
  routes: ManagedRoute[];
}

interface NetifBinding {
  setLink(name: string, mac: Buffer, mtu: number): void;
  address(add: boolean, name: string, family: 4 | 6, ip: Buffer, bits: number): void;
  route(add: boolean, name: string, family: 4 | 6, target: Buffer, bits: number, via: Buffer | null, src: Buffer | null, srcBits: number, metric: number): void;
}

let netif: { binding: NetifBinding } | { reason: string } | undefined;
function netifBinding(): NetifBinding {
  netif ??= requireNativeAddon<NetifBinding>('netif');
  if ('reason' in netif) throw new Error(`cannot configure TAP devices: ${netif.reason}`);
  return netif.binding;
}

/** "IP/bits" or "IP" as the addon takes it. */
function ipArg(text: string): { family: 4 | 6; ip: Buffer; bits: number } {
  const a = parseInetAddress(text.includes('/') ? text : `${text}/0`);
  if (!a) throw new Error(`bad address ${text}`);
  return { family: a.family, ip: Buffer.from(a.ip), bits: a.port };
}

/** ZT_RTE_METRIC: the metric of 1.14's routes through a gateway. */
const GATEWAY_ROUTE_METRIC = 5000;

/** As 1.14's LinuxNetLink::addRoute: a gateway and metric, or else the source prefix. */
function setRoute(b: NetifBinding, add: boolean, name: string, r: ManagedRoute): void {
  const t = ipArg(r.target);
  if (r.via) b.route(add, name, t.family, t.ip, t.bits, ipArg(r.via).ip, null, 0, GATEWAY_ROUTE_METRIC);
  else {
    const src = ipArg(r.src);
    b.route(add, name, t.family, t.ip, t.bits, null, src.ip, src.bits, 0);
  }
}

function setAddress(b: NetifBinding, add: boolean, name: string, text: string): void {
  const a = ipArg(text);
  b.address(add, name, a.family, a.ip, a.bits);
}

const sameRoute = (a: ManagedRoute, b: ManagedRoute): boolean => a.target === b.target && a.via === b.via && a.src === b.src;
const ignore = (f: () => void): void => {
  try {
    f();
  } catch {
    // already gone
  }
};

/**
 * Bring the device up with this MAC and MTU and make its managed addresses and routes exactly
 * those of `s` (through the `netif` addon: no `ip` program needed, so it works in a slim
 * container): what `current` holds and `s` does not is removed, the rest added. A route the
 * kernel refuses is skipped (1.14 logs and goes on); returns what is now applied.
 */
export function configureTap(name: string, s: TapSettings, current: TapApplied): TapApplied {
  const b = netifBinding();
  b.setLink(name, Buffer.from(s.mac.replaceAll(':', ''), 'hex'), s.mtu);
  for (const r of current.routes) if (!s.routes.some((x) => sameRoute(x, r))) ignore(() => setRoute(b, false, name, r));
  for (const a of current.addresses) if (!s.addresses.includes(a)) ignore(() => setAddress(b, false, name, a));
  for (const a of s.addresses) if (!current.addresses.includes(a)) setAddress(b, true, name, a);
  const routes: ManagedRoute[] = [];
  for (const r of s.routes) {
    try {
      setRoute(b, true, name, r);
      routes.push(r);
    } catch {
      // e.g. a gateway the device cannot reach
    }
  }
  return { addresses: [...s.addresses], routes };
}
