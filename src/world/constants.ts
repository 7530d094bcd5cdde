// World (planet/moon) constants (docs/protocol/05-world-moons.md, docs/protocol/11-constants.md).

/** World types (docs/protocol/05-world-moons.md §1). Type 0 is accepted by the parser but never used. */
export const WorldType = { null: 0, planet: 1, moon: 127 } as const;
export type WorldType = (typeof WorldType)[keyof typeof WorldType];

/** ZT_WORLD_MAX_ROOTS (docs/protocol/05-world-moons.md §1). */
export const WORLD_MAX_ROOTS = 4;
/** ZT_WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT (docs/protocol/05-world-moons.md §1). */
export const WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT = 32;
/** ZT_WORLD_MAX_SERIALIZED_LENGTH in bytes: the buffer worlds are built and parsed in. */
export const WORLD_MAX_SERIALIZED_LENGTH = 8480;

/** ZT_WORLD_ID_EARTH: the default planet's ID (docs/protocol/05-world-moons.md §4.1). */
export const WORLD_ID_EARTH = 149604618n;
/** ZT_WORLD_ID_MARS: reserved, unused (docs/protocol/11-constants.md). */
export const WORLD_ID_MARS = 227883110n;

/** Byte offsets of the fixed part of a serialized world (docs/protocol/05-world-moons.md §1). */
export const WORLD_OFFSET = {
  type: 0,
  id: 1,
  timestamp: 9,
  updatesMustBeSignedBy: 17,
  signature: 81,
  rootCount: 177,
  roots: 178,
} as const;

/** The signed bytes are framed by 8 × 0x7f before and 8 × 0xf7 after (docs/protocol/05-world-moons.md §2). */
export const WORLD_SIGN_PREFIX_BYTE = 0x7f;
export const WORLD_SIGN_SUFFIX_BYTE = 0xf7;
export const WORLD_SIGN_FRAME_LENGTH = 8;
