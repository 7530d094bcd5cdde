// The same behavioural checks against both UDP transports: UdpTransport (plain dgram) and
// NativeUdpTransport (the recvmmsg/sendmmsg addon in native/). The native half is skipped (and
// says why) only when the addon is not available here.

import { createSocket, type Socket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createUdpTransport, NativeUdpTransport, nativeUdpAvailability, type RawSource,
} from '../../src/node/batch-udp.ts';
import { UdpTransport, type DatagramTransport, type LocalSocket } from '../../src/node/udp.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { createPathLookup } from '../../src/node/shared-peer-table.ts';
import { skipGroup } from '../support/skips.ts';
import { waitUntil } from '../support/root-harness.ts';

const native = nativeUdpAvailability();
const noNative = skipGroup('NativeUdpTransport tests', native.ok ? undefined : `${native.reason}; run \`npm run build:native\``);
const RECEIVE_BUFFER_BYTES = 1 << 20;

interface Received { data: Buffer; from: IpAddress; socket: LocalSocket }


const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track<T extends DatagramTransport>(t: T): T {
  cleanups.push(() => t.close());
  return t;
}

async function peer(type: 'udp4' | 'udp6', address: string): Promise<{ socket: Socket; port: number; inbox: { data: Buffer; port: number }[] }> {
  const socket = createSocket(type);
  const inbox: { data: Buffer; port: number }[] = [];
  socket.on('message', (data, rinfo) => inbox.push({ data, port: rinfo.port }));
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, inbox };
}

const ipv6Loopback = await (async () => {
  const s = createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '::1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
})();
const noIpv6 = skipGroup('UDP over IPv6 loopback', ipv6Loopback ? undefined : '::1 cannot be bound here (IPv6 disabled?)');

const variants: { name: string; available: boolean; make: () => DatagramTransport }[] = [
  { name: 'UdpTransport (dgram)', available: true, make: () => new UdpTransport() },
  {
    name: 'NativeUdpTransport (recvmmsg/sendmmsg)',
    available: !noNative,
    make: () => new NativeUdpTransport(),
  },
];

