// `ztroot cli`: zerotier-cli's commands, switches, output and exit codes
// (docs/protocol/09-local-api-and-cli.md §5), against the local API of a ztroot leaf or
// controller node — or of a real zerotier-one. Output is held to zerotier-cli 1.14.1's, recorded in
// test/fixtures/zerotier-1.14.1/api-and-cli.json.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultHome } from '../root/config.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const VERSION = '1.14.1';
const DEFAULT_PORT = 9993;
/** The settings `set` may change, each a boolean. */
const NETWORK_SETTINGS = ['allowManaged', 'allowGlobal', 'allowDefault', 'allowDNS'];

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The environment's home directory for the token fallback (~/.zeroTierOneAuthToken). */
  userHome?: string;
}

const HELP = `ztroot cli (zerotier-cli ${VERSION} compatible)
Usage: ztroot cli [-switches] <command/path> [<args>]

Available switches:
  -h                      - Display this help
  -v                      - Show version
  -j                      - Display full raw JSON output
  -D<path>                - ZeroTier home path for parameter auto-detect
  -p<port>                - HTTP port (default: auto)
  -T<token>               - Authentication token (default: auto)
  -H<ip>                  - API host (default: 127.0.0.1)

Available commands:
  info                    - Display status info
  listpeers               - List all peers
  peers                   - List all peers (prettier)
  listnetworks            - List all networks
  join <network ID>       - Join a network
  leave <network ID>      - Leave a network
  set <network ID> <setting=value> - Set a network setting (allowManaged, allowGlobal, allowDefault, allowDNS)
  get <network ID> <setting> - Get a network setting or address (ip, ip4, ip6, or a property)
  listmoons               - List moons (federated root sets)
  orbit <world ID> <seed> - Join a moon via any member root
  deorbit <world ID>      - Leave a moon
  /<path>                 - GET a path of the local API and print the raw body
`;

/** JSON as zerotier-cli prints it: keys sorted (nlohmann's map), one space per level. */
export function dumpJson(v: Json, indent = 1): string {
  return JSON.stringify(sortKeys(v), null, indent);
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !isRaw(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Obj)[k])]));
  return v;
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): object; isRawJSON(v: unknown): boolean });
const isRaw = (v: unknown): boolean => rawJSON.isRawJSON(v);

/** JSON.parse that keeps integers beyond 2^53 exact (planet IDs), as nlohmann does. */
function parseJson(text: string): Json {
  return JSON.parse(text, (_k, v: unknown, ctx?: { source?: string }) =>
    typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? rawJSON.rawJSON(ctx.source) : v) as Json;
}

interface Switches { json: boolean; home?: string; port?: number; token?: string; host: string }

