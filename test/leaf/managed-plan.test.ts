// What a network's config puts on the host, by 1.14's rules (docs/protocol/09-local-api-and-cli.md §6).
import { describe, expect, it } from 'vitest';
import { DEFAULT_NETWORK_SETTINGS, type NetworkSettings } from '../../src/leaf/leaf-home.ts';
import { managedPlan } from '../../src/leaf/managed-plan.ts';
import { NIL_ADDRESS, parseInetAddress, type InetAddress } from '../../src/wire/inet-address.ts';
import type { Route } from '../../src/wire/netconf/network-config.ts';

const net = (text: string): InetAddress => {
  const a = parseInetAddress(text);
  if (!a) throw new Error(`bad ${text}`);
  return a;
};
const ip = (text: string): InetAddress => net(`${text}/0`);
const route = (target: string, via?: string): Route => ({ target: net(target), via: via ? ip(via) : NIL_ADDRESS, flags: 0, metric: 0 });
const settings = (s: Partial<NetworkSettings> = {}): NetworkSettings => ({ ...DEFAULT_NETWORK_SETTINGS, ...s });

describe('managed addresses and routes', () => {
  const config = {
    staticIps: [net('10.147.17.5/24'), net('fd80:56c2:e21c:0:199:9301:87a7:f3c6/88'), net('44.1.2.3/16'), net('fe80::99/64')],
    routes: [
      route('10.147.17.0/24'), // implied by the address
      route('10.20.0.0/16', '10.147.17.1'),
      route('10.30.0.0/16'), // straight onto the device
      route('192.168.50.0/24', '10.147.17.5'), // via ourselves: skipped
      route('0.0.0.0/0', '10.147.17.1'),
      route('2001:db8::/32', 'fd80:56c2:e21c::1'),
      route('44.1.0.0/16'),
      route('44.9.0.0/16', '10.147.17.1'),
    ],
  };

  it('defaults (allowManaged only): private addresses and routes, no global, no default, never link-local', () => {
    expect(managedPlan(config, settings())).toEqual({
      addresses: ['10.147.17.5/24', 'fd80:56c2:e21c:0:199:9301:87a7:f3c6/88'],
      routes: [
        { target: '10.20.0.0/16', via: '10.147.17.1', src: '10.147.17.5/24' },
        { target: '10.30.0.0/16', src: '10.147.17.5/24' },
      ],
    });
  });

  it('allowGlobal adds global addresses and routes to global targets; allowDefault splits the default route in two halves', () => {
    const plan = managedPlan(config, settings({ allowGlobal: true, allowDefault: true }));
    expect(plan.addresses).toEqual(['10.147.17.5/24', '44.1.2.3/16', 'fd80:56c2:e21c:0:199:9301:87a7:f3c6/88']);
    expect(plan.routes).toEqual([
      { target: '10.20.0.0/16', via: '10.147.17.1', src: '10.147.17.5/24' },
      { target: '10.30.0.0/16', src: '10.147.17.5/24' },
      { target: '0.0.0.0/1', via: '10.147.17.1', src: '10.147.17.5/24' },
      { target: '128.0.0.0/1', via: '10.147.17.1', src: '10.147.17.5/24' },
      { target: '2001:db8::/32', via: 'fd80:56c2:e21c::1', src: 'fd80:56c2:e21c:0:199:9301:87a7:f3c6/88' },
      // 44.1.0.0/16 is implied by 44.1.2.3/16; 44.9.0.0/16 takes the source sharing the most bits
      { target: '44.9.0.0/16', via: '10.147.17.1', src: '44.1.2.3/16' },
    ]);
  });

  it('a route whose best source the settings kept off the device is not installed', () => {
    const plan = managedPlan(config, settings());
    expect(plan.routes.find((r) => r.target.startsWith('44.9.'))).toBeUndefined();
  });

  it('allowManaged off: nothing at all', () => {
    expect(managedPlan(config, settings({ allowManaged: false, allowGlobal: true, allowDefault: true }))).toEqual({ addresses: [], routes: [] });
  });

  it('no address of the route family: no route', () => {
    expect(managedPlan({ staticIps: [net('10.1.1.1/24')], routes: [route('fd00::/8')] }, settings()).routes).toEqual([]);
  });
});
