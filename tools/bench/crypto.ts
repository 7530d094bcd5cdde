// Crypto and identity benchmarks (issue: foundation). Run: npm run bench:crypto
// Every primitive is measured for each implementation considered, side by side.

import { salsa20 as nobleSalsa20 } from '@noble/ciphers/salsa.js';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { randomBytes } from 'node:crypto';
import { Poly1305 } from '../../src/crypto/poly1305.ts';
import { Salsa20 } from '../../src/crypto/salsa20.ts';
import { nobleCurves, nodeCurves } from '../../src/crypto/curve-backends.ts';
import { sign, verify, useCurveBackend } from '../../src/crypto/c25519.ts';
import { generateIdentity, parseIdentity } from '../../src/identity/identity.ts';
import { useIdentityHash } from '../../src/identity/memory-hard-hash.ts';
import { nativeIdentityHashAvailability } from '../../src/identity/native-identity-hash.ts';
import { armor, dearmor, useArmor, type ArmorCipher, type ArmorImplementation } from '../../src/wire/armor.ts';
import { nativeArmorAvailability } from '../../src/wire/native-armor.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { measure, report, type Measurement } from './harness.ts';

const key = new Uint8Array(randomBytes(32));
const nonce = new Uint8Array(randomBytes(8));

for (const size of [1400, 65536]) {
  const buf = new Uint8Array(randomBytes(size));
  const out = new Uint8Array(size);
  const s12 = new Salsa20(key, nonce, 12);
  const s20 = new Salsa20(key, nonce, 20);
  report(`Salsa20 stream XOR, ${size}-byte messages`, [
    measure('ztroot Salsa20/12', () => { s12.init(key, 0, nonce, 0); s12.crypt(buf, 0, out, 0, size); }, { bytesPerOp: size }),
    measure('ztroot Salsa20/20', () => { s20.init(key, 0, nonce, 0); s20.crypt(buf, 0, out, 0, size); }, { bytesPerOp: size }),
    measure('@noble/ciphers salsa20 (20 rounds only)', () => { nobleSalsa20(key, new Uint8Array(8), buf, out); }, { bytesPerOp: size }),
  ], '@noble/ciphers salsa20 (20 rounds only)');
  const mac = new Poly1305();
  const tag = new Uint8Array(16);
  report(`Poly1305, ${size}-byte messages`, [
    measure('ztroot Poly1305', () => mac.mac(key, 0, buf, 0, size, tag, 0), { bytesPerOp: size }),
    measure('@noble/ciphers poly1305', () => noblePoly1305(buf, key), { bytesPerOp: size }),
  ], '@noble/ciphers poly1305');
}

// Packet armor and dearmor (ciphers 1 and 3), TypeScript and the C addon, in the same run. One op
// is armor then dearmor of one packet (a fresh copy each time), as a sender and a receiver do.
// Rates are per second of this process's CPU time, and the two are measured in alternation,
// ARMOR_ROUNDS times each, each keeping its best round, so that load from other processes on a
// shared machine hits both alike.
const ARMOR_ROUNDS = 3;
const nativeArmor = nativeArmorAvailability();
const armorKey = new PeerKey(new Uint8Array(randomBytes(48)));
const ARMOR_SIZES_BYTES = [64, 1400, 2800];
const armorImplementations: ArmorImplementation[] = nativeArmor.ok ? ['js', 'native'] : ['js'];
const armorRowName = (which: ArmorImplementation): string => `armor + dearmor (${which === 'js' ? 'TypeScript' : 'native'})`;
for (const cipher of [1, 3] as const satisfies readonly ArmorCipher[]) {
  for (const size of ARMOR_SIZES_BYTES) {
    const plain = new Uint8Array(randomBytes(size));
    plain[18] = size > 1432 ? 0x40 : 0; // fragmented flag, as sender.ts sets it past the MTU
    const p = new Uint8Array(size);
    const best = new Map<ArmorImplementation, Measurement>();
    for (let round = 0; round < ARMOR_ROUNDS; round++) {
      for (const which of armorImplementations) {
        useArmor(which);
        const m = measure(armorRowName(which), () => {
          p.set(plain);
          armor(p, armorKey, cipher);
          if (!dearmor(p, armorKey).ok) throw new Error('dearmor failed');
        }, { bytesPerOp: size, seconds: Number(process.env.BENCH_SECONDS ?? 1) / ARMOR_ROUNDS, clock: 'cpu' });
        if (m.opsPerSec > (best.get(which)?.opsPerSec ?? 0)) best.set(which, m);
      }
    }
    const rows = [...best.values()];
    report(`Packet armor + dearmor, cipher ${cipher}, ${size}-byte packets, per CPU-second, best of ${ARMOR_ROUNDS} (ops/s: ${rows.map((r) => r.opsPerSec.toFixed(0)).join(' / ')})`,
      rows, armorRowName('js'));
  }
}
useArmor('auto');
if (!nativeArmor.ok) console.log(`\n(native packet crypto not measured: ${nativeArmor.reason})`);
else console.log(`\n(native packet crypto on ${nativeArmor.openssl})`);

