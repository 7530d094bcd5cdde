// A leaf's home directory, laid out as zerotier-one's (09-local-api-and-cli.md §1), so an existing
// zerotier-one home works as it is and zerotier-cli finds the port and token where it looks:
// identity.secret/public, planet, moons.d/<id>.moon, networks.d/<nwid>.conf and .local.conf,
// authtoken.secret, zerotier-one.port.

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { hex64 } from '../util/hex.ts';

export const LEAF_FILES = {
  networksDir: 'networks.d',
  /** The primary port as decimal text: what zerotier-cli reads to find the local API. */
  port: 'zerotier-one.port',
} as const;

/** `<16 hex>.conf`: a joined network (its last config, or "\n" before the first one). */
const NETWORK_CONF = /^([0-9a-f]{16})\.conf$/;

/** Per-network local settings (networks.d/<nwid>.local.conf), 1.14's defaults. */
export interface NetworkSettings {
  allowManaged: boolean;
  allowGlobal: boolean;
  allowDefault: boolean;
  allowDNS: boolean;
}
export const DEFAULT_NETWORK_SETTINGS: Readonly<NetworkSettings> = Object.freeze({
  allowManaged: true, allowGlobal: false, allowDefault: false, allowDNS: false,
});
const SETTING_KEYS = ['allowManaged', 'allowGlobal', 'allowDefault', 'allowDNS'] as const;


function confPath(home: string, nwid: bigint, suffix: '.conf' | '.local.conf'): string {
  return join(home, LEAF_FILES.networksDir, `${hex64(nwid)}${suffix}`);
}

/** Networks joined in this home (every networks.d/<16 hex>.conf), each with its saved config, if any. */
export function joinedNetworks(home: string): { nwid: bigint; config: Uint8Array | undefined; settings: NetworkSettings }[] {
  let names: string[] = [];
  try {
    names = readdirSync(join(home, LEAF_FILES.networksDir));
  } catch { /* none joined */ }
  const out = [];
  for (const name of names.sort()) {
    const m = NETWORK_CONF.exec(name);
    if (!m) continue;
    const nwid = BigInt(`0x${m[1]}`);
    const bytes = new Uint8Array(readFileSync(join(home, LEAF_FILES.networksDir, name)));
    out.push({ nwid, config: bytes.length > 1 ? bytes : undefined, settings: readNetworkSettings(home, nwid) });
  }
  return out;
}

/** Mark a network joined (a "\n" placeholder until its config arrives) and save its settings. */
export function saveJoined(home: string, nwid: bigint, settings: NetworkSettings): void {
  if (!existsSync(confPath(home, nwid, '.conf'))) writeFileAtomic(confPath(home, nwid, '.conf'), '\n');
  saveNetworkSettings(home, nwid, settings);
}

export function saveNetworkConfig(home: string, nwid: bigint, dictionary: Uint8Array): void {
  writeFileAtomic(confPath(home, nwid, '.conf'), dictionary);
}

export function forgetNetwork(home: string, nwid: bigint): void {
  rmSync(confPath(home, nwid, '.conf'), { force: true });
  rmSync(confPath(home, nwid, '.local.conf'), { force: true });
}

/** 1.14 writes these as `key=0|1` lines. */
export function saveNetworkSettings(home: string, nwid: bigint, s: NetworkSettings): void {
  writeFileAtomic(confPath(home, nwid, '.local.conf'), SETTING_KEYS.map((k) => `${k}=${s[k] ? 1 : 0}\n`).join(''));
}

export function readNetworkSettings(home: string, nwid: bigint): NetworkSettings {
  const s = { ...DEFAULT_NETWORK_SETTINGS };
  let text = '';
  try {
    text = readFileSync(confPath(home, nwid, '.local.conf'), 'utf8');
  } catch {
    return s;
  }
  for (const line of text.split('\n')) {
    const [k, v] = line.split('=');
    if ((SETTING_KEYS as readonly string[]).includes(k)) s[k as keyof NetworkSettings] = v?.trim() === '1';
  }
  return s;
}
