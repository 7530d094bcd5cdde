// Run one SimpleLeaf in whatever network namespace this process was started in (e.g. under
// `ip netns exec`), driven by JSON lines: commands on stdin, events on stdout.
//
//   npx node tools/lab/leaf-runner.ts --bind 10.1.0.2 --moon /path/000000abcdef0123.moon
//       [--planet FILE] [--orbit MOONID/SEED]… [--identity identity.secret] [--port N]
//       [--ping-ms N] [--hello-ms N]
//
// --orbit fetches a moon through the planet as `zerotier-cli orbit MOONID SEED` does (both hex);
// --ping-ms is the ping check (1.14: 5000), --hello-ms how often upstreams with a path are HELLOed
// again (1.14: 224000).
// Without --identity a fresh identity is generated. Paths are learned the 1.14 way (only from
// a direct OK, never loopback, roots only at their stable endpoints).
//
// Commands (one JSON object per line; "id" is optional and echoed back in the answer):
//   {"cmd":"frame","to":"<addr>","text":"…"}   → {"event":"sent","to","result":"direct"|"relayed"|"unreachable"}
//   {"cmd":"whois","address":"<addr>"}         → {"event":"whois","address","found":bool}
//   {"cmd":"paths","peer":"<addr>"}            → {"event":"paths","peer","paths":[{"remote","local","lastReceiveAgoMs"}]}
//   {"cmd":"join","network":"<16 hex>"}        → {"event":"joined","network"}; later {"event":"network",…}
//   {"cmd":"netframe","network","to","text"}   → {"event":"sent","to","result"} (our COM first, then the frame)
//   {"cmd":"stats"}                            → {"event":"stats","drops","verbsIn","verbsOut","rejectedCredentials"} (counts by name)
//   {"cmd":"stop"}                             → exits after {"event":"stopped"}
// Events sent unprompted:
//   {"event":"ready","address","sockets":["ip/port"]}   {"event":"online"}
//   {"event":"frame","from","text","networkId","etherType","relayed":bool}
//   {"event":"rendezvous","peer","address":"ip/port"}   {"event":"world","id","timestamp"}
//   {"event":"error","message"}
//   {"event":"network","network","status","ips":["ip/bits"],"name"}   (on each status or config)
//   {"event":"netframe","network","from","text"}   {"event":"refused","network","from"}   {"event":"revocation","network","target"}
// Closing stdin stops the leaf too, so a leaf never outlives the process driving it.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { formatAddress, parseAddress } from '../../src/identity/address.ts';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { NetworkMember } from '../../src/leaf/network-member.ts';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { formatInetAddress } from '../../src/wire/inet-address.ts';
import { World } from '../../src/world/world.ts';
import { LAB_ETHERTYPE } from './ethernet.ts';
import { hex64 } from '../../src/util/hex.ts';

/** The network ID lab frames carry (outside any network; `netframe` names its own). */
export const LAB_NETWORK_ID = 0x1ab0000000000001n;

type Json = Record<string, unknown>;

/** One event line; bigints (network IDs) as 16 hex digits, the form the controller API uses. */
function emit(event: Json): void {
  process.stdout.write(JSON.stringify(event, (_k, v) => (typeof v === 'bigint' ? hex64(v) : v)) + '\n');
}

function fail(message: string): never {
  emit({ event: 'error', message });
  process.exit(2);
}

function readWorld(path: string): World {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    fail(`cannot read world file ${path}: ${(e as Error).message}`);
  }
  const d = World.decode(bytes);
  if (typeof d === 'string') fail(`${path} is not a world file (${d})`);
  return d.world;
}

