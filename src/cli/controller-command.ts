// `ztroot controller`: run a network controller node until SIGTERM/SIGINT.

import type { Command } from 'commander';
import { ControllerNode } from '../controller/controller-node.ts';
import { defaultHome } from '../root/config.ts';
import { ROOT_DEFAULTS } from '../root/constants.ts';
import { createLogger, type LogLevel } from '../util/log.ts';

interface ControllerFlags {
  home?: string;
  bind?: string;
  port?: string;
  http?: string;
  logLevel?: string;
}

export async function runController(flags: ControllerFlags): Promise<number> {
  const log = createLogger((flags.logLevel ?? 'info') as LogLevel);
  const port = flags.port === undefined ? ROOT_DEFAULTS.port : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    process.stderr.write(`ztroot controller: bad --port ${flags.port}\n`);
    return 1;
  }
  let node: ControllerNode;
  try {
    node = new ControllerNode({
      home: flags.home ?? defaultHome(),
      bind: flags.bind ? flags.bind.split(',').map((s) => s.trim()).filter(Boolean) : [],
      port,
      httpListen: flags.http ?? ROOT_DEFAULTS.httpListen,
      log,
    });
    await node.start();
  } catch (e) {
    process.stderr.write(`ztroot controller: ${(e as Error).message}\n`);
    return 1;
  }
  log.info('controller started', {
    address: node.address, networks: node.controller.store.networkIds().length,
    udp: node.leaf.sockets.map((s) => `${s.address}/${s.port}`), api: node.httpPort ? `port ${node.httpPort}` : 'disabled',
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      void node.stop().then(() => resolve(0));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

export function registerController(program: Command): void {
  program.command('controller')
    .description('run a network controller node (networks <address>xxxxxx) with the /controller HTTP API')
    .option('--home <dir>', 'home directory (identity, planet, moons.d, controller.db, authtoken.secret)')
    .option('--bind <ips>', 'comma-separated local IPs for UDP (default: every local address)')
    .option('--port <port>', 'UDP port (default 9993)')
    .option('--http <ip:port>', 'API listener ("" disables; default 127.0.0.1:9993)')
    .option('--log-level <level>', 'debug, info, warn or error')
    .action(async (flags: ControllerFlags) => {
      process.exitCode = await runController(flags);
    });
}
