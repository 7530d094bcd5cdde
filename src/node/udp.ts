// UDP sockets for a node. One socket per (local address, port): a reply leaves from the socket
// its request arrived on, so it carries the source IP the peer sent to — 1.14 leaves learn a
// root's path only at the root's stable-endpoint IPs (docs/protocol/08-root-behaviour.md §1.3), and Node's
// dgram cannot tell which address a wildcard socket received on.

import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { formatIp, parseInetAddress, type IpAddress } from '../wire/inet-address.ts';

export interface LocalSocket {
  readonly index: number;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export type DatagramHandler = (data: Buffer, from: IpAddress, socket: LocalSocket) => void;

/**
 * ZT_UDP_DESIRED_BUF_SIZE: SO_RCVBUF / SO_SNDBUF a 1.14 node asks for (the kernel caps it at
 * net.core.rmem_max / wmem_max). With the default (~208 KiB) a leaf loses datagrams to every
 * burst of full-size frames a TCP sender puts on the wire.
 */
export const UDP_DESIRED_BUFFER_BYTES = 1_048_576;

export interface UdpOptions {
  /** Local IPs to bind; empty means every address of every interface (see localAddresses). */
  bind: readonly string[];
  ports: readonly number[];
  /** SO_RCVBUF / SO_SNDBUF in bytes (0 keeps the system default). */
  bufferBytes?: number;
  /** SO_REUSEPORT: several threads bind the same address and the kernel spreads flows across them. */
  reusePort?: boolean;
}

/**
 * What a node needs from its UDP layer. UdpTransport (dgram, below) and NativeUdpTransport
 * (recvmmsg/sendmmsg addon, batch-udp.ts) both provide it; createUdpTransport picks one.
 */
export interface DatagramTransport {
  readonly sockets: readonly LocalSocket[];
  /** Datagrams the kernel refused or dropped on send, counted not thrown. */
  readonly sendErrors: number;
  onDatagram(handler: DatagramHandler): void;
  open(options: UdpOptions): Promise<void>;
  send(socket: LocalSocket, to: IpAddress, data: Uint8Array): void;
  sendToHost(index: number, host: string, port: number, data: Uint8Array): void;
  socketFor(family: 4 | 6): LocalSocket | undefined;
  close(): Promise<void>;
}

/** Every usable local IP: IPv4 and IPv6, loopback included, IPv6 link-local excluded. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && (a.scopeid ?? 0) !== 0) continue; // link-local needs a scope: never a path
      out.push(a.address);
    }
  }
  return out;
}

export class UdpTransport implements DatagramTransport {
  readonly sockets: LocalSocket[] = [];
  private readonly raw: Socket[] = [];
  private handler: DatagramHandler = () => {};
  /** Datagrams the kernel refused to send (EAGAIN, unreachable…), counted not thrown. */
  sendErrors = 0;

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  /** Bind every (address, port); rejects with a clear message if any bind fails. */
  async open(options: UdpOptions): Promise<void> {
    const addresses = options.bind.length > 0 ? options.bind : localAddresses();
    for (const address of addresses) {
      const family = address.includes(':') ? 6 : 4;
      for (const port of options.ports) {
        const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, reuseAddr: false, reusePort: options.reusePort === true });
        const local: LocalSocket = { index: this.sockets.length, address, port, family };
        try {
          await new Promise<void>((resolve, reject) => {
            socket.once('error', (e) => reject(new Error(`cannot bind UDP ${address}/${port}: ${e.message}`)));
            socket.bind({ address, port, exclusive: options.reusePort !== true }, () => resolve());
          });
        } catch (e) {
          socket.close();
          await this.close();
          throw e;
        }
        socket.removeAllListeners('error');
        socket.on('error', () => { this.sendErrors++; });
        if (options.bufferBytes) {
          try {
            socket.setRecvBufferSize(options.bufferBytes);
            socket.setSendBufferSize(options.bufferBytes);
          } catch { /* the kernel caps it; keep the default */ }
        }
        const actual = socket.address();
        const bound: LocalSocket = { ...local, port: actual.port };
        socket.on('message', (msg, rinfo) => {
          const from = parseInetAddress(`${rinfo.address}/${rinfo.port}`);
          if (from) this.handler(msg, from, bound);
        });
        this.sockets.push(bound);
        this.raw.push(socket);
      }
    }
  }

  send(socket: LocalSocket, to: IpAddress, data: Uint8Array): void {
    const s = this.raw[socket.index];
    if (!s || socket.family !== to.family) {
      this.sendErrors++;
      return;
    }
    s.send(data, to.port, formatIp(to), (err) => { if (err) this.sendErrors++; });
  }

  /** Send to a host given as text through socket `index` (the relay path: no address objects). */
  sendToHost(index: number, host: string, port: number, data: Uint8Array): void {
    const s = this.raw[index];
    if (!s) {
      this.sendErrors++;
      return;
    }
    s.send(data, port, host, (err) => { if (err) this.sendErrors++; });
  }

  /** The first socket of a family, used when no socket is tied to a path yet. */
  socketFor(family: 4 | 6): LocalSocket | undefined {
    return this.sockets.find((s) => s.family === family);
  }

  async close(): Promise<void> {
    await Promise.all(this.raw.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.raw.length = 0;
  }
}
