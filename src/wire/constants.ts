// Wire-layer protocol constants (03-packet.md, 02-crypto.md, 04-verbs.md §1-2, 11-constants.md).
// One place for every number the packet layer and the verb codecs agree on.

// ---------------------------------------------------------------------------------------------
// Transport and datagram classification (docs/protocol/03-packet.md §1)
// ---------------------------------------------------------------------------------------------

/** ZT_DEFAULT_PORT: default UDP port (docs/protocol/03-packet.md §1). */
export const DEFAULT_PORT = 9993;
/** Datagram length (bytes) of a legacy LAN beacon; bytes 8..12 carry an address (03-packet.md §1). */
export const BEACON_LENGTH = 13;
/** Datagrams of at most this many bytes (that are not beacons) are ignored (03-packet.md §1). */
export const IGNORED_MAX_LENGTH = 16;

// ---------------------------------------------------------------------------------------------
// Packet header (docs/protocol/03-packet.md §2)
// ---------------------------------------------------------------------------------------------

/** Byte offsets inside the 28-byte packet header (docs/protocol/03-packet.md §2). */
export const PacketOffset = {
  /** 8-byte packet ID (IV for ciphers 0/1, half of the tag for cipher 3). */
  id: 0,
  /** 5-byte destination address. */
  destination: 8,
  /** 5-byte source address. */
  source: 13,
  /** 1 byte: legacy-encrypted flag, fragmented flag, cipher, hops (§2.1). */
  flags: 18,
  /** 8-byte MAC / second half of the cipher-3 tag / trusted-path ID. */
  mac: 19,
  /** 1 byte: compressed flag + verb code (§2.2); first byte of the armored region. */
  verb: 27,
  /** Start of the verb payload. */
  payload: 28,
} as const;

/** Packet ID length in bytes (docs/protocol/03-packet.md §2). */
export const PACKET_ID_LENGTH = 8;
/** MAC field length in bytes (docs/protocol/03-packet.md §2). */
export const MAC_LENGTH = 8;
/** ZT_PROTO_MIN_PACKET_LENGTH: header incl. verb byte, bytes (docs/protocol/03-packet.md §2). */
export const MIN_PACKET_LENGTH = 28;
/** Byte count covered by the cipher-3 AAD: destination, source, flags (docs/protocol/03-packet.md §5.3). */
export const AAD_LENGTH = 11;

/** Byte 18 bit fields (docs/protocol/03-packet.md §2.1). */
export const HeaderFlag = {
  /** Legacy "encrypted" flag; 1.14 sets it iff cipher == 1. */
  encrypted: 0x80,
  /** More pieces of this packet follow as fragments. */
  fragmented: 0x40,
  /** Cipher suite field mask; value = (byte >> 3) & 7. */
  cipherMask: 0x38,
  /** Hop count mask (0-7). */
  hopsMask: 0x07,
} as const;
/** Shift of the cipher field inside byte 18 (docs/protocol/03-packet.md §2.1). */
export const CIPHER_SHIFT = 3;

/** Byte 27 bit fields (docs/protocol/03-packet.md §2.2). */
export const VerbFlag = {
  /** Payload (bytes 28..end) is LZ4-compressed. */
  compressed: 0x80,
  /** Verb code mask. */
  verbMask: 0x1f,
} as const;

// ---------------------------------------------------------------------------------------------
// Cipher suites (docs/protocol/03-packet.md §3)
// ---------------------------------------------------------------------------------------------

export const Cipher = {
  /** C25519_POLY1305_NONE: authenticated, cleartext. Always used for HELLO. */
  poly1305None: 0,
  /** C25519_POLY1305_SALSA2012: Salsa20/12 + Poly1305. */
  poly1305Salsa2012: 1,
  /** NO_CRYPTO_TRUSTED_PATH: MAC field carries a trusted-path ID. */
  noCryptoTrustedPath: 2,
  /** AES_GMAC_SIV. */
  aesGmacSiv: 3,
} as const;
export type CipherSuite = (typeof Cipher)[keyof typeof Cipher];

