// Root configuration: defaults, a JSON config file, then command-line flags (each overriding the
// one before). Every problem is reported as one ConfigError line naming the key.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseInetAddress, type IpAddress } from '../wire/inet-address.ts';
import { DEFAULT_IDENTITY_CACHE_ENTRIES } from '../node/identity-store.ts';
import { ROOT_DEFAULTS } from './constants.ts';

export class ConfigError extends Error {}

export interface RootConfig {
  /** Home directory: identity, worlds, identity cache. */
  home: string;
  /** Local IPs to bind UDP on; empty = every local address. */
  bind: string[];
  /** UDP ports (the first is the primary). */
  ports: number[];
  /**
   * The planet this root lives in, apart from the worlds it serves: a planet file, or "public"
   * for ZeroTier's public planet (never used unless named). Unset: `<home>/planet`, if present.
   */
  planet: string | undefined;
  /** Relay only while the packet's hop count is below this. */
  relayMaxHops: number;
  /** Other roots of the same world that receive packets for destinations this root does not know. */
  siblings: IpAddress[];
  /** Identities held in memory in front of the on-disk cache. */
  identityCacheEntries: number;
  /** Validation worker threads (0 = one per core). */
  validationThreads: number;
  /** Packet worker threads; undefined = on demand (one, then up to one per core while busy; src/root/worker-scaler.ts), 0 = the packet path on the main thread. */
  workers: number | undefined;
  /** Peers the shared peer table is sized for (104 bytes per slot, 1.5 slots per peer). */
  maxPeers: number;
  /** Peers each packet thread keeps in memory; others are rebuilt on demand from the cache and table. */
  peerCacheEntries: number;
  /** UDP through the recvmmsg/sendmmsg addon: 'auto' when it is built, 'on' (or fail), 'off' (dgram). */
  nativeUdp: 'auto' | 'on' | 'off';
  /**
   * Receive coalescing of the batch UDP addon, µs (0 = off, the default): while a socket wakes
   * its thread more often than once per this many µs on average, it is drained on a 1 ms tick.
   */
  udpCoalesceMicros: number;
  /**
   * Known peers' HELLOs answered inside the batch UDP addon (native/src/hello_fast.h): 'on' (the
   * default; takes effect only with the addon's transport) or 'off' (every HELLO in TypeScript).
   */
  nativeHello: 'on' | 'off';
  /** HTTP listener for /health, /metrics and /peers ("" disables it). */
  httpListen: string;
  /** Bearer token required by /metrics and /peers (from metricsTokenFile when unset). */
  metricsToken: string | undefined;
  /** Log format. */
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** The home directory when none is given: $ZTROOT_HOME, /var/lib/ztroot for root, else ~/.ztroot. */
export function defaultHome(): string {
  if (process.env.ZTROOT_HOME) return process.env.ZTROOT_HOME;
  if (process.getuid?.() === 0) return '/var/lib/ztroot';
  return join(homedir(), '.ztroot');
}

export function defaultConfig(): RootConfig {
  return {
    home: defaultHome(),
    bind: [],
    ports: [ROOT_DEFAULTS.port],
    planet: undefined,
    relayMaxHops: ROOT_DEFAULTS.relayMaxHops,
    siblings: [],
    identityCacheEntries: DEFAULT_IDENTITY_CACHE_ENTRIES,
    validationThreads: 0,
    workers: undefined,
    maxPeers: ROOT_DEFAULTS.maxPeers,
    nativeUdp: 'auto',
    udpCoalesceMicros: 0,
    nativeHello: 'on',
    peerCacheEntries: ROOT_DEFAULTS.peerCacheEntries,
    httpListen: ROOT_DEFAULTS.httpListen,
    metricsToken: undefined,
    logLevel: 'info',
  };
}

function port(v: unknown, key: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${key} must be a port number (0-65535), got ${JSON.stringify(v)}`);
  return n;
}

function positiveInt(v: unknown, key: string, min = 1, max = 2 ** 31): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function ip(v: unknown, key: string): string {
  if (typeof v !== 'string' || !parseInetAddress(v) || v.includes('/')) throw new ConfigError(`${key} must be an IP address, got ${JSON.stringify(v)}`);
  return v;
}

function endpoint(v: unknown, key: string): IpAddress {
  const a = typeof v === 'string' && v.includes('/') ? parseInetAddress(v) : null;
  if (!a || a.port === 0) throw new ConfigError(`${key} must be "IP/port", got ${JSON.stringify(v)}`);
  return a;
}

function list(v: unknown, key: string): unknown[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!Array.isArray(v)) throw new ConfigError(`${key} must be a list`);
  return v;
}

function listen(v: unknown, key: string): string {
  if (v === '' || v === false) return '';
  if (typeof v !== 'string' || !/^(\[[0-9a-fA-F:]+\]|[0-9.]+|[0-9a-fA-F:]+):\d+$/.test(v)) {
    throw new ConfigError(`${key} must be "IP:port" (IPv6 as "[addr]:port"), or "" to disable, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Keys accepted in the JSON file and as --flags (camelCase in JSON, kebab-case on the command line). */
const APPLY: Record<string, (c: RootConfig, v: unknown) => void> = {
  home: (c, v) => { if (typeof v !== 'string' || !v) throw new ConfigError('home must be a directory path'); c.home = v; },
  bind: (c, v) => { c.bind = list(v, 'bind').map((x, i) => ip(x, `bind[${i}]`)); },
  port: (c, v) => { c.ports = [port(v, 'port')]; },
  ports: (c, v) => { c.ports = list(v, 'ports').map((x, i) => port(x, `ports[${i}]`)); if (c.ports.length === 0) throw new ConfigError('ports must not be empty'); },
  planet: (c, v) => { if (typeof v !== 'string' || v.trim() === '') throw new ConfigError('planet must be a planet file path or "public"'); c.planet = v.trim(); },
  relayMaxHops: (c, v) => { c.relayMaxHops = positiveInt(v, 'relayMaxHops', 0, 7); },
  siblings: (c, v) => { c.siblings = list(v, 'siblings').map((x, i) => endpoint(x, `siblings[${i}]`)); },
  identityCacheEntries: (c, v) => { c.identityCacheEntries = positiveInt(v, 'identityCacheEntries', 1); },
  validationThreads: (c, v) => { c.validationThreads = positiveInt(v, 'validationThreads', 0, 256); },
  workers: (c, v) => { c.workers = positiveInt(v, 'workers', 0, 256); },
  peerCacheEntries: (c, v) => { c.peerCacheEntries = positiveInt(v, 'peerCacheEntries', 16); },
  nativeUdp: (c, v) => {
    if (v !== 'auto' && v !== 'on' && v !== 'off') throw new ConfigError('nativeUdp must be auto, on or off');
    c.nativeUdp = v;
  },
  udpCoalesceMicros: (c, v) => { c.udpCoalesceMicros = positiveInt(v, 'udpCoalesceMicros', 0, 1_000_000); },
  nativeHello: (c, v) => {
    if (v !== 'on' && v !== 'off') throw new ConfigError('nativeHello must be on or off');
    c.nativeHello = v;
  },
  maxPeers: (c, v) => { c.maxPeers = positiveInt(v, 'maxPeers', 1024, 100_000_000); },
  httpListen: (c, v) => { c.httpListen = listen(v, 'httpListen'); },
  metricsToken: (c, v) => { if (typeof v !== 'string' || v.trim() === '') throw new ConfigError('metricsToken must be a non-empty string'); c.metricsToken = v.trim(); },
  logLevel: (c, v) => {
    if (v !== 'debug' && v !== 'info' && v !== 'warn' && v !== 'error') throw new ConfigError('logLevel must be debug, info, warn or error');
    c.logLevel = v;
  },
};

export const CONFIG_KEYS = Object.keys(APPLY);

export function applySettings(config: RootConfig, settings: Record<string, unknown>, origin: string): RootConfig {
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    const apply = APPLY[key];
    if (!apply) throw new ConfigError(`${origin}: unknown setting "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
    try {
      apply(config, value);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${origin}: ${e.message}`);
      throw e;
    }
  }
  return config;
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`cannot read config file ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  return json as Record<string, unknown>;
}

/** defaults ← config file (if any) ← flags. */
export function resolveConfig(flags: Record<string, unknown>, configFile?: string): RootConfig {
  const config = defaultConfig();
  if (configFile) applySettings(config, readConfigFile(configFile), configFile);
  return applySettings(config, flags, 'command line');
}