for (const v of variants) {
  describe.skipIf(!v.available)(v.name, () => {
    async function listening(bind: string, options: { reusePort?: boolean; port?: number } = {}): Promise<{ t: DatagramTransport; inbox: Received[] }> {
      const t = track(v.make());
      const inbox: Received[] = [];
      t.onDatagram((data, from, socket) => inbox.push({ data: Buffer.from(data), from, socket }));
      await t.open({ bind: [bind], ports: [options.port ?? 0], reusePort: options.reusePort, bufferBytes: RECEIVE_BUFFER_BYTES });
      return { t, inbox };
    }

    it('receives an IPv4 datagram with its exact bytes, source and socket', async () => {
      const { t, inbox } = await listening('127.0.0.1');
      expect(t.sockets).toHaveLength(1);
      expect(t.sockets[0]).toMatchObject({ index: 0, address: '127.0.0.1', family: 4 });
      expect(t.sockets[0].port).toBeGreaterThan(0);
      const client = await peer('udp4', '127.0.0.1');
      client.socket.send(Buffer.from([1, 2, 3, 250, 0, 7]), t.sockets[0].port, '127.0.0.1');
      await waitUntil(() => inbox.length === 1, 'the datagram');
      expect([...inbox[0].data]).toEqual([1, 2, 3, 250, 0, 7]);
      expect(inbox[0].from.family).toBe(4);
      expect([...inbox[0].from.ip]).toEqual([127, 0, 0, 1]);
      expect(inbox[0].from.port).toBe(client.port);
      expect(inbox[0].socket).toBe(t.sockets[0]);
    });

    it('replies from the socket the request arrived on (send and sendToHost)', async () => {
      const t = track(v.make());
      t.onDatagram((data, from, socket) => {
        t.send(socket, from, Buffer.concat([Buffer.from('send:'), data]));
        t.sendToHost(socket.index, '127.0.0.1', from.port, Buffer.concat([Buffer.from('host:'), data]));
      });
      await t.open({ bind: ['127.0.0.1'], ports: [0] });
      const client = await peer('udp4', '127.0.0.1');
      client.socket.send('ping', t.sockets[0].port, '127.0.0.1');
      await waitUntil(() => client.inbox.length === 2, 'both replies');
      expect(client.inbox.map((m) => m.data.toString()).sort()).toEqual(['host:ping', 'send:ping']);
      for (const m of client.inbox) expect(m.port).toBe(t.sockets[0].port);
      expect(t.sendErrors).toBe(0);
    });

    it.skipIf(noIpv6)('sends and receives over IPv6 ::1', async () => {
      const { t, inbox } = await listening('::1');
      expect(t.sockets[0]).toMatchObject({ address: '::1', family: 6 });
      expect(t.socketFor(6)).toBe(t.sockets[0]);
      expect(t.socketFor(4)).toBeUndefined();
      const client = await peer('udp6', '::1');
      client.socket.send('six', t.sockets[0].port, '::1');
      await waitUntil(() => inbox.length === 1, 'the IPv6 datagram');
      const from = inbox[0].from;
      expect(from.family).toBe(6);
      expect([...from.ip]).toEqual([...new Uint8Array(15), 1]);
      expect(from.port).toBe(client.port);
      t.send(inbox[0].socket, from, Buffer.from('back'));
      t.sendToHost(0, '::1', from.port, Buffer.from('text'));
      await waitUntil(() => client.inbox.length === 2, 'the IPv6 replies');
      expect(client.inbox.map((m) => m.data.toString()).sort()).toEqual(['back', 'text']);
    });

    it('delivers a burst of many datagrams complete and in order', async () => {
      const { t, inbox } = await listening('127.0.0.1');
      const client = await peer('udp4', '127.0.0.1');
      const total = 600, window = 100;
      for (let first = 0; first < total; first += window) {
        for (let i = first; i < first + window; i++) {
          const d = Buffer.alloc(40 + (i % 50), i & 0xff);
          d.writeUInt32BE(i, 0);
          client.socket.send(d, t.sockets[0].port, '127.0.0.1');
        }
        await waitUntil(() => inbox.length === first + window, `datagrams up to ${first + window}`);
      }
      expect(inbox.map((r) => r.data.readUInt32BE(0))).toEqual([...Array(total).keys()]);
      for (const r of inbox) {
        const i = r.data.readUInt32BE(0);
        expect(r.data.length).toBe(40 + (i % 50));
        expect(r.data[r.data.length - 1]).toBe(i & 0xff);
      }
    });

    it('sends a burst of many datagrams from outside any receive batch', async () => {
      const { t } = await listening('127.0.0.1');
      const client = await peer('udp4', '127.0.0.1');
      const to: IpAddress = { family: 4, ip: Uint8Array.from([127, 0, 0, 1]), port: client.port };
      const total = 150; // more than a native batch: the send ring fills and is flushed on the way
      for (let i = 0; i < total; i++) t.send(t.sockets[0], to, Buffer.from(`n${i}`));
      await waitUntil(() => client.inbox.length === total, 'the whole burst');
      expect(client.inbox.map((m) => m.data.toString())).toEqual([...Array(total).keys()].map((i) => `n${i}`));
      expect(t.sendErrors).toBe(0);
    });

    it('shares a port between transports with reusePort, and refuses a second bind without it', async () => {
      const a = await listening('127.0.0.1', { reusePort: true });
      const port = a.t.sockets[0].port;
      const b = await listening('127.0.0.1', { reusePort: true, port });
      expect(b.t.sockets[0].port).toBe(port);
      const total = 64;
      const clients = await Promise.all([...Array(16).keys()].map(() => peer('udp4', '127.0.0.1')));
      for (let i = 0; i < total; i++) clients[i % clients.length].socket.send(Buffer.from([i]), port, '127.0.0.1');
      await waitUntil(() => a.inbox.length + b.inbox.length === total, 'every datagram on one of the two');
      expect([...a.inbox, ...b.inbox].map((r) => r.data[0]).sort((x, y) => x - y)).toEqual([...Array(total).keys()]);

      const c = track(v.make());
      await expect(c.open({ bind: ['127.0.0.1'], ports: [port] })).rejects.toThrow(/cannot bind UDP 127\.0\.0\.1\/\d+/);
    });

    it('rejects a bind that fails with the address in the message', async () => {
      const t = track(v.make());
      await expect(t.open({ bind: ['192.0.2.1'], ports: [0] })).rejects.toThrow(/cannot bind UDP 192\.0\.2\.1\/0/);
    });

    it('closes: the port is free again, nothing more is delivered, sends are counted not thrown', async () => {
      const { t, inbox } = await listening('127.0.0.1');
      const port = t.sockets[0].port;
      await t.close();
      const again = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.bind(port, '127.0.0.1', () => resolve());
      });
      const client = await peer('udp4', '127.0.0.1');
      client.socket.send('late', port, '127.0.0.1');
      const seen = await new Promise<string>((r) => again.once('message', (m) => r(m.toString())));
      expect(seen).toBe('late');
      await new Promise<void>((r) => again.close(() => r()));
      const before = t.sendErrors;
      t.send(t.sockets[0], { family: 4, ip: Uint8Array.from([127, 0, 0, 1]), port: client.port }, Buffer.from('x'));
      t.sendToHost(0, '127.0.0.1', client.port, Buffer.from('x'));
      await new Promise((r) => setTimeout(r, 20));
      expect(t.sendErrors).toBeGreaterThanOrEqual(before + 2);
      expect(inbox).toHaveLength(0);
    });

    it('counts a send whose destination family differs from the socket', async () => {
      const { t } = await listening('127.0.0.1');
      t.send(t.sockets[0], { family: 6, ip: new Uint8Array(16), port: 9 }, Buffer.from('x'));
      expect(t.sendErrors).toBe(1);
    });
  });
}