/** ZT_PROTO_SALSA20_ROUNDS: Salsa20 rounds used for packets (docs/protocol/02-crypto.md §4). */
export const PACKET_SALSA20_ROUNDS = 12;
/** Peer's advertised protocol version from which 1.14 sends cipher 3 (docs/protocol/03-packet.md §4). */
export const AES_GMAC_SIV_MIN_PROTO_VERSION = 12;
/** A peer of at least this protocol version is contacted with ECHO rather than HELLO at a new address (Peer::attemptToContactAt). */
export const ECHO_MIN_PROTO_VERSION = 5;
/** ZT_SYMMETRIC_KEY_SIZE: agreed per-peer key length in bytes (docs/protocol/02-crypto.md §2). */
export const SYMMETRIC_KEY_LENGTH = 48;
/** Bytes of the peer key used for Salsa20/Poly1305 and cryptField (docs/protocol/02-crypto.md §2). */
export const SALSA_KEY_LENGTH = 32;
/** KBKDF label bytes for the AES-GMAC-SIV keys: '0' -> K0 (GMAC), '1' -> K1 (ECB+CTR) (02-crypto.md §5). */
export const KBKDF_LABEL_K0 = 0x30;
export const KBKDF_LABEL_K1 = 0x31;

// ---------------------------------------------------------------------------------------------
// Protocol versions (docs/protocol/11-constants.md "Versions and identifiers")
// ---------------------------------------------------------------------------------------------

/** ZT_PROTO_VERSION of 1.14 (docs/protocol/11-constants.md). */
export const PROTO_VERSION = 12;
/** ZT_PROTO_VERSION_MIN: lower versions are rejected (docs/protocol/03-packet.md §4). */
export const PROTO_VERSION_MIN = 4;

// ---------------------------------------------------------------------------------------------
// Sizes and limits (docs/protocol/03-packet.md §2, §7, §8; docs/protocol/11-constants.md "Sizes")
// ---------------------------------------------------------------------------------------------

/** ZT_DEFAULT_PHYSMTU: default physical MTU in bytes (docs/protocol/03-packet.md §7.2). */
export const DEFAULT_PHYSICAL_MTU = 1432;
/** ZT_MIN_PHYSMTU / ZT_MAX_PHYSMTU in bytes (docs/protocol/11-constants.md). */
export const MIN_PHYSICAL_MTU = 1400;
export const MAX_PHYSICAL_MTU = 10324;
/** ZT_MAX_PACKET_FRAGMENTS: pieces per packet, head included (docs/protocol/03-packet.md §7.3). */
export const MAX_PACKET_FRAGMENTS = 7;
/** ZT_PROTO_MAX_PACKET_LENGTH: maximum assembled packet length, bytes (= 7 x 1432) (03-packet.md §2). */
export const MAX_PACKET_LENGTH = 10024;
/** ZT_PROTO_MAX_HOPS: the 3-bit hop field's maximum (docs/protocol/03-packet.md §8). */
export const MAX_HOPS = 7;
/** ZT_RELAY_MAX_HOPS: 1.14 relays only while hops < 3 (docs/protocol/03-packet.md §8). */
export const RELAY_MAX_HOPS = 3;
/** Relay hop limit default of the minimal root on the `root` branch (docs/protocol/03-packet.md §8). */
export const ROOT_BRANCH_RELAY_MAX_HOPS = 4;
/** ZT_RX_QUEUE_SIZE: 1.14's reassembly ring size (docs/protocol/03-packet.md §7.3). */
export const RX_QUEUE_SIZE = 32;
/** ZT_RECEIVE_QUEUE_TIMEOUT in milliseconds; also our incomplete-reassembly timeout (03-packet.md §7.3). */
export const RECEIVE_QUEUE_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Fragments (docs/protocol/03-packet.md §7.1)
// ---------------------------------------------------------------------------------------------

/** Byte offsets inside a fragment datagram (docs/protocol/03-packet.md §7.1). */
export const FragmentOffset = {
  /** 8-byte packet ID (on-wire, post-armor). */
  id: 0,
  /** 5-byte destination address. */
  destination: 8,
  /** The 0xff indicator byte. */
  indicator: 13,
  /** High nibble: total pieces; low nibble: this fragment's number. */
  counts: 14,
  /** Hop count (low 3 bits). */
  hops: 15,
  /** Fragment data. */
  data: 16,
} as const;

/** Value of byte 13 that marks a fragment (docs/protocol/03-packet.md §7.1). */
export const FRAGMENT_INDICATOR = 0xff;
/** ZT_PROTO_MIN_FRAGMENT_LENGTH: fragment header length, bytes (docs/protocol/03-packet.md §7.1). */
export const FRAGMENT_HEADER_LENGTH = 16;

// ---------------------------------------------------------------------------------------------
// Compression (docs/protocol/02-crypto.md §9)
// ---------------------------------------------------------------------------------------------

