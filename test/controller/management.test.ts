// Who may use the controller API: loopback always; other clients only from the networks in
// allowManagementFrom (command line or local.conf, as zerotier-one reads it).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedFrom } from '../../src/api/auth.ts';
import { managementNetworks } from '../../src/controller/controller-role.ts';

describe('allowManagementFrom', () => {
  it('reads local.conf and the command line, and reports what does not parse', () => {
    const home = mkdtempSync(join(tmpdir(), 'ztroot-ctl-mgmt-'));
    try {
      expect(managementNetworks(home).networks).toEqual([]);
      writeFileSync(join(home, 'local.conf'), JSON.stringify({ settings: { allowManagementFrom: ['172.17.0.0/16', 'fd00::/8', 'nonsense'] } }));
      const { networks, bad } = managementNetworks(home, ['10.1.2.3']);
      expect(bad).toEqual(['nonsense']);
      expect(networks.map((n) => n.bits)).toEqual([32, 16, 8]);

      expect(allowedFrom('127.0.0.1', [])).toBe(true);
      expect(allowedFrom('::1', [])).toBe(true);
      expect(allowedFrom('::ffff:127.0.0.1', [])).toBe(true);
      expect(allowedFrom('172.17.0.5', [])).toBe(false);
      expect(allowedFrom('172.17.0.5', networks)).toBe(true);
      expect(allowedFrom('::ffff:172.17.9.9', networks)).toBe(true);
      expect(allowedFrom('172.18.0.5', networks)).toBe(false);
      expect(allowedFrom('10.1.2.3', networks)).toBe(true);
      expect(allowedFrom('10.1.2.4', networks)).toBe(false);
      expect(allowedFrom('fd12::1', networks)).toBe(true);
      expect(allowedFrom('fe80::1', networks)).toBe(false);
      expect(allowedFrom(undefined, networks)).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
