// Run by tap-device.test.ts inside a network namespace of its own: opens a TAP device with the
// leaf's openTap, makes the kernel send it frames (ping to a static neighbour, one ping larger
// than a read slot), writes frames to it (one too large), and prints what it saw as JSON.

import { execFileSync } from 'node:child_process';
import { openTap } from '../../src/leaf/tap-device.ts';
import { formatMac, macFromBytes } from '../../src/wire/mac.ts';

const [name, neighbourMac] = process.argv.slice(2);
const frames: { length: number; destination: string; etherType: number }[] = [];
const tap = openTap(name, (f) => frames.push({ length: f.length, destination: formatMac(macFromBytes(f, 0)), etherType: (f[12] << 8) | f[13] }));
if ('reason' in tap) throw new Error(tap.reason);
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
// a device MTU above the 10240-byte read slot, so the kernel can send a frame that does not fit
ip('link', 'set', 'dev', name, 'mtu', '16000', 'up');
ip('addr', 'add', '198.18.99.1/24', 'dev', name);
ip('neigh', 'add', '198.18.99.2', 'lladdr', neighbourMac, 'dev', name, 'nud', 'permanent');
const ping = (size: number, count: number): void => {
  try {
    execFileSync('ping', ['-c', String(count), '-i', '0.01', '-W', '0.2', '-s', String(size), '198.18.99.2'], { stdio: 'ignore' });
  } catch { /* nobody answers: only the requests matter */ }
};
ping(56, 20);
ping(12_000, 2); // 12042-byte frames: counted as oversized and dropped
await new Promise((r) => setTimeout(r, 300));
const written = tap.write(0xffff_ffff_ffff, 0x0200_0000_0001, 0x88b5, new Uint8Array(100));
const tooLarge = tap.write(0xffff_ffff_ffff, 0x0200_0000_0001, 0x88b5, new Uint8Array(20_000));
const stats = tap.stats();
tap.close();
process.stdout.write(JSON.stringify({ frames, stats, written, tooLarge }));
