// The netif addon sets a device's MAC, MTU, addresses and routes without the `ip` program (so
// a leaf in a slim container can configure its TAP devices). Checked in a network namespace of
// its own on one end of a veth pair, and read back with `ip`.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE } from '../../tools/lab/lab-root.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { skipWithoutNetns } from '../support/skips.ts';
import type { ManagedRoute } from '../../src/leaf/managed-plan.ts';
import type { TapApplied, TapSettings } from '../../src/leaf/tap-device.ts';
import { existsSync } from 'node:fs';
import { nativeAddonPath } from '../../src/util/native-addon.ts';

const skip = skipWithoutNetns() || !existsSync(nativeAddonPath('netif'));

describe.skipIf(skip)('netif addon: a device configured as 1.14 configures its TAP', () => {
  const lab = new NetnsLab();
  afterAll(() => lab.destroy());
  const ns = skip ? '' : lab.namespace('nf');
  if (!skip) {
    lab.ip(ns, 'link', 'add', 'ztdummy0', 'type', 'veth', 'peer', 'name', 'ztpeer0');
    lab.ip(ns, 'link', 'set', 'ztpeer0', 'up');
  }

  const configure = (device: string, s: TapSettings, current: TapApplied): { applied?: TapApplied; error?: string; message?: string } =>
    JSON.parse(lab.exec(ns, NODE, [join(import.meta.dirname, 'netif-child.ts'), device, JSON.stringify(s), JSON.stringify(current)]));
  const link = () => (JSON.parse(lab.ip(ns, '-j', 'link', 'show', 'dev', 'ztdummy0')) as { address: string; mtu: number; flags: string[] }[])[0];
  const addresses = () => (JSON.parse(lab.ip(ns, '-j', 'addr', 'show', 'dev', 'ztdummy0')) as { addr_info: { local: string; prefixlen: number; scope: string }[] }[])[0]
    .addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`).sort();
  const routes = (family: '-4' | '-6') => (JSON.parse(lab.ip(ns, family, '-j', 'route', 'show', 'dev', 'ztdummy0')) as { dst: string; gateway?: string; from?: string; metric?: number; protocol?: string }[])
    .filter((r) => r.protocol === 'static').map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.metric ? ` metric ${r.metric}` : ''}${r.from ? ` from ${r.from}` : ''}`).sort();

  const routesV4: ManagedRoute[] = [
    { target: '10.20.0.0/16', via: '10.147.17.1', src: '10.147.17.5/24' },
    { target: '10.30.0.0/16', src: '10.147.17.5/24' },
    { target: '0.0.0.0/1', via: '10.147.17.1', src: '10.147.17.5/24' },
    { target: '128.0.0.0/1', via: '10.147.17.1', src: '10.147.17.5/24' },
  ];
  const first: TapSettings = {
    mac: '32:7a:1d:ac:9e:01', mtu: 2800,
    addresses: ['10.147.17.5/24', 'fd80:56c2:e21c:0:199:9301:87a7:f3c6/88'],
    routes: [...routesV4, { target: 'fd00:1::/32', via: 'fd80:56c2:e21c:0:199:9301::1', src: 'fd80:56c2:e21c:0:199:9301:87a7:f3c6/88' }],
  };
  let applied: TapApplied = { addresses: [], routes: [] };

  it('sets the MAC, the MTU, brings it up, adds the addresses and the routes (with gateway, without, and the default route halves)', () => {
    const r = configure('ztdummy0', first, applied);
    expect(r.error, r.message).toBeUndefined();
    applied = r.applied!;
    expect(applied.routes).toHaveLength(5);
    expect(link()).toMatchObject({ address: '32:7a:1d:ac:9e:01', mtu: 2800 });
    expect(link().flags).toContain('UP');
    expect(addresses()).toEqual(['10.147.17.5/24', 'fd80:56c2:e21c:0:199:9301:87a7:f3c6/88']);
    expect(routes('-4')).toEqual([
      '0.0.0.0/1 via 10.147.17.1 metric 5000', '10.20.0.0/16 via 10.147.17.1 metric 5000',
      // IPv4 keeps no source prefix on a route (1.14 sends one; the kernel drops it)
      '10.30.0.0/16', '128.0.0.0/1 via 10.147.17.1 metric 5000',
    ]);
    expect(routes('-6')).toEqual(['fd00:1::/32 via fd80:56c2:e21c:0:199:9301:0:1 metric 5000']);
  });

  it('a new config: what it no longer has is removed, the rest kept; a route the kernel refuses is skipped', () => {
    const next: TapSettings = {
      mac: '32:7a:1d:ac:9e:01', mtu: 2800, addresses: ['10.147.17.5/24'],
      routes: [routesV4[0], { target: '10.40.0.0/16', via: '192.0.2.1', src: '10.147.17.5/24' }], // unreachable gateway
    };
    const r = configure('ztdummy0', next, applied);
    expect(r.error, r.message).toBeUndefined();
    expect(r.applied!.routes).toEqual([routesV4[0]]);
    expect(addresses()).toEqual(['10.147.17.5/24']);
    expect(routes('-4')).toEqual(['10.20.0.0/16 via 10.147.17.1 metric 5000']);
    expect(routes('-6')).toEqual([]);
  });

  it('an unknown device is an error with its errno name', () => {
    expect(configure('ztnosuch0', first, { addresses: [], routes: [] }).error).toBe('ENODEV');
  });
});
