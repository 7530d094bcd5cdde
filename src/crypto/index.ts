export { Salsa20, type SalsaRounds } from './salsa20.ts';
export { Poly1305, poly1305 } from './poly1305.ts';
export { sha384, sha512, hmacSha384 } from './sha.ts';
export * from './c25519.ts';
