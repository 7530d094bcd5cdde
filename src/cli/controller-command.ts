// `ztroot controller`: run a network controller node until SIGTERM/SIGINT.

import type { Command } from 'commander';
import { listFlag, portFlag, runUntilSignalled } from './daemon.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ControllerNode } from '../controller/controller-node.ts';
import { exportControllerDir, importControllerDir } from '../controller/controller-dir.ts';
import { CONTROLLER_FILES } from '../controller/controller-role.ts';
import { ControllerStore } from '../controller/store.ts';
import { defaultHome } from '../root/config.ts';
import { ROOT_DEFAULTS } from '../root/constants.ts';
import { createLogger, type LogLevel } from '../util/log.ts';

interface ControllerFlags {
  home?: string;
  bind?: string;
  port?: string;
  http?: string;
  logLevel?: string;
  allowManagementFrom?: string;
  planet?: string;
}

export async function runController(flags: ControllerFlags): Promise<number> {
  const log = createLogger((flags.logLevel ?? 'info') as LogLevel);
  const port = portFlag(flags.port, ROOT_DEFAULTS.port);
  if (port === undefined) {
    process.stderr.write(`ztroot controller: bad --port ${flags.port}\n`);
    return 1;
  }
  let node: ControllerNode;
  try {
    node = new ControllerNode({
      home: flags.home ?? defaultHome(),
      bind: listFlag(flags.bind),
      port,
      httpListen: flags.http ?? ROOT_DEFAULTS.httpListen,
      allowManagementFrom: listFlag(flags.allowManagementFrom),
      planet: flags.planet,
      log,
    });
    await node.start();
  } catch (e) {
    process.stderr.write(`ztroot controller: ${(e as Error).message}\n`);
    return 1;
  }
  log.info('controller started', {
    address: node.address, networks: node.controller.store.networkIds().length,
    udp: node.leaf.sockets.map((s) => `${s.address}/${s.port}`),
  });
  if (node.httpAddress) log.info('http listening', { address: node.httpAddress });
  process.stdout.write(`ztroot controller ${node.address} is running (home ${node.node.home}); API http://${node.httpAddress ?? '(disabled)'}/controller\n`);
  return runUntilSignalled(log, () => node.stop());
}

function withStore<T>(home: string | undefined, f: (store: ControllerStore) => T): T {
  const store = new ControllerStore(join(home ?? defaultHome(), CONTROLLER_FILES.database));
  try {
    return f(store);
  } finally {
    store.close();
  }
}

export function registerController(program: Command): void {
  const cmd = program.command('controller');
  cmd.command('import <controller.d>')
    .description("read zerotier-one's controller directory (network/*.json and members) into this controller's database")
    .option('--home <dir>', 'home directory')
    .action((dir: string, _flags: unknown, self: Command) => {
      if (!existsSync(join(dir, 'network'))) {
        process.stderr.write(`ztroot controller import: ${dir} has no network/ directory (zerotier-one's controller.d)\n`);
        process.exitCode = 1;
        return;
      }
      // --home may land on `controller` or on `import`: read both
      const r = withStore(self.optsWithGlobals<{ home?: string }>().home, (store) => importControllerDir(dir, store));
      process.stdout.write(`imported ${r.networks} networks and ${r.members} members\n`);
      for (const s of r.skipped) process.stderr.write(`skipped ${s}: not a network or member record\n`);
      process.exitCode = r.skipped.length > 0 ? 2 : 0;
    });
  cmd.command('export <controller.d>')
    .description("write every network and member as zerotier-one's controller directory")
    .option('--home <dir>', 'home directory')
    .action((dir: string, _flags: unknown, self: Command) => {
      const r = withStore(self.optsWithGlobals<{ home?: string }>().home, (store) => exportControllerDir(store, dir));
      process.stdout.write(`exported ${r.networks} networks and ${r.members} members to ${dir}\n`);
    });
  cmd
    .description('run a network controller node (networks <address>xxxxxx) with the /controller HTTP API')
    .option('--home <dir>', 'home directory (identity, planet, moons.d, controller.db, authtoken.secret)')
    .option('--bind <ips>', 'comma-separated local IPs for UDP (default: every local address)')
    .option('--port <port>', 'UDP port (default 9993)')
    .option('--http <ip:port>', 'API listener ("" disables; default 127.0.0.1:9993)')
    .option('--planet <file|public>', 'the planet to live in (default: <home>/planet); "public" names ZeroTier\'s public planet')
    .option('--allow-management-from <cidrs>', 'networks besides loopback that may use the API (also local.conf settings.allowManagementFrom)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .action(async (flags: ControllerFlags) => {
      process.exitCode = await runController(flags);
    });
}