/** Payloads (after the verb byte) of at most this many bytes are never compressed (02-crypto.md §9). */
export const COMPRESS_MIN_PAYLOAD_EXCLUSIVE = 64;
/** Decompressed payload limit in bytes: 10024 - 28 (docs/protocol/02-crypto.md §9). */
export const MAX_UNCOMPRESSED_PAYLOAD = MAX_PACKET_LENGTH - MIN_PACKET_LENGTH;

// ---------------------------------------------------------------------------------------------
// Verb codes (docs/protocol/04-verbs.md §1)
// ---------------------------------------------------------------------------------------------

export const Verb = {
  NOP: 0x00,
  HELLO: 0x01,
  ERROR: 0x02,
  OK: 0x03,
  WHOIS: 0x04,
  RENDEZVOUS: 0x05,
  FRAME: 0x06,
  EXT_FRAME: 0x07,
  ECHO: 0x08,
  MULTICAST_LIKE: 0x09,
  NETWORK_CREDENTIALS: 0x0a,
  NETWORK_CONFIG_REQUEST: 0x0b,
  NETWORK_CONFIG: 0x0c,
  MULTICAST_GATHER: 0x0d,
  MULTICAST_FRAME: 0x0e,
  PUSH_DIRECT_PATHS: 0x10,
  ACK: 0x12,
  QOS_MEASUREMENT: 0x13,
  USER_MESSAGE: 0x14,
  REMOTE_TRACE: 0x15,
  PATH_NEGOTIATION_REQUEST: 0x16,
} as const;
export type VerbName = keyof typeof Verb;
export type VerbCode = (typeof Verb)[VerbName];

const verbNames = new Map<number, VerbName>(
  (Object.entries(Verb) as [VerbName, number][]).map(([name, code]) => [code, name]),
);
/** Name of a verb code (without the compressed flag), or undefined for unassigned codes. */
export function verbName(code: number): VerbName | undefined {
  return verbNames.get(code);
}

// ---------------------------------------------------------------------------------------------
// Error codes carried in ERROR at offset 37 (docs/protocol/04-verbs.md §2)
// ---------------------------------------------------------------------------------------------