/** Run `ztroot cli args…`; returns the exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const sw: Switches = { json: false, host: '127.0.0.1' };
  const rest: string[] = [];
  for (const a of args) {
    if (rest.length === 0 && a.startsWith('-') && a.length > 1) {
      switch (a[1]) {
        case 'j': sw.json = true; continue;
        case 'D': sw.home = a.slice(2); continue;
        case 'p': sw.port = Number(a.slice(2)); continue;
        case 'T': sw.token = a.slice(2); continue;
        case 'H': sw.host = a.slice(2); continue;
        case 'v': io.out(`${VERSION}\n`); return 0;
        case 'h': case '?': io.out(HELP); return 0;
        default: io.err(HELP); return 1;
      }
    }
    rest.push(a);
  }
  const [command, arg1 = '', arg2 = ''] = rest;
  if (!command) {
    io.err(HELP);
    return 1;
  }
  const home = sw.home ?? defaultHome();
  const port = sw.port ?? readNumber(join(home, 'zerotier-one.port')) ?? DEFAULT_PORT;
  const token = sw.token ?? readText(join(home, 'authtoken.secret')) ?? (io.userHome ? readText(join(io.userHome, '.zeroTierOneAuthToken')) : undefined);
  if (!token) {
    io.err(`${command}: authtoken.secret not found or readable in ${home} (try -D<home> or -T<token>)\n`);
    return 2;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    io.err(`${command}: bad port\n`);
    return 2;
  }
  const call = async (method: string, path: string, body?: string): Promise<{ status: number; text: string } | undefined> => {
    try {
      const host = sw.host.includes(':') ? `[${sw.host}]` : sw.host;
      const r = await fetch(`http://${host}:${port}${path}`, { method, headers: { 'X-ZT1-Auth': token }, body });
      return { status: r.status, text: await r.text() };
    } catch (e) {
      io.out(`Error connecting to the ZeroTier service: ${(e as Error).message}\n\nPlease check that the service is running and that TCP port ${port} can be contacted via ${sw.host}.\n`);
      return undefined;
    }
  };
  /** GET, parse, and either print raw JSON (-j) or hand the value to `show`. */
  const getJson = async (path: string, show: (j: Json) => void): Promise<number> => {
    const r = await call('GET', path);
    if (!r) return 1;
    let j: Json;
    try {
      j = parseJson(r.text);
    } catch (e) {
      io.out(`${r.status} ${command} invalid JSON response (${(e as Error).message})\n`);
      return 1;
    }
    if (r.status !== 200) {
      io.out(`${r.status} ${command} ${r.text}\n`);
      return 1;
    }
    if (sw.json) io.out(`${dumpJson(j)}\n`);
    else show(j);
    return 0;
  };
  /** A change: print "200 <command> OK" (or the body with -j). */
  const change = async (method: string, path: string, body?: string): Promise<number> => {
    const r = await call(method, path, body);
    if (!r) return 1;
    if (r.status !== 200) {
      io.out(`${r.status} ${command} ${r.text}\n`);
      return 1;
    }
    io.out(sw.json ? r.text : `200 ${command} OK\n`);
    return 0;
  };

  switch (command) {
    case 'info': case 'status':
      return getJson('/status', (j) => {
        const s = j as Obj;
        io.out(`200 info ${str(s.address)} ${str(s.version)} ${s.tcpFallbackActive ? 'TUNNELED' : s.online ? 'ONLINE' : 'OFFLINE'}\n`);
      });
    case 'listpeers':
      return getJson('/peer', (j) => {
        io.out('200 listpeers <ztaddr> <path> <latency> <version> <role>\n');
        for (const p of asArray(j)) {
          const best = preferredPath(p);
          const path = best ? `${best.address};${best.sinceSend};${best.sinceReceive}` : '-';
          io.out(`200 listpeers ${str(p.address)} ${path} ${int(p.latency)} ${version(p)} ${str(p.role)}\n`);
        }
      });
    case 'peers':
      return getJson('/peer', (j) => {
        io.out('200 peers\n<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>\n');
        for (const p of asArray(j)) {
          const best = preferredPath(p);
          const link = best
            ? `${p.tunneled ? 'RELAY ' : 'DIRECT   '}${String(best.sinceSend).padEnd(8)} ${String(best.sinceReceive).padEnd(8)} ${best.address}`
            : 'RELAY';
          io.out(`${str(p.address)} ${version(p).padEnd(6)} ${str(p.role).padEnd(6)} ${String(int(p.latency)).padStart(5)} ${link}\n`);
        }
      });
    case 'listnetworks':
      return getJson('/network', (j) => {
        io.out('200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n');
        for (const n of asArray(j)) {
          const ips = Array.isArray(n.assignedAddresses) ? n.assignedAddresses.filter((a) => typeof a === 'string').join(',') : '';
          io.out(`200 listnetworks ${str(n.nwid)} ${str(n.name)} ${str(n.mac)} ${str(n.status)} ${str(n.type)} ${str(n.portDeviceName)} ${ips || '-'}\n`);
        }
      });
    case 'join': case 'leave':
      if (arg1.length !== 16) {
        io.out('invalid network id\n');
        return 2;
      }
      return change(command === 'join' ? 'POST' : 'DELETE', `/network/${arg1}`, command === 'join' ? '{}' : undefined);
    case 'listmoons': {
      const saved = sw.json;
      sw.json = true; // listmoons always prints the JSON
      const code = await getJson('/moon', () => {});
      sw.json = saved;
      return code;
    }
    case 'orbit': {
      if (hexValue(arg1) === 0n || hexValue(arg2) === 0n) return 0; // zerotier-cli quietly does nothing
      return change('POST', `/moon/${arg1}`, JSON.stringify({ seed: arg2 }));
    }
    case 'deorbit':
      return change('DELETE', `/moon/${arg1}`);
    case 'set': {
      if (arg1.length !== 16) {
        io.err('invalid format: must be a 16-digit (network) ID\n');
        return 2;
      }
      const eq = arg2.indexOf('=');
      const name = eq < 0 ? arg2 : arg2.slice(0, eq);
      if (!arg2 || eq < 0 || !NETWORK_SETTINGS.includes(name)) {
        io.err(arg2 ? HELP : 'invalid format: include a property name to set\n');
        return 2;
      }
      const value = arg2.slice(eq, eq + 2) === '=t' || arg2.slice(eq, eq + 2) === '=1';
      const r = await call('POST', `/network/${arg1}`, JSON.stringify({ [name]: value }));
      if (!r) return 1;
      if (r.status !== 200) {
        io.out(`${r.status} ${command} ${r.text}\n`);
        return 1;
      }
      io.out(r.text);
      return 0;
    }
    case 'get': {
      if (arg1.length !== 16) {
        io.err('invalid format: must be a 16-digit (network) ID\n');
        return 2;
      }
      if (!arg2) {
        io.err('invalid format: include a property name to get\n');
        return 2;
      }
      const saved = sw.json;
      sw.json = false;
      let found = false;
      const code = await getJson('/network', (j) => {
        const n = asArray(j).find((x) => x.id === arg1);
        if (!n) return;
        found = true;
        if (!['ip', 'ip4', 'ip6', 'ip6plane', 'ip6prefix'].includes(arg2)) {
          const v = n[arg2];
          if (v === undefined || v === null || typeof v === 'object') io.out('error, unknown property name\n');
          else io.out(`${String(v)}\n`);
          return;
        }
        const all = Array.isArray(n.assignedAddresses) ? n.assignedAddresses.filter((a): a is string => typeof a === 'string') : [];
        const picked = all.filter((a) => arg2 === 'ip' || (arg2 === 'ip4' ? a.includes('.') : a.includes(':')));
        for (const a of picked) io.out(`${a.split('/')[0]}\n`);
      });
      sw.json = saved;
      if (code === 0 && !found) {
        io.out(`${arg1} not found\n`);
        return 1;
      }
      return code;
    }
    default:
      if (command.startsWith('/')) {
        const r = await call('GET', command);
        if (!r) return 1;
        io.out(`${r.text}\n`);
        return r.status === 200 ? 0 : 1;
      }
      io.err(HELP);
      return 0; // zerotier-cli 1.14 exits 0 after printing help for an unknown command
  }
}

