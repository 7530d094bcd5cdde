// `ztroot leaf`: run a leaf node on a zerotier-one home directory, with zerotier-one's local API on
// TCP 127.0.0.1:<UDP port> so the real zerotier-cli works against it (`zerotier-cli -D<home> …`).

import type { Command } from 'commander';
import { listFlag, portFlag, runUntilSignalled } from './daemon.ts';
import { formatAddress } from '../identity/address.ts';
import type { HttpListener } from '../api/http-listener.ts';
import { startLeafApi } from '../leaf/leaf-api.ts';
import { LeafNode } from '../leaf/leaf-node.ts';
import { defaultHome } from '../root/config.ts';
import { ROOT_DEFAULTS } from '../root/constants.ts';
import { createLogger, type LogLevel } from '../util/log.ts';
import { armorImplementation } from '../wire/armor.ts';

interface LeafFlags {
  home?: string;
  bind?: string;
  port?: string;
  planet?: string;
  http?: string;
  logLevel?: string;
  nativeUdp?: string;
}

export async function runLeaf(flags: LeafFlags): Promise<number> {
  const log = createLogger((flags.logLevel ?? 'info') as LogLevel);
  const port = portFlag(flags.port, ROOT_DEFAULTS.port);
  if (port === undefined) {
    process.stderr.write(`ztroot leaf: --port must be a port number (0-65535), got ${JSON.stringify(flags.port)}\n`);
    return 1;
  }
  const nativeUdp = flags.nativeUdp ?? 'auto';
  if (nativeUdp !== 'auto' && nativeUdp !== 'on' && nativeUdp !== 'off') {
    process.stderr.write(`ztroot leaf: --native-udp must be auto, on or off, got ${JSON.stringify(flags.nativeUdp)}\n`);
    return 1;
  }
  let leaf: LeafNode;
  let api: HttpListener | undefined;
  try {
    leaf = new LeafNode({
      home: flags.home ?? defaultHome(),
      bind: listFlag(flags.bind),
      port,
      planet: flags.planet,
      nativeUdp,
      log,
    });
    await leaf.start();
    const listen = flags.http ?? `127.0.0.1:${leaf.primaryPort}`;
    if (listen !== '') api = await startLeafApi(leaf, { listen });
  } catch (e) {
    process.stderr.write(`ztroot leaf: ${(e as Error).message}\n`);
    return 1;
  }
  log.info('leaf started', {
    address: formatAddress(leaf.address), udp: leaf.leaf.sockets.map((s) => `${s.address}/${s.port}`),
    networks: leaf.member.networks.size,
    planet: leaf.leaf.node.topology.planet?.idHex ?? null, moons: leaf.leaf.node.topology.moons.map((m) => m.idHex),
    armor: armorImplementation() === 'native' ? 'native' : 'typescript',
  });
  if (api) log.info('http listening', { address: api.address });
  process.stdout.write(`ztroot leaf ${formatAddress(leaf.address)} is running (home ${leaf.home}); zerotier-cli -D${leaf.home} info\n`);
  return runUntilSignalled(log, async () => {
    await api?.close();
    await leaf.stop();
  });
}

export function registerLeaf(program: Command): void {
  program.command('leaf')
    .description('run a leaf node on a zerotier-one home directory, with the local API zerotier-cli uses')
    .option('--home <dir>', 'home directory, zerotier-one layout (default: $ZTROOT_HOME, /var/lib/ztroot as root, else ~/.ztroot)')
    .option('--bind <ips>', 'comma-separated local IPs for UDP (default: every local address)')
    .option('--port <port>', 'UDP port, and the local API\'s TCP port (default 9993)')
    .option('--planet <file|public>', 'the planet to live in (default: <home>/planet); "public" names ZeroTier\'s public planet')
    .option('--http <ip:port>', 'local API listener ("" disables; default 127.0.0.1:<port>)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .option('--native-udp <mode>', 'batch UDP addon (recvmmsg/sendmmsg): auto, on or off (default auto)')
    .action(async (flags: LeafFlags) => {
      process.exitCode = await runLeaf(flags);
    });
}