export const ErrorCode = {
  NONE: 0x00,
  INVALID_REQUEST: 0x01,
  BAD_PROTOCOL_VERSION: 0x02,
  OBJ_NOT_FOUND: 0x03,
  IDENTITY_COLLISION: 0x04,
  UNSUPPORTED_OPERATION: 0x05,
  NEED_MEMBERSHIP_CERTIFICATE: 0x06,
  NETWORK_ACCESS_DENIED: 0x07,
  UNWANTED_MULTICAST: 0x08,
  NETWORK_AUTHENTICATION_REQUIRED: 0x09,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

const errorCodeNames = new Map<number, ErrorCodeName>(
  (Object.entries(ErrorCode) as [ErrorCodeName, number][]).map(([name, code]) => [code, name]),
);
/** Name of an ERROR code, or undefined for unknown codes. */
export function errorCodeName(code: number): ErrorCodeName | undefined {
  return errorCodeNames.get(code);
}

// =============================================================================================
// Verb payload constants — the section used by the payload codecs (src/wire/verbs,
// src/wire/credentials, src/wire/netconf, inet-address.ts, mac.ts, dictionary.ts).
// Sources: 04-verbs.md, 03-packet.md §9-§10, 07-network-config-controller.md, 11-constants.md.
// =============================================================================================

// --- OK / ERROR (04-verbs.md §3) --------------------------------------------------------------

/** In-re header of OK and ERROR payloads: in-re verb (1) + in-re packet ID (8), bytes. */
export const IN_RE_HEADER_LENGTH = 9;

// --- InetAddress (docs/protocol/03-packet.md §10.1) ----------------------------------------------

/** InetAddress type byte. Types 1-3 are reserved: parsed by skipping, yielding "no address". */
export const InetAddressType = {
  none: 0x00,
  ethernet: 0x01,
  bluetooth: 0x02,
  /** Followed by a u16 length and that many bytes. */
  other: 0x03,
  ipv4: 0x04,
  ipv6: 0x06,
} as const;
/** Serialized lengths in bytes, type byte included. */
export const INET_ADDRESS_NONE_LENGTH = 1;
export const INET_ADDRESS_IPV4_LENGTH = 7;
export const INET_ADDRESS_IPV6_LENGTH = 19;
/** Types 1 and 2 occupy a fixed 7 bytes; type 3 is the type byte, a u16 length and that many bytes. */
export const INET_ADDRESS_RESERVED_FIXED_LENGTH = 7;

// --- HELLO (docs/protocol/04-verbs.md §4) --------------------------------------------------------

/** World type bytes (05-world-moons.md, 11-constants.md); HELLO moon entries use `moon`. */
export const WorldType = { null: 0, planet: 1, moon: 127 } as const;
/** One HELLO moon-list entry: world type (1) + world ID (8) + timestamp (8), bytes. */
export const HELLO_MOON_ENTRY_LENGTH = 17;

// --- RENDEZVOUS (docs/protocol/04-verbs.md §6) ---------------------------------------------------

/** Legal IP address lengths in RENDEZVOUS, bytes. */
export const RENDEZVOUS_IPV4_LENGTH = 4;
export const RENDEZVOUS_IPV6_LENGTH = 16;

// --- FRAME family and multicast (04-verbs.md §7-§14, 03-packet.md §10.3) --------------------

/** EXT_FRAME flag bits (docs/protocol/04-verbs.md §8). */
export const ExtFrameFlag = {
  /** A (deprecated) COM follows the flags byte. */
  com: 0x01,
  /** Bits holding the TEE/REDIRECT/WATCH subtype (value = (flags & mask) >> 1). */
  subtypeMask: 0x0e,
  /** Receiver answers OK(EXT_FRAME) + u64 network ID. */
  ackRequested: 0x10,
} as const;
/** EXT_FRAME subtypes, (flags & subtypeMask) >> 1 (docs/protocol/04-verbs.md §8). */
export const ExtFrameSubtype = {
  normal: 0, teeOutbound: 1, redirectOutbound: 2, watchOutbound: 3, teeInbound: 4, redirectInbound: 5, watchInbound: 6,
} as const;
/**
 * MULTICAST_FRAME flag bits; OK(MULTICAST_FRAME) reuses com (0x01) and gatherLimit (0x02)
 * (docs/protocol/04-verbs.md §14).
 */
export const MulticastFrameFlag = {
  com: 0x01,
  /** u32 implicit gather limit present; in the OK: gather results present. */
  gatherLimit: 0x02,
  sourceMac: 0x04,
  /** "Please replicate" (to a multicast replicator). */
  replicate: 0x08,
} as const;
/** MULTICAST_GATHER flag bits (docs/protocol/04-verbs.md §13). */
export const MulticastGatherFlag = { com: 0x01 } as const;
/** MULTICAST_LIKE tuple: nwid (8) + MAC (6) + ADI (4), bytes (docs/protocol/04-verbs.md §10). */
export const MULTICAST_LIKE_ENTRY_LENGTH = 18;
/** Ethernet MAC length, bytes. */
export const MAC_ADDRESS_LENGTH = 6;
/** Bit of a 48-bit MAC that marks it multicast (docs/protocol/03-packet.md §10.2). */
export const MAC_MULTICAST_BIT = 0x01_0000_0000_00;
/** Broadcast MAC ff:ff:ff:ff:ff:ff (docs/protocol/03-packet.md §10.3). */
export const MAC_BROADCAST = 0xffff_ffff_ffff;

// --- PUSH_DIRECT_PATHS (docs/protocol/04-verbs.md §15) -------------------------------------------

export const PushDirectPathsFlag = {
  /** Forget this path: receivers skip the entry. */
  forget: 0x01,
  /** Redirect: use in preference (cluster redirect). */
  redirect: 0x02,
} as const;
/** Address types and the lengths 1.14 writes for them (IP bytes + u16 port). */
export const PUSH_DIRECT_PATHS_TYPE_IPV4 = 4;
export const PUSH_DIRECT_PATHS_TYPE_IPV6 = 6;
export const PUSH_DIRECT_PATHS_IPV4_LENGTH = 6;
export const PUSH_DIRECT_PATHS_IPV6_LENGTH = 18;

// --- USER_MESSAGE (docs/protocol/04-verbs.md §16) ------------------------------------------------

/** User message type IDs up to this value are reserved for ZeroTier. */
export const USER_MESSAGE_RESERVED_MAX_TYPE = 65535n;

// --- Signatures inside payloads (07-network-config-controller.md §5, 04-verbs.md §12) ------------

/** Signature type byte meaning "96-byte C25519/Ed25519 signature follows". */
export const SIGNATURE_TYPE_ED25519 = 1;
/**
 * Byte repeated 8 times before and after a credential's signed bytes
 * (docs/protocol/07-network-config-controller.md §5.2-§5.5).
 */
export const CREDENTIAL_SIGNING_WRAP_BYTE = 0x7f;
/** Length of each wrap, bytes. */
export const CREDENTIAL_SIGNING_WRAP_LENGTH = 8;

// --- Network config chunks (04-verbs.md §12, 07-network-config-controller.md §6) -----------------

/** Dictionary bytes per chunk sent by 1.14 controllers: 10024 - (28 + 256). */
export const CONFIG_CHUNK_MAX_DATA_LENGTH = MAX_PACKET_LENGTH - (MIN_PACKET_LENGTH + 256);
/** Config chunk flag bits. */
export const ConfigChunkFlag = { fastPropagate: 0x01 } as const;
/** ZT_NETWORKCONFIG_DICT_CAPACITY on x86-64 builds, bytes: assembled configs must be smaller (sizeof-based in 1.14). */
export const NETWORKCONFIG_DICT_CAPACITY = 484_520;
/**
 * ZT_NETWORKCONFIG_METADATA_DICT_CAPACITY: request metadata dictionary capacity, bytes
 * (docs/protocol/07-network-config-controller.md §2).
 */
export const NETWORKCONFIG_METADATA_DICT_CAPACITY = 1024;
/** Capacity 1.14 uses for the auth-info dictionary of ERROR(NETWORK_AUTHENTICATION_REQUIRED), bytes. */
export const AUTH_INFO_DICT_CAPACITY = 8192;

// --- Credentials (07-network-config-controller.md §5, 11-constants.md) ---------------------------

/** Credential type numbers (revocations name the type they revoke). */
export const CredentialType = { null: 0, com: 1, capability: 2, tag: 3, coo: 4, revocation: 6 } as const;
/** COM format byte (docs/protocol/07-network-config-controller.md §5.1). */
export const COM_FORMAT = 1;
/** ZT_NETWORK_COM_MAX_QUALIFIERS (docs/protocol/07-network-config-controller.md §5.1). */
export const COM_MAX_QUALIFIERS = 8;
/** One COM qualifier: u64 id, u64 value, u64 maxDelta, bytes. */
export const COM_QUALIFIER_LENGTH = 24;
/** Qualifier IDs issued by 1.14 controllers (docs/protocol/07-network-config-controller.md §5.1). */
export const ComQualifierId = {
  timestamp: 0n,
  networkId: 1n,
  issuedTo: 2n,
  /** IDs 3..6 carry the member's public key hash, 8 bytes each. */
  publicKeyHashFirst: 3n,
  publicKeyHashLast: 6n,
} as const;
/** ZT_MAX_CAPABILITY_RULES (docs/protocol/07-network-config-controller.md §5.2). */
export const MAX_CAPABILITY_RULES = 64;
/** ZT_MAX_CAPABILITY_CUSTODY_CHAIN_LENGTH (docs/protocol/07-network-config-controller.md §5.2). */
export const MAX_CAPABILITY_CUSTODY_CHAIN_LENGTH = 7;
/**
 * ZT_CERTIFICATEOFOWNERSHIP_MAX_THINGS and the fixed thing value slot size, bytes
 * (docs/protocol/07-network-config-controller.md §5.4).
 */
export const COO_MAX_THINGS = 16;
export const COO_THING_VALUE_LENGTH = 16;
/** COO thing types (docs/protocol/07-network-config-controller.md §5.4). */
export const CooThingType = { null: 0, mac: 1, ipv4: 2, ipv6: 3 } as const;
/** Revocation flag bits (docs/protocol/07-network-config-controller.md §5.5). */
export const RevocationFlag = { fastPropagate: 0x01n } as const;

// --- Network configuration dictionary (07-network-config-controller.md §2-§4, 11-constants.md) ---

/** ZT_NETWORKCONFIG_VERSION written by 1.14; members reject configs below the minimum. */
export const NETWORKCONFIG_VERSION = 7;
export const NETWORKCONFIG_MIN_VERSION = 6;
/** ZT_RULES_ENGINE_REVISION and ZT_VENDOR_ZEROTIER as sent in request metadata. */
export const RULES_ENGINE_REVISION = 1;
export const VENDOR_ZEROTIER = 1;
/** Keys of the NETWORK_CONFIG_REQUEST metadata dictionary (07-network-config-controller.md §2). */
export const MetadataKey = {
  version: 'v',
  vendor: 'vend',
  protocolVersion: 'pv',
  majorVersion: 'majv',
  minorVersion: 'minv',
  revision: 'revv',
  maxNetworkRules: 'mr',
  maxCapabilities: 'mc',
  maxCapabilityRules: 'mcr',
  maxTags: 'mt',
  flags: 'f',
  rulesEngineRevision: 'revr',
  osArch: 'o',
  auth: 'a',
} as const;
/**
 * Keys of the network configuration dictionary, in the order 1.14 writes them
 * (docs/protocol/07-network-config-controller.md §3).
 */
export const NetconfKey = {
  version: 'v',
  networkId: 'nwid',
  timestamp: 'ts',
  credentialTimeMaxDelta: 'ctmd',
  revision: 'r',
  issuedTo: 'id',
  remoteTraceTarget: 'tt',
  remoteTraceLevel: 'tl',
  flags: 'f',
  multicastLimit: 'ml',
  type: 't',
  name: 'n',
  mtu: 'mtu',
  com: 'C',
  capabilities: 'CAP',
  tags: 'TAG',
  certificatesOfOwnership: 'COO',
  specialists: 'S',
  routes: 'RT',
  staticIps: 'I',
  rules: 'R',
  dns: 'DNS',
  ssoVersion: 'ssov',
  ssoEnabled: 'ssoe',
  authenticationUrl: 'aurl',
  authenticationExpiryTime: 'aexpt',
  issuerUrl: 'iurl',
  centralEndpointUrl: 'ssoce',
  nonce: 'sson',
  state: 'ssos',
  clientId: 'ssocid',
  ssoProvider: 'ssop',
} as const;
/**
 * Keys of the ERROR(NETWORK_AUTHENTICATION_REQUIRED) auth-info dictionary
 * (docs/protocol/07-network-config-controller.md §8).
 */
export const AuthInfoKey = {
  version: 'aV',
  authenticationUrl: 'aU',
  issuerUrl: 'iU',
  centralEndpointUrl: 'aCU',
  nonce: 'aN',
  state: 'aS',
  clientId: 'aCID',
  ssoProvider: 'aSSOp',
} as const;
/** Network config flag bits, key `f` (docs/protocol/07-network-config-controller.md §3). */
export const NetconfFlag = {
  enableBroadcast: 0x02n,
  ipv6NdpEmulation: 0x04n,
  rulesResultOfUnsupportedMatch: 0x08n,
  disableCompression: 0x10n,
} as const;
/** Network types, key `t` (docs/protocol/07-network-config-controller.md §3). */
export const NetworkType = { private: 0, public: 1 } as const;
/**
 * Specialist flags in the high bits of each u64 of key `S`; the low 40 bits are the address
 * (docs/protocol/07-network-config-controller.md §3).
 */
export const SpecialistFlag = {
  activeBridge: 0x0000_0200_0000_0000n,
  anchor: 0x0000_0400_0000_0000n,
  multicastReplicator: 0x0000_0800_0000_0000n,
} as const;
/** Virtual network MTU: ZT_DEFAULT_MTU, ZT_MIN_MTU (members clamp up to it), ZT_MAX_MTU, bytes. */
export const DEFAULT_VIRTUAL_MTU = 2800;
export const MIN_VIRTUAL_MTU = 1280;
export const MAX_VIRTUAL_MTU = 10000;
/**
 * ZT_NETWORKCONFIG_DEFAULT_CREDENTIAL_TIME_DFL_MAX_DELTA, milliseconds
 * (docs/protocol/07-network-config-controller.md §3).
 */
export const DEFAULT_CREDENTIAL_TIME_MAX_DELTA_MS = 30 * 60 * 1000;
/** Per-config limits 1.14 members apply when parsing (include/ZeroTierOne.h, 11-constants.md). */
export const MAX_NETWORK_RULES = 1024;
export const MAX_NETWORK_CAPABILITIES = 128;
export const MAX_NETWORK_TAGS = 128;
export const MAX_CERTIFICATES_OF_OWNERSHIP = 4;
export const MAX_ZT_ASSIGNED_ADDRESSES = 32;
export const MAX_NETWORK_ROUTES = 128;
export const MAX_NETWORK_SPECIALISTS = 256;
export const MAX_DNS_SERVERS = 4;
/** The DNS blob's NUL-padded search-domain field, bytes (07-network-config-controller.md §3). */
export const DNS_DOMAIN_LENGTH = 128;
/** Buffer 1.14 reads the network name into (sizeof name), bytes incl. the NUL: names are at most 127 bytes. */
export const NETWORK_NAME_BUFFER_LENGTH = 128;
