// `ztroot root`: run a root server until SIGTERM/SIGINT; SIGHUP re-reads the world files.

import type { Command } from 'commander';
import { runUntilSignalled } from './daemon.ts';
import { formatAddress } from '../identity/address.ts';
import { ConfigError, resolveConfig, type RootConfig } from '../root/config.ts';
import { HomeError, loadOrCreateAuthToken, loadOrCreateMetricsToken } from '../root/home.ts';
import { RootServer } from '../root/root-server.ts';
import { startRootApi } from '../root/root-api.ts';
import { createLogger } from '../util/log.ts';
import { managementNetworks } from '../controller/controller-role.ts';

interface RootFlags {
  home?: string;
  config?: string;
  bind?: string;
  port?: string;
  ports?: string;
  planet?: string;
  relayMaxHops?: string;
  siblings?: string;
  identityCacheEntries?: string;
  validationThreads?: string;
  workers?: string;
  maxPeers?: string;
  nativeUdp?: string;
  udpCoalesceUs?: string;
  nativeHello?: string;
  http?: string;
  metricsToken?: string;
  logLevel?: string;
  controller?: boolean;
  allowManagementFrom?: string;
}

/** What a new operator needs next: the identity and the commands that make a moon from it. */
export function moonInstructions(root: RootServer): string {
  const addr = formatAddress(root.identity.address);
  const pub = `${root.config.home}/identity.public`;
  const port = root.config.ports[0] === 0 ? (root.sockets[0]?.port ?? 9993) : root.config.ports[0];
  return [
    `ztroot root ${addr} is running (home ${root.config.home}).`,
    `Identity: ${root.identity.toString(false)}`,
    root.topology.worlds.length === 0 ? 'It serves no world yet. To make a moon with this root:' : 'To make (another) moon with this root:',
    `  ztroot idtool initmoon ${pub} > moon.json`,
    `  # edit moon.json: "stableEndpoints": ["<this host's public IP>/${port}"]`,
    `  ztroot idtool genmoon moon.json`,
    `  cp 000000${addr}.moon ${root.config.home}/moons.d/ && kill -HUP ${process.pid}`,
    ...orbitHint(root, addr),
  ].join('\n');
}

/**
 * When `orbit` can work: a leaf finds the moon's seed by asking its own planet's roots, so this
 * root must be registered with them (it lives in that planet). Otherwise leaves need the file.
 */
function orbitHint(root: RootServer, addr: string): string[] {
  const planet = root.topology.planet;
  const servesPlanet = planet?.roots.some((r) => r.identity.address === root.identity.address) ?? false;
  if (planet && !servesPlanet) {
    return [
      `This root lives in planet ${planet.idHex} and registers with its roots, so leaves of that planet join a moon of it with:`,
      `  zerotier-cli orbit <moon id> ${addr}      # e.g. zerotier-cli orbit ${addr} ${addr}`,
      `(/health lists those roots under "upstreams" with whether they answered.)`,
    ];
  }
  return [
    planet
      ? `Leaves of planet ${planet.idHex}, which this root serves, can orbit its moons with: zerotier-cli orbit <moon id> ${addr}`
      : 'This root lives in no planet, so leaves cannot find it through theirs: `zerotier-cli orbit` will not fetch its moons.',
    `Leaves of any other planet need the .moon file in their moons.d (then restart them), or start this root with`,
    `--planet <their planet file> (or --planet public for ZeroTier's public planet) so it registers with their planet's roots.`,
  ];
}

