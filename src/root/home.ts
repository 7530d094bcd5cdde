// The root's home directory, laid out like zerotier-one's where the concepts match
// (docs/protocol/09-local-api-and-cli.md §1): identity.secret / identity.public, planet, moons.d/*.moon,
// authtoken.secret and metricstoken.secret, plus identities.db (the identity cache).

import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { generateIdentity, parseIdentity, type Identity } from '../identity/identity.ts';
import { writeFileAtomic, writeSecretFileAtomic } from '../util/atomic-file.ts';

export class HomeError extends Error {}

export const HOME_FILES = {
  identitySecret: 'identity.secret',
  identityPublic: 'identity.public',
  planet: 'planet',
  moonsDir: 'moons.d',
  identityCache: 'identities.db',
  metricsToken: 'metricstoken.secret',
  /** zerotier-one's local API token (docs/protocol/09-local-api-and-cli.md §2). */
  authToken: 'authtoken.secret',
} as const;

export function ensureHome(home: string): void {
  try {
    mkdirSync(join(home, HOME_FILES.moonsDir), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HomeError(`cannot create home directory ${home}: ${(e as Error).message}`);
  }
}

/**
 * Refuse a home this process cannot write (a read-only mount refuses root too: EROFS). A root
 * writes its identity cache there as peers arrive; run on a read-only home it would re-validate
 * every peer after each restart and lose world updates, so it does not start.
 */
export function requireWritableHome(home: string): void {
  if (!existsSync(home)) return; // ensureHome makes it, or says why not
  try {
    accessSync(home, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : `cannot be written (${code ?? (e as Error).message})`;
    throw new HomeError(`home ${home} ${why}: the root keeps its identity cache (${HOME_FILES.identityCache}) there; give it a writable home`);
  }
}

/**
 * Load identity.secret (it must parse, hold a private key and pass validation, or we refuse to
 * start, as zerotier-one does), or generate one on first start. identity.public is rewritten if
 * it does not match.
 */
export function loadOrCreateIdentity(home: string): { identity: Identity; created: boolean } {
  const secretPath = join(home, HOME_FILES.identitySecret);
  const publicPath = join(home, HOME_FILES.identityPublic);
  let identity: Identity;
  let created = false;
  if (existsSync(secretPath)) {
    const parsed = parseIdentity(readFileSync(secretPath, 'utf8'));
    if (!parsed || !parsed.hasPrivate) throw new HomeError(`${secretPath} does not hold a secret identity`);
    if (!parsed.locallyValidate()) throw new HomeError(`${secretPath} holds an identity that fails validation`);
    identity = parsed;
  } else {
    identity = generateIdentity();
    writeSecretFileAtomic(secretPath, identity.toString(true));
    created = true;
  }
  const pub = identity.toString(false);
  let current: string | undefined;
  try {
    current = readFileSync(publicPath, 'utf8');
  } catch { /* absent */ }
  if (current !== pub) writeFileAtomic(publicPath, pub);
  return { identity, created };
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN_LENGTH = 24;

/** A token file of the home: 24 characters of [a-z0-9], created if missing, whitespace trimmed on read (as zerotier-one's). */
function loadOrCreateToken(home: string, file: string): string {
  const path = join(home, file);
  try {
    const t = readFileSync(path, 'utf8').trim();
    if (t) return t;
  } catch { /* create below */ }
  let token = '';
  for (let i = 0; i < TOKEN_LENGTH; i++) token += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  writeSecretFileAtomic(path, token);
  return token;
}

/** authtoken.secret: the local API's token. */
export const loadOrCreateAuthToken = (home: string): string => loadOrCreateToken(home, HOME_FILES.authToken);

/** metricstoken.secret: the token of /metrics (and the root's /peers). */
export const loadOrCreateMetricsToken = (home: string): string => loadOrCreateToken(home, HOME_FILES.metricsToken);
