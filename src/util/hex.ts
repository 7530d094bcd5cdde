// Hex helpers. `unhexLenient` reproduces ZeroTier's Utils::unhex, which several text formats
// depend on: it decodes pairs of characters until `maxBytes` bytes or the end of the text,
// treats any non-hex character as the nibble 0 and drops a trailing odd character.

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return 0;
}

export function unhexLenient(text: string, maxBytes: number): Uint8Array {
  const n = Math.min(maxBytes, text.length >>> 1);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (nibble(text.charCodeAt(2 * i)) << 4) | nibble(text.charCodeAt(2 * i + 1));
  return out;
}

/** Exactly `length` bytes decoded leniently, or null when the text is too short. */
export function unhexExact(text: string, length: number): Uint8Array | null {
  const out = unhexLenient(text, length);
  return out.length === length ? out : null;
}

/** A 64-bit ID as ZeroTier writes network, world and moon IDs: 16 lowercase hex digits. */
export function hex64(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}
