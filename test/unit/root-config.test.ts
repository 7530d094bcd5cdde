// Root configuration keys added with issue 13: defaults and validation.
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/root/config.ts';
import { DEFAULT_IDENTITY_CACHE_ENTRIES } from '../../src/node/identity-store.ts';

describe('root configuration', () => {
  it('leaves receive coalescing off and packet workers on demand unless asked', () => {
    const c = resolveConfig({});
    expect(c.udpCoalesceMicros).toBe(0);
    expect(c.workers).toBeUndefined();
    expect(c.identityCacheEntries).toBe(DEFAULT_IDENTITY_CACHE_ENTRIES);
  });

  it('takes --udp-coalesce-us as a whole number of µs and refuses anything else', () => {
    expect(resolveConfig({ udpCoalesceMicros: '200' }).udpCoalesceMicros).toBe(200);
    for (const bad of ['-1', 'soon', '1.5', '2000000']) expect(() => resolveConfig({ udpCoalesceMicros: bad }), bad).toThrow(ConfigError);
  });

  it('answers known peers\' HELLOs natively unless --native-hello off', () => {
    expect(resolveConfig({}).nativeHello).toBe('on');
    expect(resolveConfig({ nativeHello: 'off' }).nativeHello).toBe('off');
    for (const bad of ['auto', 'yes', '', 1]) expect(() => resolveConfig({ nativeHello: bad }), String(bad)).toThrow(ConfigError);
  });
});
