// Worker thread body for key-material generation (key-material.ts): the curve operations are
// slow enough (hundreds of microseconds each here) that tens of thousands of them are spread
// over every core. Each request is one batch; the answer carries plain bytes.

import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { agree, agreementPublicKey } from '../../src/crypto/c25519.ts';
import { generateIdentity } from '../../src/identity/identity.ts';

export type KeygenTask =
  /** `count` agreement private keys (32 bytes each) and their 64-byte public keys. */
  | { task: 'pairs'; count: number }
  /** The 48-byte key each private key (32 bytes each, concatenated) shares with `peerPublic`. */
  | { task: 'agree'; privates: Uint8Array; peerPublic: Uint8Array }
  /** `count` identities with valid proof of work, as secret text. */
  | { task: 'identities'; count: number };

export type KeygenRequest = KeygenTask & { id: number };

export type KeygenResponse =
  | { id: number; task: 'pairs'; privates: Uint8Array; publics: Uint8Array }
  | { id: number; task: 'agree'; keys: Uint8Array }
  | { id: number; task: 'identities'; secrets: string[] };

/**
 * A synthetic key pair: a random X25519 scalar, its public key, and 32 random bytes standing in
 * for the Ed25519 half (a root never checks a leaf's signature on the paths exercised here).
 */
function pairs(count: number): { privates: Uint8Array; publics: Uint8Array } {
  const privates = new Uint8Array(randomBytes(32 * count));
  const publics = new Uint8Array(randomBytes(64 * count));
  const scratch = new Uint8Array(64);
  for (let i = 0; i < count; i++) {
    scratch.set(privates.subarray(32 * i, 32 * i + 32), 0);
    publics.set(agreementPublicKey(scratch), 64 * i);
  }
  return { privates, publics };
}

function agreeAll(privates: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  const count = privates.length / 32;
  const keys = new Uint8Array(48 * count);
  const scratch = new Uint8Array(64);
  for (let i = 0; i < count; i++) {
    scratch.set(privates.subarray(32 * i, 32 * i + 32), 0);
    const k = agree(scratch, peerPublic);
    if (!k) throw new Error('key agreement refused a generated key');
    keys.set(k, 48 * i);
  }
  return keys;
}

parentPort?.on('message', (req: KeygenRequest) => {
  let res: KeygenResponse;
  switch (req.task) {
    case 'pairs':
      res = { id: req.id, task: 'pairs', ...pairs(req.count) };
      break;
    case 'agree':
      res = { id: req.id, task: 'agree', keys: agreeAll(req.privates, req.peerPublic) };
      break;
    case 'identities':
      res = { id: req.id, task: 'identities', secrets: Array.from({ length: req.count }, () => generateIdentity().toString(true)) };
      break;
  }
  parentPort!.postMessage(res);
});
