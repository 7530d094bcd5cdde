import { describe, expect, it } from 'vitest';
import { IpScope, ipScope } from '../../src/node/ip-scope.ts';
import { parseInetAddress } from '../../src/wire/inet-address.ts';

const scopeOf = (text: string) => {
  const a = parseInetAddress(`${text}/0`);
  if (!a) throw new Error(`bad address ${text}`);
  return ipScope(a);
};

describe('ipScope (1.14 InetAddress::ipScope)', () => {
  it.each([
    ['0.1.2.3', 'none'], ['255.1.2.3', 'none'], ['127.0.0.1', 'loopback'],
    ['6.1.2.3', 'pseudoprivate'], ['11.0.0.1', 'pseudoprivate'], ['56.9.9.9', 'pseudoprivate'], ['240.0.0.1', 'pseudoprivate'],
    ['10.147.17.5', 'private'], ['100.64.0.1', 'private'], ['100.127.255.255', 'private'], ['100.128.0.1', 'global'],
    ['169.254.1.1', 'link-local'], ['169.253.1.1', 'global'],
    ['172.16.0.1', 'private'], ['172.31.255.1', 'private'], ['172.32.0.1', 'global'],
    ['192.168.1.1', 'private'], ['192.0.2.7', 'private'], ['192.0.3.7', 'global'],
    ['198.18.0.1', 'private'], ['198.19.255.1', 'private'], ['198.20.0.1', 'global'], ['198.51.100.1', 'private'], ['203.0.113.9', 'private'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['8.8.8.8', 'global'], ['44.1.2.3', 'global'],
    ['ff02::1', 'multicast'], ['fe80::1', 'loopback'], ['fe80::2', 'link-local'], ['febf::1', 'loopback'], ['febf::2', 'link-local'],
    ['fd00::1', 'private'], ['fc12::1', 'private'], ['::1', 'loopback'], ['::', 'none'], ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'global'], ['2001:db8::1', 'global'],
  ])('%s is %s', (text, scope) => {
    const named: Record<string, IpScope> = {
      none: IpScope.none, multicast: IpScope.multicast, loopback: IpScope.loopback, pseudoprivate: IpScope.pseudoPrivate,
      global: IpScope.global, 'link-local': IpScope.linkLocal, private: IpScope.private,
    };
    expect(scopeOf(text)).toBe(named[scope]);
  });
});
