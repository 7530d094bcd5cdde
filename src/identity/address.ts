// 40-bit ZeroTier addresses held as plain numbers (exact in a double), printed as 10 hex digits.

import { ADDRESS_LENGTH, ADDRESS_RESERVED_PREFIX } from './constants.ts';

export type Address = number;

export const ADDRESS_MASK = 0xff_ffff_ffff;

export function isReservedAddress(a: Address): boolean {
  return a === 0 || Math.floor(a / 2 ** 32) === ADDRESS_RESERVED_PREFIX;
}

export function formatAddress(a: Address): string {
  return a.toString(16).padStart(10, '0');
}

/** Parse exactly 10 hex digits; anything else is null. */
export function parseAddress(text: string): Address | null {
  return /^[0-9a-fA-F]{10}$/.test(text) ? Number.parseInt(text, 16) : null;
}

export function readAddress(b: Uint8Array, off: number): Address {
  return b[off] * 2 ** 32 + (((b[off + 1] << 24) | (b[off + 2] << 16) | (b[off + 3] << 8) | b[off + 4]) >>> 0);
}

export function writeAddress(a: Address, b: Uint8Array, off: number): void {
  b[off] = Math.floor(a / 2 ** 32) & 0xff;
  const lo = a >>> 0;
  b[off + 1] = lo >>> 24;
  b[off + 2] = (lo >>> 16) & 0xff;
  b[off + 3] = (lo >>> 8) & 0xff;
  b[off + 4] = lo & 0xff;
}

export function addressBytes(a: Address): Uint8Array {
  const b = new Uint8Array(ADDRESS_LENGTH);
  writeAddress(a, b, 0);
  return b;
}
