import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createPathLookup, ip4Text, ip6Text, PEER_TABLE_SLOT_BYTES, SharedPeerTable } from '../../src/node/shared-peer-table.ts';

const v4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));

describe('SharedPeerTable', () => {
  it('records and looks up the freshest IPv4 and IPv6 paths', () => {
    const t = SharedPeerTable.create(2048);
    const out = createPathLookup();
    expect(t.lookup(0x1122334455, out).found).toBe(false);
    t.notePath(0x1122334455, v4('198.18.0.2'), 9993, 1, 100);
    expect(t.lookup(0x1122334455, out)).toMatchObject({ found: true, family: 4, port: 9993, socket: 1, seen: 100 });
    expect(ip4Text(out.ip4)).toBe('198.18.0.2');
    const six = new Uint8Array(16);
    six[0] = 0x20; six[1] = 0x01; six[2] = 0x0d; six[3] = 0xb8; six[15] = 1;
    t.notePath(0x1122334455, six, 443, 2, 101);
    expect(t.lookup(0x1122334455, out)).toMatchObject({ found: true, family: 6, port: 443, socket: 2 });
    expect(ip6Text(out.ip6)).toBe('2001:db8::1');
    expect(t.lookup(0x1122334455, out, 4)).toMatchObject({ found: true, family: 4, port: 9993 });
    t.notePath(0x1122334455, v4('198.18.0.3'), 1234, 1, 102);
    expect(t.lookup(0x1122334455, out)).toMatchObject({ family: 4, port: 1234 });
    expect(t.size).toBe(1);
    expect(t.lastSeen(0x1122334455)).toBe(102);
  });

  it('keeps addresses that differ only in the high byte apart', () => {
    const t = SharedPeerTable.create(1024);
    const out = createPathLookup();
    t.notePath(0x0100000001, v4('10.0.0.1'), 1, 0, 1);
    t.notePath(0x0200000001, v4('10.0.0.2'), 2, 0, 1);
    expect(t.lookup(0x0100000001, out).port).toBe(1);
    expect(t.lookup(0x0200000001, out).port).toBe(2);
    expect(t.lookup(0x0300000001, out).found).toBe(false);
  });

  it('expires silent peers and reuses their slots; probe chains survive deletions', () => {
    const t = SharedPeerTable.create(1024);
    const out = createPathLookup();
    for (let a = 1; a <= 600; a++) t.notePath(a * 7919, v4('10.0.0.1'), a, 0, a <= 300 ? 10 : 20);
    expect(t.size).toBe(600);
    expect(t.expire(15)).toBe(300);
    expect(t.size).toBe(300);
    for (let a = 301; a <= 600; a++) expect(t.lookup(a * 7919, out).port).toBe(a);
    for (let a = 1; a <= 300; a++) expect(t.has(a * 7919)).toBe(false);
    for (let a = 1000; a < 1600; a++) expect(t.notePath(a * 7919, v4('10.0.0.1'), 1, 0, 30)).toBe(true);
    expect(t.size).toBe(900);
  });

  it('refuses inserts when full instead of looping', () => {
    const t = SharedPeerTable.create(1024);
    let ok = 0;
    for (let a = 1; a <= 1100; a++) if (t.notePath(a, v4('10.0.0.1'), 1, 0, 1)) ok++;
    expect(ok).toBe(1023);
  });

  it('costs 104 bytes per slot, 156 per peer at 1.5 slots per peer (plus a word per 32 slots), with no rounding up', () => {
    expect(PEER_TABLE_SLOT_BYTES).toBe(104);
    const t = SharedPeerTable.forPeers(1_000_000);
    expect(t.capacity).toBe(1_500_000);
    expect(t.buffer.byteLength).toBeLessThan(1_000_000 * 156.2 + 64);
  });

  it('leaves the pages of unused slots untouched: lookups of unknown addresses and expiry scans do not make it resident', () => {
    const rssMb = (): number => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
    const before = rssMb();
    const t = SharedPeerTable.forPeers(1_000_000); // ~149 MiB reserved
    for (let a = 1; a <= 1000; a++) t.notePath(a * 0x9e3779b, v4('10.0.0.1'), 1, 0, 1);
    const out = createPathLookup();
    for (let k = 0; k < 200_000; k++) t.lookup(k * 0x5deece66d % 2 ** 40, out);
    expect(t.expire(0)).toBe(0);
    expect(t.expire(2)).toBe(1000);
    expect(t.size).toBe(0);
    // 1000 peers touch at most 2000 pages (8 MiB); the whole table would be 149 MiB
    expect(rssMb() - before).toBeLessThan(40);
  });

  it('finds every address of a table filled to two-thirds of a capacity that is not a power of two', () => {
    const t = SharedPeerTable.create(3001);
    const out = createPathLookup();
    const addresses = Array.from({ length: 2000 }, (_, i) => (0x0100000000 + i * 0x9e3779b) % 2 ** 40);
    for (const [i, a] of addresses.entries()) expect(t.notePath(a, v4('10.0.0.1'), 1000 + i, i % 4, 1)).toBe(true);
    expect(t.size).toBe(2000);
    for (const [i, a] of addresses.entries()) expect(t.lookup(a, out)).toMatchObject({ found: true, port: 1000 + i, socket: i % 4 });
    expect(t.has(0x0fffffffff)).toBe(false);
  });

  it('keeps each peer\'s 48-byte key for any thread, without disturbing its paths', () => {
    const t = SharedPeerTable.create(1024);
    const key = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 5) & 255);
    const out = new Uint8Array(48);
    expect(t.loadKey(0x0123456789, out)).toBe(false);
    t.notePath(0x0123456789, v4('10.1.2.3'), 4444, 0, 5);
    expect(t.loadKey(0x0123456789, out)).toBe(false);
    expect(t.storeKey(0x0123456789, key)).toBe(true);
    expect(t.loadKey(0x0123456789, out)).toBe(true);
    expect([...out]).toEqual([...key]);
    expect(t.lookup(0x0123456789, createPathLookup())).toMatchObject({ found: true, port: 4444 });
    t.storeKey(0x0abcdef012, key);
    expect(t.size).toBe(2);
    expect(t.lastSeen(0x0abcdef012)).toBe(0); // a key alone does not make the peer heard from
  });

  it('never shows a torn path while other threads write it', async () => {
    const t = SharedPeerTable.create(4096);
    const addresses = Array.from({ length: 64 }, (_, i) => 0x0a00000000 + i * 104729);
    // writers store port p with IPv4 address 10.(p>>8).(p&255).1 so a reader can check consistency
    const workerSource = new URL('./shared-peer-table.writer.ts', import.meta.url);
    const workers = [0, 1].map((seed) => new Worker(workerSource, { workerData: { buffer: t.buffer, addresses, seed, rounds: 20000 } }));
    const out = createPathLookup();
    let checks = 0;
    let done = 0;
    const finished = new Promise<void>((resolve, reject) => {
      for (const w of workers) {
        w.on('message', () => { if (++done === workers.length) resolve(); });
        w.on('error', reject);
      }
    });
    let running = true;
    void finished.then(() => { running = false; });
    while (running) {
      for (const a of addresses) {
        if (!t.lookup(a, out, 4).found) continue;
        const p = out.port;
        expect(out.ip4 >>> 0).toBe(((10 << 24) | ((p >> 8) << 16) | ((p & 255) << 8) | 1) >>> 0);
        checks++;
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(workers.map((w) => w.terminate()));
    expect(checks).toBeGreaterThan(0);
    expect(t.size).toBe(addresses.length);
  });
});
