// Identity constants (docs/protocol/01-identity.md). These define identity type 0 and cannot change.

/** Address length on the wire: 40 bits, big-endian (docs/protocol/01-identity.md §2). */
export const ADDRESS_LENGTH = 5;
/** ZT_ADDRESS_RESERVED_PREFIX: no address may start with this byte (docs/protocol/01-identity.md §2). */
export const ADDRESS_RESERVED_PREFIX = 0xff;
/** The only identity type 1.x knows: C25519 (docs/protocol/01-identity.md intro). */
export const IDENTITY_TYPE_C25519 = 0;
/** ZT_IDENTITY_GEN_MEMORY: scratch space of the memory-hard hash, 2 MiB (docs/protocol/01-identity.md §3). */
export const IDENTITY_HASH_MEMORY = 2_097_152;
/** ZT_IDENTITY_GEN_HASHCASH_FIRST_BYTE_LESS_THAN: digest[0] must be below this (01-identity.md §3). */
export const IDENTITY_HASH_FIRST_BYTE_LESS_THAN = 17;
/** ZT_IDENTITY_STRING_BUFFER_LENGTH: longer identity strings are rejected (01-identity.md §5). */
export const IDENTITY_STRING_BUFFER_LENGTH = 384;
/** Binary public form: address 5 + type 1 + key 64 + private-length 1 (docs/protocol/01-identity.md §6). */
export const IDENTITY_PUBLIC_BINARY_LENGTH = 71;
