// What every payload decoder returns: a value or the name of what was wrong with the bytes.
// Decoders never throw on input; callers count the error names and drop the packet.

export type DecodeError =
  /** A field runs past the end of the payload (1.14 would throw out-of-bounds and drop). */
  | 'too-short'
  /** InetAddress type byte other than 0-4 and 6 (docs/protocol/03-packet.md §10.1). */
  | 'bad-inet-address-type'
  /** Identity with an unknown type or private-key length (docs/protocol/01-identity.md §6). */
  | 'bad-identity'
  /** COM whose first byte is not the format byte 1 (docs/protocol/07-network-config-controller.md §5.1). */
  | 'bad-com-format'
  /** COM qualifier IDs not in non-decreasing order (docs/protocol/07-network-config-controller.md §5.1). */
  | 'com-qualifiers-out-of-order'
  /** More COM qualifiers than ZT_NETWORK_COM_MAX_QUALIFIERS (07-network-config-controller.md §5.1). */
  | 'too-many-com-qualifiers'
  /**
   * Signature marked as type 1 (Ed25519) but not 96 bytes long (07-network-config-controller.md §5,
   * docs/protocol/04-verbs.md §12).
   */
  | 'bad-signature-length'
  /** Config chunk whose signature type byte is not 1 (docs/protocol/04-verbs.md §12). */
  | 'bad-signature-type'
  /** Capability rule count above ZT_MAX_CAPABILITY_RULES (07-network-config-controller.md §5.2). */
  | 'too-many-rules'
  /**
   * Capability custody chain length outside 1..7 or more links than it allows
   * (docs/protocol/07-network-config-controller.md §5.2).
   */
  | 'bad-custody-chain'
  /**
   * COO with more than ZT_CERTIFICATEOFOWNERSHIP_MAX_THINGS things (07-network-config-controller.md
   * §5.4).
   */
  | 'too-many-things'
  /**
   * Config chunk that does not fit its own total, or a total beyond the dictionary capacity
   * (docs/protocol/04-verbs.md §12).
   */
  | 'bad-chunk-range'
  /** Network config dictionary without a non-zero `nwid` (07-network-config-controller.md §3). */
  | 'netconf-missing-network-id'
  /** Network config dictionary without a non-zero `id` (docs/protocol/07-network-config-controller.md §3). */
  | 'netconf-missing-issued-to'
  /** Network config format version `v` below 6 (docs/protocol/07-network-config-controller.md §3). */
  | 'netconf-version-too-old';

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

/** A value decoded from inside a larger buffer, with the number of bytes it occupied. */
export type DecodedAt<T> =
  | { readonly ok: true; readonly value: T; readonly length: number }
  | { readonly ok: false; readonly error: DecodeError };

export function decoded<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

export function decodeFailed<T = never>(error: DecodeError): Decoded<T> {
  return { ok: false, error };
}
