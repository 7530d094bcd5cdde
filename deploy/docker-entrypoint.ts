// The container's entry point. It prepares the home directory (a volume) from the environment,
// then runs the ztroot command line in this same process, so signals reach the root directly.
//
//   root [flags]        (the default) run a root. Before it starts:
//                       - the identity is created on first start and kept in the home volume;
//                       - planet / *.moon files found in $ZTROOT_WORLDS_DIR are copied in
//                         (a mounted directory or Kubernetes ConfigMap is the authority);
//                       - with $ZTROOT_MOON_ENDPOINTS ("IP/port,…") and no moon yet, a moon
//                         with this root as its only root is made and its orbit line printed;
//                       - $ZTROOT_METRICS_TOKEN, when set, becomes metricstoken.secret;
//                       - --http defaults to $ZTROOT_HTTP (0.0.0.0:9993) so /metrics is
//                         reachable from outside the container.
//   init-roots [--chown UID:GID] [--token-file FILE] HOME=IP/port[,IP/port] …
//                       one-shot setup for several roots (docker compose): identities in each
//                       home, ONE moon listing all of them written to every home, and a shared
//                       metrics token (also written to FILE, world-readable, for Prometheus).
//   anything else       passed to `ztroot` (idtool, …).

import { chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { formatAddress } from '../src/identity/address.ts';
import type { Identity } from '../src/identity/identity.ts';
import { ensureHome, HOME_FILES, loadOrCreateIdentity, loadOrCreateMetricsToken } from '../src/root/home.ts';
import { writeFileAtomic, writeSecretFileAtomic } from '../src/util/atomic-file.ts';
import { buildWorld, formatWorldJson, initMoonJson } from '../src/world/world-json.ts';
import { World } from '../src/world/world.ts';

const DEFAULT_HOME = '/var/lib/ztroot';
const DEFAULT_WORLDS_DIR = '/etc/ztroot/worlds';
const DEFAULT_HTTP = '0.0.0.0:9993';
/** The moon definition (with its signing secret) is kept beside the worlds for later revisions. */
const MOON_DEFINITION = 'moon.json';
const MOON_FILE = /^[0-9a-f]{16}\.moon$/;

class EntrypointError extends Error {}

function say(line: string): void {
  process.stdout.write(`ztroot-entrypoint: ${line}\n`);
}

function moonFiles(home: string): string[] {
  try {
    return readdirSync(join(home, HOME_FILES.moonsDir)).filter((n) => MOON_FILE.test(n));
  } catch {
    return [];
  }
}

function parseEndpoints(text: string, what: string): string[] {
  const eps = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (eps.length === 0) throw new EntrypointError(`${what}: no endpoints given (want "IP/port[,IP/port]")`);
  return eps;
}

/**
 * `zerotier-cli orbit <moon id> <seed>`: what a leaf runs to join the moon. The seed is the root
 * whose address the moon ID carries (initmoon's seed); roots are stored sorted, so not roots[0].
 */
export function orbitLine(world: World): string {
  const seed = Number(world.id & 0xff_ffff_ffffn);
  return `zerotier-cli orbit ${world.idHex} ${formatAddress(seed)}`;
}

/**
 * Make one moon whose roots are `roots` (the first one's address becomes the moon ID), as
 * `ztroot idtool initmoon` + editing stableEndpoints + `genmoon` would. Returns the signed world
 * and the definition JSON (which holds the signing secret).
 */
export function makeMoon(roots: { identity: Identity; endpoints: string[] }[], nowMs = Date.now()): { world: World; definition: string } {
  if (roots.length === 0) throw new EntrypointError('a moon needs at least one root');
  const json = initMoonJson(roots[0].identity);
  json.roots = roots.map((r) => ({ identity: r.identity.toString(false), stableEndpoints: r.endpoints }));
  const { world } = buildWorld(json, BigInt(nowMs));
  return { world, definition: formatWorldJson(json) + '\n' };
}

function writeMoon(home: string, world: World): void {
  writeFileAtomic(join(home, HOME_FILES.moonsDir, world.fileName), world.serialize());
}

/** Copy planet and *.moon files from a mounted directory (symlinks followed, as ConfigMaps use). */
export function copyMountedWorlds(from: string, home: string): string[] {
  if (!existsSync(from)) return [];
  const copied: string[] = [];
  for (const name of readdirSync(from).sort()) {
    const src = join(from, name);
    if (!statSync(src).isFile()) continue;
    if (name === HOME_FILES.planet) {
      copyFileSync(src, join(home, HOME_FILES.planet));
    } else if (MOON_FILE.test(name)) {
      copyFileSync(src, join(home, HOME_FILES.moonsDir, name));
    } else {
      continue;
    }
    copied.push(name);
  }
  return copied;
}

/** Home preparation for `root`. */
export function prepareRootHome(home: string, env: NodeJS.ProcessEnv): void {
  const endpoints = env.ZTROOT_MOON_ENDPOINTS?.trim() ? parseEndpoints(env.ZTROOT_MOON_ENDPOINTS, 'ZTROOT_MOON_ENDPOINTS') : undefined;
  ensureHome(home);
  const { identity, created } = loadOrCreateIdentity(home);
  say(`${created ? 'created' : 'using'} identity ${formatAddress(identity.address)} in ${home}`);
  const copied = copyMountedWorlds(env.ZTROOT_WORLDS_DIR ?? DEFAULT_WORLDS_DIR, home);
  if (copied.length > 0) say(`worlds from ${env.ZTROOT_WORLDS_DIR ?? DEFAULT_WORLDS_DIR}: ${copied.join(', ')}`);
  if (endpoints && moonFiles(home).length === 0) {
    const { world, definition } = makeMoon([{ identity, endpoints }]);
    writeMoon(home, world);
    writeSecretFileAtomic(join(home, MOON_DEFINITION), definition);
    say(`made moon ${world.idHex} (definition with its signing key: ${join(home, MOON_DEFINITION)})`);
  }
  for (const name of moonFiles(home)) {
    const d = World.decode(readFileSync(join(home, HOME_FILES.moonsDir, name)));
    if (typeof d !== 'string') say(`moon ${d.world.idHex}; leaves join with: ${orbitLine(d.world)}`);
  }
  const token = env.ZTROOT_METRICS_TOKEN?.trim();
  if (token) {
    let current: string | undefined;
    try { current = readFileSync(join(home, HOME_FILES.metricsToken), 'utf8').trim(); } catch { /* absent */ }
    if (current !== token) writeSecretFileAtomic(join(home, HOME_FILES.metricsToken), token);
  }
}

/** Flags for `ztroot root`: --http from the environment unless given. */
export function rootArgs(args: string[], env: NodeJS.ProcessEnv): string[] {
  const hasHttp = args.some((a) => a === '--http' || a.startsWith('--http='));
  return hasHttp ? args : [...args, '--http', env.ZTROOT_HTTP ?? DEFAULT_HTTP];
}

function homeFromArgs(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--home') return args[i + 1];
    if (args[i].startsWith('--home=')) return args[i].slice('--home='.length);
  }
  return undefined;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

/** `init-roots`: one moon over several homes and one shared metrics token. */
export function initRoots(args: string[]): void {
  let owner: [number, number] | undefined;
  let tokenFile: string | undefined;
  const roots: { home: string; endpoints: string[] }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--chown') {
      const m = /^(\d+):(\d+)$/.exec(args[++i] ?? '');
      if (!m) throw new EntrypointError('--chown wants UID:GID');
      owner = [Number(m[1]), Number(m[2])];
    } else if (a === '--token-file') {
      tokenFile = args[++i];
      if (!tokenFile) throw new EntrypointError('--token-file wants a path');
    } else {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new EntrypointError(`expected HOME=IP/port[,IP/port], got ${JSON.stringify(a)}`);
      roots.push({ home: a.slice(0, eq), endpoints: parseEndpoints(a.slice(eq + 1), a.slice(0, eq)) });
    }
  }
  if (roots.length === 0) throw new EntrypointError('init-roots: no HOME=IP/port arguments');

  const identities = roots.map((r) => {
    ensureHome(r.home);
    const { identity, created } = loadOrCreateIdentity(r.home);
    say(`${r.home}: ${created ? 'created' : 'using'} identity ${formatAddress(identity.address)}`);
    return identity;
  });
  const existing = roots.flatMap((r) => moonFiles(r.home));
  if (existing.length === 0) {
    const { world, definition } = makeMoon(roots.map((r, i) => ({ identity: identities[i], endpoints: r.endpoints })));
    for (const r of roots) writeMoon(r.home, world);
    writeSecretFileAtomic(join(roots[0].home, MOON_DEFINITION), definition);
    say(`made moon ${world.idHex} with ${roots.length} roots; leaves join with: ${orbitLine(world)}`);
  } else {
    say(`moon already present (${[...new Set(existing)].join(', ')}); left as it is`);
  }

  if (tokenFile) {
    let token = '';
    try { token = readFileSync(tokenFile, 'utf8').trim(); } catch { /* first run */ }
    if (!token) token = loadOrCreateMetricsToken(roots[0].home);
    for (const r of roots) writeSecretFileAtomic(join(r.home, HOME_FILES.metricsToken), token);
    mkdirSync(dirname(tokenFile), { recursive: true });
    // the scraper runs as another user: this copy is readable by it
    writeFileSync(tokenFile, token, { mode: 0o644 });
    say(`metrics token shared by all roots, copy for the scraper in ${tokenFile}`);
  }
  if (owner) for (const r of roots) chownTree(r.home, owner[0], owner[1]);
}

export async function entrypoint(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command = 'root', ...rest] = argv;
  try {
    if (command === 'init-roots') {
      initRoots(rest);
      return 0;
    }
    if (command === 'root') {
      const args = rootArgs(rest, env);
      const home = homeFromArgs(args) ?? env.ZTROOT_HOME ?? DEFAULT_HOME;
      prepareRootHome(home, env);
      return await main(['root', ...args]);
    }
  } catch (e) {
    if (e instanceof Error) {
      process.stderr.write(`ztroot-entrypoint: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return main(argv);
}

if (import.meta.main) {
  entrypoint(process.argv.slice(2), process.env).then((code) => { process.exitCode = code; });
}
