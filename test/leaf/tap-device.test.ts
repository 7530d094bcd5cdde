// The TAP addon's batched read ring and writev (native/src/tap.c through src/leaf/tap-device.ts),
// against the kernel in a network namespace of its own: every frame the kernel sends arrives
// whole and in order, a frame larger than a read slot is counted and dropped (never handed on
// cut), and a write larger than any frame is refused and counted.
//
// Skips (does not fail, and says why) without root and `ip netns`, without `ping`, or without
// the tap addon.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddonPath } from '../../src/util/native-addon.ts';
import { NODE } from '../../tools/lab/lab-root.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { missingCommand, skipGroup, skipWithoutNetns } from '../support/skips.ts';

const unavailable = skipWithoutNetns() || skipGroup('TAP addon test', missingCommand('ping', 'iputils-ping') ??
  (existsSync(nativeAddonPath('tap')) ? undefined : 'the tap addon is not built (npm run build:native)'));

const NEIGHBOUR_MAC = '02:00:00:00:00:02';

interface ProbeResult {
  frames: { length: number; destination: string; etherType: number }[];
  stats: { frames: number; batches: number; short: number; oversized: number; readErrors: number; writeErrors: number };
  written: boolean;
  tooLarge: boolean;
}

describe.skipIf(unavailable)('TAP device: batched reads and writev', () => {
  let lab: NetnsLab;
  let result: ProbeResult;

  beforeAll(() => {
    lab = new NetnsLab();
    const ns = lab.namespace('tap');
    const out = lab.exec(ns, NODE, [join(import.meta.dirname, 'tap-probe.ts'), 'lftap0', NEIGHBOUR_MAC]);
    result = JSON.parse(out) as ProbeResult;
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('hands on every frame the kernel sent, whole, in batches', () => {
    const pings = result.frames.filter((f) => f.destination === NEIGHBOUR_MAC && f.etherType === 0x0800);
    expect(pings).toHaveLength(20);
    for (const f of pings) expect(f.length).toBe(14 + 20 + 8 + 56);
    expect(result.stats.frames).toBe(result.frames.length);
    expect(result.stats.batches).toBeGreaterThan(0);
    expect(result.stats.batches).toBeLessThanOrEqual(result.stats.frames);
  });

  it('counts and drops frames larger than a read slot instead of handing them on cut', () => {
    expect(result.stats.oversized).toBeGreaterThanOrEqual(2);
    expect(result.frames.every((f) => f.length < 10_240)).toBe(true);
    expect(result.stats.short).toBe(0);
    expect(result.stats.readErrors).toBe(0);
  });

  it('writes a frame from header and payload, and refuses (and counts) one larger than any frame', () => {
    expect(result.written).toBe(true);
    expect(result.tooLarge).toBe(false);
    expect(result.stats.writeErrors).toBe(1);
  });
});