export async function runRoot(flags: RootFlags): Promise<number> {
  let config: RootConfig;
  try {
    config = resolveConfig({
      home: flags.home, bind: flags.bind, port: flags.port, ports: flags.ports, planet: flags.planet, relayMaxHops: flags.relayMaxHops,
      siblings: flags.siblings, identityCacheEntries: flags.identityCacheEntries, validationThreads: flags.validationThreads,
      workers: flags.workers, maxPeers: flags.maxPeers, nativeUdp: flags.nativeUdp, udpCoalesceMicros: flags.udpCoalesceUs, nativeHello: flags.nativeHello,
      httpListen: flags.http, metricsToken: flags.metricsToken, logLevel: flags.logLevel,
    }, flags.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ztroot root: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  let root: RootServer | undefined;
  try {
    root = new RootServer({ config, log, controller: flags.controller === true });
    await root.start();
  } catch (e) {
    await root?.stop().catch(() => {});
    if (e instanceof HomeError || e instanceof Error) {
      process.stderr.write(`ztroot root: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const token = config.metricsToken ?? loadOrCreateMetricsToken(config.home);
  const authToken = loadOrCreateAuthToken(config.home);
  const management = managementNetworks(config.home, flags.allowManagementFrom?.split(',').filter((x) => x.trim() !== '') ?? []);
  if (management.bad.length > 0) {
    process.stderr.write(`ztroot root: allowManagementFrom: not a network: ${management.bad.join(', ')}\n`);
    await root.stop();
    return 1;
  }
  let http: Awaited<ReturnType<typeof startRootApi>> | undefined;
  try {
    http = config.httpListen
      ? await startRootApi(root, { listen: config.httpListen, metricsToken: token, authToken, allowManagementFrom: management.networks })
      : undefined;
  } catch (e) {
    // the root is up but its API is not: stop it rather than run on without one
    await root.stop();
    process.stderr.write(`ztroot root: ${(e as Error).message}\n`);
    return 1;
  }
  if (root.controller) log.info('network controller', { networks: root.controller.store.networkIds().length, api: http ? `http://${http.address}/controller` : 'disabled' });
  if (http) log.info('http listening', { address: http.address });
  process.stdout.write(moonInstructions(root) + '\n');

  process.on('SIGHUP', () => {
    const worlds = root.reloadWorlds();
    log.info('worlds reloaded', { worlds: worlds.map((w) => w.idHex) });
  });
  return runUntilSignalled(log, async () => {
    await http?.close();
    await root!.stop();
  });
}

export function registerRoot(program: Command): void {
  program.command('root')
    .description('run a root server (planet or moon) on UDP, with /health, /metrics and the local API over HTTP')
    .option('--home <dir>', 'home directory (default: $ZTROOT_HOME, /var/lib/ztroot as root, else ~/.ztroot)')
    .option('--config <file>', 'JSON config file (keys as below in camelCase)')
    .option('--bind <ips>', 'comma-separated local IPs for UDP (default: every local address)')
    .option('--port <port>', 'UDP port (default 9993)')
    .option('--ports <ports>', 'comma-separated UDP ports')
    .option('--planet <file|public>', 'the planet this root lives in and registers with (default: <home>/planet); "public" names ZeroTier\'s public planet')
    .option('--relay-max-hops <n>', 'relay while a packet has fewer hops than this (default 3)')
    .option('--siblings <list>', 'comma-separated IP/port of sibling roots for unknown destinations')
    .option('--identity-cache-entries <n>', 'identities each thread keeps in memory in front of the on-disk cache (default 16384)')
    .option('--validation-threads <n>', 'identity validation threads (default: one per core)')
    .option('--workers <n>', 'packet worker threads (default: the packet path starts on the main thread, and workers take it over and join while busy, up to one per core; 0 keeps it on the main thread alone)')
    .option('--max-peers <n>', 'peers the shared peer table is sized for (default 1000000)')
    .option('--native-udp <mode>', 'batch UDP addon (recvmmsg/sendmmsg): auto, on or off (default auto)')
    .option('--native-hello <mode>', 'known peers\' HELLOs answered inside the batch UDP addon: on or off (default on)')
    .option('--udp-coalesce-us <us>', 'batch UDP: while a socket wakes more often than once per this many µs, drain it on a 1 ms tick (saves CPU, adds latency under load; default 0 = off)')
    .option('--http <ip:port>', 'HTTP listener for /health, /metrics, /peers and the local API ("" disables; default 127.0.0.1:9993)')
    .option('--metrics-token <token>', 'bearer token for /metrics and /peers (default: metricstoken.secret in home)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .option('--controller', 'also run a network controller (networks <address>xxxxxx; /controller API with authtoken.secret)')
    .option('--allow-management-from <cidrs>', 'networks besides loopback that may use the local and controller API (also local.conf settings.allowManagementFrom)')
    .action(async (flags: RootFlags) => {
      process.exitCode = await runRoot(flags);
    });
}
