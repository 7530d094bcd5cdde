// Security checks of the abuse campaign (issue 14): secrets are written 0600, the API token is
// compared in constant time (every guess goes through timingSafeEqual, whatever its length), the
// HTTP listener is on loopback unless configured, and no secret reaches a log line or a metric.

import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const crypto = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:crypto')>();
  return {
    ...orig,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      crypto.calls++;
      return orig.timingSafeEqual(a, b);
    },
  };
});

const { tokensEqual: sameToken } = await import('../../src/api/auth.ts');
const { RootTarget } = await import('../../tools/fuzz/target.ts');
const { ROOT_DEFAULTS } = await import('../../src/root/constants.ts');

describe('token comparison', () => {
  it('goes through timingSafeEqual for every guess, of any length, and accepts only the token', () => {
    const token = 'abcdefghijklmnopqrstuvwx';
    const guesses = [undefined, '', 'a', token.slice(0, -1), `${token}y`, 'x'.repeat(24), 'x'.repeat(10_000), token.toUpperCase(), token];
    const before = crypto.calls;
    const results = guesses.map((g) => sameToken(g, token));
    expect(crypto.calls - before).toBe(guesses.length);
    expect(results).toEqual([false, false, false, false, false, false, false, false, true]);
  });
});

describe('a root started with an empty home', () => {
  let t: import('../../tools/fuzz/target.ts').RootTarget;
  beforeAll(async () => {
    // no --metrics-token: the root makes metricstoken.secret itself, and its identity
    t = await RootTarget.spawn({ args: ['--workers', '1', '--validation-threads', '1'], tokenFromHome: true });
  });
  afterAll(async () => { await t?.dispose(); });

  it('writes identity.secret and metricstoken.secret with mode 0600', () => {
    for (const f of ['identity.secret', 'metricstoken.secret']) expect((statSync(join(t.home, f)).mode & 0o777).toString(8)).toBe('600');
  });

  it('puts neither secret in a log line, the banner or /metrics', async () => {
    const secret = readFileSync(join(t.home, 'identity.secret'), 'utf8').trim().split(':')[3];
    const token = readFileSync(join(t.home, 'metricstoken.secret'), 'utf8').trim();
    expect(secret).toMatch(/^[0-9a-f]{128}$/);
    const metrics = await (await fetch(`http://${t.http}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toContain('ztroot_peers');
    for (const text of [t.stderr, t.stdout, metrics]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(token);
    }
  });
});

describe('the HTTP listener', () => {
  it('listens on loopback unless configured otherwise', () => {
    expect(ROOT_DEFAULTS.httpListen).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