const privA = new Uint8Array(randomBytes(32));
const pubB = nodeCurves.x25519PublicKey(new Uint8Array(randomBytes(32)));
report('X25519 agreement (raw keys in, shared secret out)', [
  measure('node:crypto (OpenSSL)', () => nodeCurves.x25519(privA, pubB)),
  measure('@noble/curves', () => nobleCurves.x25519(privA, pubB)),
], '@noble/curves');

const seed = new Uint8Array(randomBytes(32));
const edPub = nodeCurves.ed25519PublicKey(seed);
const msg = new Uint8Array(randomBytes(32));
const edSig = nodeCurves.ed25519Sign(seed, msg);
report('Ed25519 sign / verify (32-byte digest, as ZeroTier signs)', [
  measure('node:crypto sign', () => nodeCurves.ed25519Sign(seed, msg)),
  measure('@noble/curves sign', () => nobleCurves.ed25519Sign(seed, msg)),
  measure('node:crypto verify', () => nodeCurves.ed25519Verify(edPub, msg, edSig)),
  measure('@noble/curves verify', () => nobleCurves.ed25519Verify(edPub, msg, edSig)),
]);

const world = new Uint8Array(randomBytes(600));
const priv64 = new Uint8Array(randomBytes(64));
useCurveBackend(nodeCurves);
const pub64 = new Uint8Array(64);
pub64.set(nodeCurves.x25519PublicKey(priv64.subarray(0, 32)));
pub64.set(nodeCurves.ed25519PublicKey(priv64.subarray(32)), 32);
const sig96 = sign(priv64, world);
report('96-byte signature over a 600-byte world (SHA-512 + Ed25519)', [
  measure('sign (node:crypto backend)', () => sign(priv64, world)),
  measure('verify (node:crypto backend)', () => verify(pub64, world, sig96)),
]);

const id = parseIdentity('8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7')!;
const seconds = Number(process.env.BENCH_SECONDS ?? 1) * 3;
// The memory-hard hash in TypeScript, then in the C addon when it is built (npm run build:native).
const nativeHash = nativeIdentityHashAvailability();
const validateRows: Measurement[] = [];
const generateRows: Measurement[] = [];
for (const which of nativeHash.ok ? (['TypeScript', 'native'] as const) : (['TypeScript'] as const)) {
  useIdentityHash(which === 'native' ? 'native' : 'js');
  validateRows.push(measure(`locallyValidate (${which})`, () => id.locallyValidate(), { seconds }));
  generateRows.push(measure(`generate (${which})`, () => generateIdentity(), { seconds }));
}
useIdentityHash('auto');
report('Identity validation (memory-hard hash; one thread)', validateRows, 'locallyValidate (TypeScript)');
report('Identity generation (about 15 memory-hard hashes each; one thread)', generateRows, 'generate (TypeScript)');
if (!nativeHash.ok) console.log(`\n(native identity hash not measured: ${nativeHash.reason})`);