/** A JSON string as it is (an empty one stays empty, as zerotier-cli prints it), else '-'. */
function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '-';
}

function int(v: Json | undefined): number {
  return typeof v === 'number' ? Math.trunc(v) : 0;
}

function version(p: Obj): string {
  const major = int(p.versionMajor);
  return major >= 0 ? `${major}.${int(p.versionMinor)}.${int(p.versionRev)}` : '-';
}

function asArray(j: Json): Obj[] {
  return Array.isArray(j) ? j.filter((x): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x)) : [];
}

/** The preferred path of a peer object, with ms since last send and receive (-1 when never). */
function preferredPath(p: Obj): { address: string; sinceSend: number; sinceReceive: number } | undefined {
  const now = Date.now();
  for (const x of asArray(p.paths ?? [])) {
    if (!x.preferred) continue;
    const ago = (t: Json | undefined): number => (typeof t === 'number' && t > 0 ? now - t : -1);
    return { address: str(x.address), sinceSend: ago(x.lastSend), sinceReceive: ago(x.lastReceive) };
  }
  return undefined;
}

function hexValue(text: string): bigint {
  const m = /^[0-9a-fA-F]+/.exec(text.trim());
  return m ? BigInt(`0x${m[0].slice(0, 16)}`) : 0n;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number | undefined {
  const t = readText(path);
  return t && /^\d+$/.test(t) ? Number(t) : undefined;
}

export function registerCli(program: Command): void {
  program.command('cli')
    .description('zerotier-cli\'s commands against the local API of a ztroot leaf or controller, or of zerotier-one (ztroot cli -h)')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[args...]')
    .action(async (args: string[]) => {
      process.exitCode = await runCli(args, {
        out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), userHome: process.env.HOME,
      });
    });
}