function readIdentity(path: string): Identity {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail(`cannot read identity ${path}: ${(e as Error).message}`);
  }
  const id = parseIdentity(text);
  if (!id || !id.hasPrivate) fail(`${path} does not hold a secret identity`);
  return id;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bind: { type: 'string', multiple: true },
      moon: { type: 'string', multiple: true },
      planet: { type: 'string' },
      identity: { type: 'string' },
      port: { type: 'string' },
      'ping-ms': { type: 'string' },
      'hello-ms': { type: 'string' },
      orbit: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.bind || values.bind.length === 0) fail('--bind <local IP> is required');
  const integer = (flag: string, text: string | undefined, max: number): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) > max) fail(`${flag} must be an integer from 0 to ${max}`);
    return Number(text);
  };
  const leaf = new SimpleLeaf({
    identity: values.identity ? readIdentity(values.identity) : undefined,
    planet: values.planet ? readWorld(values.planet) : undefined,
    moons: (values.moon ?? []).map(readWorld),
    bind: values.bind,
    port: integer('--port', values.port, 65535) ?? 0,
    pingIntervalMs: integer('--ping-ms', values['ping-ms'], 3_600_000),
    helloIntervalMs: integer('--hello-ms', values['hello-ms'], 3_600_000),
    seeds: (values.orbit ?? []).map((o) => {
      const m = /^([0-9a-f]{1,16})\/([0-9a-f]{10})$/i.exec(o);
      if (!m) fail(`--orbit must be MOONID/SEED in hex, got ${JSON.stringify(o)}`);
      return { moonId: BigInt(`0x${m[1]}`), seed: parseAddress(m[2])! };
    }),
  });

  leaf.on('online', () => emit({ event: 'online' }));
  leaf.on('frame', (from, frame, relayed) => emit({
    event: 'frame', from: formatAddress(from), text: Buffer.from(frame.payload).toString('utf8'),
    networkId: frame.networkId, etherType: frame.etherType, relayed,
  }));
  leaf.on('rendezvous', (peer, address) => emit({ event: 'rendezvous', peer: formatAddress(peer), address: formatInetAddress(address) }));
  leaf.on('world', (w) => emit({ event: 'world', id: w.idHex, timestamp: w.timestamp.toString() }));
  member = new NetworkMember(leaf);
  const networkEvent = (nwid: bigint): void => {
    const n = member!.networks.get(nwid);
    emit({ event: 'network', network: nwid, status: n?.status, ips: n?.config?.staticIps.map(formatInetAddress) ?? [], name: n?.config?.name });
  };
  member.on('status', (nwid) => networkEvent(nwid));
  member.on('config', (nwid) => networkEvent(nwid));
  member.on('frame', (nwid, from, frame) => emit({ event: 'netframe', network: nwid, from: formatAddress(from), text: Buffer.from(frame.payload).toString('utf8') }));
  member.on('refused', (nwid, from) => emit({ event: 'refused', network: nwid, from: formatAddress(from) }));
  member.on('revocation', (nwid, target) => emit({ event: 'revocation', network: nwid, target: formatAddress(target) }));

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await leaf.stop();
    emit({ event: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  await leaf.start();
  emit({ event: 'ready', address: formatAddress(leaf.address), sockets: leaf.sockets.map((s) => `${s.address}/${s.port}`) });

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let cmd: Json;
    try {
      cmd = JSON.parse(line) as Json;
    } catch {
      return emit({ event: 'error', message: `not JSON: ${line.slice(0, 200)}` });
    }
    handle(leaf, cmd, stop).catch((e: unknown) => emit({ event: 'error', id: cmd.id, message: (e as Error).message }));
  });
  lines.on('close', () => void stop());
}

let member: NetworkMember | undefined;

function networkArg(cmd: Json): bigint {
  if (typeof cmd.network !== 'string' || !/^[0-9a-fA-F]{16}$/.test(cmd.network)) throw new Error('"network" must be 16 hex digits');
  return BigInt('0x' + cmd.network);
}

function peerArg(cmd: Json, key: string): number {
  const a = typeof cmd[key] === 'string' ? parseAddress(cmd[key]) : null;
  if (a === null) throw new Error(`"${key}" must be a 10-digit hex address`);
  return a;
}

async function handle(leaf: SimpleLeaf, cmd: Json, stop: () => Promise<void>): Promise<void> {
  const id = cmd.id;
  switch (cmd.cmd) {
    case 'frame': {
      const to = peerArg(cmd, 'to');
      const text = typeof cmd.text === 'string' ? cmd.text : '';
      const result = await leaf.sendFrame(to, { networkId: LAB_NETWORK_ID, etherType: LAB_ETHERTYPE, payload: Buffer.from(text, 'utf8') });
      return emit({ event: 'sent', id, to: formatAddress(to), result });
    }
    case 'whois': {
      const address = peerArg(cmd, 'address');
      const found = await leaf.whois(address);
      if (found) leaf.node.addPeer(found);
      return emit({ event: 'whois', id, address: formatAddress(address), found: found !== undefined });
    }
    case 'paths': {
      const peerAddress = peerArg(cmd, 'peer');
      const peer = leaf.node.peers.get(peerAddress);
      const now = leaf.node.now();
      const paths = [...(peer?.paths.values() ?? [])].map((p) => ({
        remote: formatInetAddress(p.remote), local: `${p.socket.address}/${p.socket.port}`, lastReceiveAgoMs: now - p.lastReceiveMs,
      }));
      return emit({ event: 'paths', id, peer: formatAddress(peerAddress), paths });
    }
    case 'join': {
      const nwid = networkArg(cmd);
      member!.join(nwid);
      return emit({ event: 'joined', id, network: nwid });
    }
    case 'netframe': {
      const nwid = networkArg(cmd);
      const to = peerArg(cmd, 'to');
      const text = typeof cmd.text === 'string' ? cmd.text : '';
      const result = await member!.sendFrame(to, { networkId: nwid, etherType: LAB_ETHERTYPE, payload: Buffer.from(text, 'utf8') });
      return emit({ event: 'sent', id, to: formatAddress(to), result });
    }
    case 'stats': {
      const s = leaf.node.stats;
      return emit({
        event: 'stats', id, drops: Object.fromEntries(s.drops), verbsIn: Object.fromEntries(s.verbsIn), verbsOut: Object.fromEntries(s.verbsOut),
        rejectedCredentials: member!.rejected,
      });
    }
    case 'stop':
      return stop();
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
  }
}

main().catch((e: unknown) => fail((e as Error).stack ?? String(e)));
