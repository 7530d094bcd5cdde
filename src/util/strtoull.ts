// C's strtoull(text, NULL, base) for bases 10 and 16, which ZeroTier uses to read addresses,
// world IDs, dictionary integers and ports: optional leading whitespace, an optional sign, for
// base 16 an optional `0x`, then digits up to the first other character (none gives 0).
// Overflow saturates at 2^64-1; a minus sign negates modulo 2^64.

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const PATTERN = {
  10: /^[\t\n\v\f\r ]*([+-]?)()([0-9]*)/,
  16: /^[\t\n\v\f\r ]*([+-]?)(0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]*)/,
} as const;

export function strtoull(text: string, base: 10 | 16): bigint {
  const m = PATTERN[base].exec(text)!;
  let v = m[3] === '' ? 0n : BigInt(base === 16 ? '0x' + m[3] : m[3]);
  if (v > U64_MAX) v = U64_MAX;
  return m[1] === '-' ? BigInt.asUintN(64, -v) : v;
}