describe.skipIf(noNative)('NativeUdpTransport specifics', () => {
  it('drops and counts a datagram larger than a slot, and delivers the next', async () => {
    const t = track(new NativeUdpTransport({ slotBytes: 256 }));
    const inbox: Buffer[] = [];
    t.onDatagram((d) => inbox.push(Buffer.from(d)));
    await t.open({ bind: ['127.0.0.1'], ports: [0] });
    const client = await peer('udp4', '127.0.0.1');
    client.socket.send(Buffer.alloc(257, 1), t.sockets[0].port, '127.0.0.1');
    client.socket.send(Buffer.alloc(256, 2), t.sockets[0].port, '127.0.0.1');
    await waitUntil(() => inbox.length === 1, 'the datagram that fits');
    expect(inbox[0]).toEqual(Buffer.alloc(256, 2));
    expect(t.stats().truncated).toBe(1);
    expect(t.stats().received).toBe(2);
    t.sendToHost(0, '127.0.0.1', client.port, new Uint8Array(257));
    expect(t.sendErrors).toBe(1);
  });

  it('keeps going when a handler throws, and counts it', async () => {
    const t = track(new NativeUdpTransport());
    const inbox: string[] = [];
    t.onDatagram((d) => {
      if (d.toString() === 'bad') throw new Error('handler bug');
      inbox.push(d.toString());
    });
    await t.open({ bind: ['127.0.0.1'], ports: [0] });
    const client = await peer('udp4', '127.0.0.1');
    for (const m of ['a', 'bad', 'b']) client.socket.send(m, t.sockets[0].port, '127.0.0.1');
    await waitUntil(() => inbox.length === 2, 'the good datagrams');
    expect(inbox).toEqual(['a', 'b']);
    expect(t.stats().handlerErrors).toBe(1);
  });

  describe('receive coalescing', () => {
    /** An echo transport and a client that sends and collects the echoes. */
    async function echoing(options: ConstructorParameters<typeof NativeUdpTransport>[0]) {
      const t = track(new NativeUdpTransport(options));
      const seen: number[] = [];
      t.onDatagram((d, from, socket) => {
        seen.push(d.readUInt32BE(0));
        t.send(socket, from, d);
      });
      await t.open({ bind: ['127.0.0.1'], ports: [0], bufferBytes: RECEIVE_BUFFER_BYTES });
      const client = await peer('udp4', '127.0.0.1');
      let next = 0;
      const send = (): void => {
        const d = Buffer.alloc(32);
        d.writeUInt32BE(next++, 0);
        client.socket.send(d, t.sockets[0].port, '127.0.0.1');
      };
      /** One datagram, then wait for its echo: one wakeup each. */
      const pingPong = async (): Promise<void> => {
        const want = client.inbox.length + 1;
        send();
        await waitUntil(() => client.inbox.length === want, 'the echo');
      };
      return { t, seen, client, send, pingPong };
    }

    it('a lone datagram on a quiet socket is delivered by its own wakeup, never by a tick', async () => {
      const { t, pingPong } = await echoing({});
      for (let i = 0; i < 3; i++) await pingPong();
      expect(t.stats()).toMatchObject({ received: 3, wakeups: 3, ticks: 0, coalescing: 0 });
    });

    it('under frequent wakeups drains on ticks, delivers every queued datagram, then wakes on readability again', async () => {
      // a threshold of 10 s makes every wakeup "frequent": coalescing starts after a few, deterministically
      const { t, seen, client, send, pingPong } = await echoing({ coalesceMicros: 10_000_000, slots: 8 });
      const burst = 150; // more than one drain (8 batches of 8): later ticks take the rest
      let burstAt: { wakeups: number; ticks: number } | undefined;
      t.onDatagram((d, from, socket) => {
        seen.push(d.readUInt32BE(0));
        t.send(socket, from, d);
        const s = t.stats();
        if (s.coalescing === 1 && !burstAt) {
          // inside a tick: the burst lands in the socket before this tick reads it again
          burstAt = { wakeups: s.wakeups, ticks: s.ticks };
          for (let i = 0; i < burst; i++) send();
        }
      });
      // ping-pong: each echo sends the next datagram, one wakeup each, until one arrives in a tick
      let pings = 1;
      client.socket.on('message', () => {
        if (!burstAt && pings < 50) {
          pings++;
          send();
        }
      });
      send();
      await waitUntil(() => burstAt !== undefined || client.inbox.length === 50, 'a datagram delivered by a tick');
      expect(burstAt).toBeDefined();
      expect(pings).toBeLessThanOrEqual(10); // about six wakeups in quick succession, then ticks
      await waitUntil(() => client.inbox.length === pings + burst, 'every echo of the burst');
      expect(seen).toEqual([...Array(pings + burst).keys()]);
      const after = t.stats();
      expect(after.wakeups).toBe(burstAt!.wakeups); // the burst woke nothing: ticks drained it
      expect(after.ticks).toBeGreaterThanOrEqual(burstAt!.ticks + Math.floor(burst / 64));
      expect(after.received).toBe(pings + burst);
      // the first tick that finds the socket (nearly) empty goes back to waking on readability
      await waitUntil(() => t.stats().coalescing === 0, 'the end of coalescing');
      const quiet = t.stats();
      await pingPong();
      expect(t.stats().wakeups).toBe(quiet.wakeups + 1);
      expect(t.stats().ticks).toBe(quiet.ticks);
    });

    it('coalesceMicros 0 never coalesces', async () => {
      const { t, pingPong } = await echoing({ coalesceMicros: 0 });
      for (let i = 0; i < 20; i++) await pingPong();
      expect(t.stats()).toMatchObject({ received: 20, wakeups: 20, ticks: 0, coalescing: 0 });
    });

    it('refuses a coalescing threshold out of range', () => {
      expect(() => new NativeUdpTransport({ coalesceMicros: -1 })).toThrow(RangeError);
      expect(() => new NativeUdpTransport({ coalesceMicros: 10_000_001 })).toThrow(RangeError);
    });
  });

  it('gives each datagram its own copy by default, and a ring view with copyReceived: false', async () => {
    for (const copyReceived of [true, false]) {
      const t = track(new NativeUdpTransport({ copyReceived }));
      const kept: Buffer[] = [];
      t.onDatagram((d) => kept.push(d));
      await t.open({ bind: ['127.0.0.1'], ports: [0] });
      const client = await peer('udp4', '127.0.0.1');
      client.socket.send('first', t.sockets[0].port, '127.0.0.1');
      await waitUntil(() => kept.length === 1, 'first');
      client.socket.send('xxxxx', t.sockets[0].port, '127.0.0.1');
      await waitUntil(() => kept.length === 2, 'second');
      // slot 0 of the ring now holds the second datagram: only a copy still says "first"
      expect(kept[0].toString()).toBe(copyReceived ? 'first' : 'xxxxx');
    }
  });

  it('relays on the fast path: raw handler, sendToPath, fallthrough to the ordinary handler', async () => {
    const t = track(new NativeUdpTransport());
    const sink = await peer('udp4', '127.0.0.1');
    const path = createPathLookup();
    path.family = 4;
    path.ip4 = 0x7f000001;
    path.port = sink.port;
    const sources: RawSource[] = [];
    const ordinary: string[] = [];
    t.onRawDatagram((view, source, socket) => {
      if (view[0] !== 0x52) return false; // 'R': relay
      sources.push({ ...source, ip6: Uint32Array.from(source.ip6) });
      view[1] = 0x21; // edit in place, as incrementHopsForRelay does
      t.sendToPath(socket.index, path, view);
      return true;
    });
    t.onDatagram((d) => ordinary.push(d.toString()));
    await t.open({ bind: ['127.0.0.1'], ports: [0] });
    const client = await peer('udp4', '127.0.0.1');
    for (const m of ['R1', 'other', 'R2']) client.socket.send(m, t.sockets[0].port, '127.0.0.1');
    await waitUntil(() => sink.inbox.length === 2 && ordinary.length === 1, 'relayed and ordinary datagrams');
    expect(sink.inbox.map((m) => m.data.toString())).toEqual(['R!', 'R!']);
    expect(ordinary).toEqual(['other']);
    expect(sources[0]).toMatchObject({ family: 4, ip4: 0x7f000001, port: client.port });
  });

  it('survives a handler that closes the transport in the middle of a batch', async () => {
    const t = track(new NativeUdpTransport());
    const seen: string[] = [];
    t.onDatagram((d, from, socket) => {
      seen.push(d.toString());
      t.send(socket, from, Buffer.from('reply'));
      void t.close();
    });
    await t.open({ bind: ['127.0.0.1'], ports: [0] });
    const port = t.sockets[0].port;
    const client = await peer('udp4', '127.0.0.1');
    for (let i = 0; i < 10; i++) client.socket.send(`m${i}`, port, '127.0.0.1');
    await waitUntil(() => seen.length >= 1, 'the first datagram');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['m0']); // nothing after the close, not even the rest of that batch
    expect(client.inbox).toHaveLength(0); // the queued reply was dropped with the socket
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', () => resolve());
    });
    again.close();
  });

  it('closes its sockets when a worker thread that never closed them exits', async () => {
    const moduleUrl = new URL('../../src/node/batch-udp.ts', import.meta.url).href;
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const { NativeUdpTransport } = await import(${JSON.stringify(moduleUrl)});
        const t = new NativeUdpTransport();
        t.onDatagram((d, from, socket) => t.send(socket, from, Buffer.concat([Buffer.from('worker:'), d])));
        await t.open({ bind: ['127.0.0.1'], ports: [0] });
        parentPort.postMessage(t.sockets[0].port);
      })();
    `, { eval: true });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const client = await peer('udp4', '127.0.0.1');
    client.socket.send('hi', port, '127.0.0.1');
    await waitUntil(() => client.inbox.length === 1, 'the worker reply');
    expect(client.inbox[0].data.toString()).toBe('worker:hi');
    expect(await worker.terminate()).toBe(1);
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', () => resolve());
    });
    again.close();
  });

  it('sendToHost refuses text that is not an IP address of the socket family', () => {
    return (async () => {
      const t = track(new NativeUdpTransport());
      await t.open({ bind: ['127.0.0.1'], ports: [0] });
      for (const host of ['127.0.0', '127.0.0.256', '1.2.3.4.5', 'localhost', '::1', '']) t.sendToHost(0, host, 9, Buffer.from('x'));
      expect(t.sendErrors).toBe(6);
      expect(t.stats().sent).toBe(0);
    })();
  });
});

describe('createUdpTransport', () => {
  it("'off' gives the dgram transport", () => {
    expect(createUdpTransport({ native: 'off' })).toBeInstanceOf(UdpTransport);
  });

  it("'auto' gives the native transport exactly when the addon loads, and says which", () => {
    const lines: string[] = [];
    const log = { debug() {}, info: (m: string) => void lines.push(m), warn() {}, error() {} };
    const t = createUdpTransport({ native: 'auto', log });
    expect(t).toBeInstanceOf(native.ok ? NativeUdpTransport : UdpTransport);
    expect(lines).toEqual([native.ok ? 'UDP transport: native batch (recvmmsg/sendmmsg)' : 'UDP transport: dgram']);
  });

  it("'on' throws when the addon is unavailable", () => {
    if (native.ok) expect(createUdpTransport({ native: 'on' })).toBeInstanceOf(NativeUdpTransport);
    else expect(() => createUdpTransport({ native: 'on' })).toThrow(/native batch UDP unavailable/);
  });
});
