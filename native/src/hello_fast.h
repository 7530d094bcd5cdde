// The known-peer HELLO fast path of the batch UDP addon (docs/protocol/04-verbs.md §4,
// docs/protocol/08-root-behaviour.md §3.3). A root spends most of its time answering HELLOs from
// leaves it already knows; here they are answered straight from the receive ring, without
// entering JavaScript: recognise the HELLO, find the sender in a table of known peers (filled by
// JavaScript after it answered the peer once), check the identity bytes and the MAC, decode what
// the answer needs, and queue OK(HELLO) armored with Salsa20/12 + Poly1305 on the send ring.
//
// Anything this cannot settle is left to JavaScript (src/node/hello-intake.ts), untouched:
// unknown peer, another identity, bad MAC, malformed payload, relayed or fragmented HELLO, or a
// planet/moon the sender holds an older copy of (its answer carries the world). JavaScript still
// books what the fast path did: a record per peer at most once a second, or when its path or
// version changed (peer alive, path learned, version); the counts are in the table's counters.
//
// Header only, like napi_util.h: batch_udp.c includes it, and hello_napi.h, its JavaScript entry
// points. The layout constants are mirrored in src/node/native-hello.ts (checked at load).

#ifndef ZTROOT_HELLO_FAST_H
#define ZTROOT_HELLO_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <node_api.h> // napi_ref: the table keeps its counters' buffer alive

#include "salsa_poly.h"

// Packet header (docs/protocol/03-packet.md §2) beyond salsa_poly.h's.
#define DESTINATION_OFFSET 8
#define SOURCE_OFFSET 13
#define ADDRESS_LENGTH 5
#define FRAGMENT_INDICATOR_OFFSET 13 // 0xff here: a fragment, not a packet head
#define FRAGMENT_INDICATOR 0xff
#define PAYLOAD_OFFSET 28
#define FLAG_ENCRYPTED 0x80          // the legacy flag, set iff cipher 1
#define FLAG_FRAGMENTED 0x40
#define CIPHER_MASK 0x38
#define CIPHER_SHIFT 3
#define CIPHER_POLY1305_NONE 0
#define CIPHER_POLY1305_SALSA2012 1
#define VERB_MASK 0x1f
#define VERB_COMPRESSED 0x80
#define VERB_HELLO 0x01
#define VERB_OK 0x03

// HELLO payload (docs/protocol/04-verbs.md §4).
#define PROTO_VERSION_MIN 4          // ZT_PROTO_VERSION_MIN
#define HELLO_TIMESTAMP_OFFSET 5
#define HELLO_IDENTITY_OFFSET 13
#define IDENTITY_LENGTH 71           // address, type 0, public key, private key length 0
#define IDENTITY_TYPE_OFFSET 5
#define PUBLIC_KEY_OFFSET 6
#define PUBLIC_KEY_LENGTH 64
#define PRIVATE_LENGTH_OFFSET 70
#define IDENTITY_TYPE_C25519 0
#define INET_NONE 0
#define INET_IPV4 4
#define INET_IPV6 6
#define PLANET_FIELDS_LENGTH 16
#define MOON_WORLD_TYPE 127
#define MOON_ENTRY_LENGTH 17
/** Below this protocol version OK(HELLO) reports the external address with port 0 (1.14 does). */
#define EXTERNAL_PORT_MIN_PROTOCOL 5

// OK(HELLO): header, in-re verb and packet ID, timestamp, versions, address (≤ 19), worlds length.
#define OK_HELLO_MAX_LENGTH (PAYLOAD_OFFSET + 1 + 8 + 8 + 5 + 19 + 2)

// Table geometry.
#define HELLO_WAYS 4            // entries per bucket: a new peer takes the one answered longest ago
#define HELLO_MAX_MOONS 16      // moons of ours the fast path compares (more: HELLOs that list a moon go to JavaScript)
#define HELLO_MAX_MOON_REGION (SALSA_BLOCK_BYTES * LANES) // the cryptField region decoded here, bytes
#define HELLO_REGISTER_BYTES (ADDRESS_LENGTH + SALSA_KEY_LENGTH + PUBLIC_KEY_LENGTH + 5)
#define HELLO_WORLDS_MAX_BYTES (1 + 16 + 2 + HELLO_MAX_MOONS * 16)

// A booking record for JavaScript (little-endian, HELLO_RECORD_BYTES each).
#define HELLO_RECORD_BYTES 40
#define RECORD_ADDRESS 0   // 5 bytes, as on the wire
#define RECORD_FLAGS 5     // RECORD_ANSWERED, RECORD_RATE_LIMITED
#define RECORD_FAMILY 6    // 4 or 6
#define RECORD_SOCKET 8    // u16: the socket's index in the transport
#define RECORD_PORT 10     // u16
#define RECORD_VERSION 12  // protocol, major, minor, revision (u16 big-endian as in the HELLO)
#define RECORD_IP 20       // 4 or 16 bytes, network order
#define RECORD_ANSWERED 1
#define RECORD_RATE_LIMITED 2

// Counters (doubles) in the table's state buffer, read by JavaScript.
enum {
  HELLO_COUNT_HELLOS,       // HELLOs settled here (answered or rate-limited)
  HELLO_COUNT_ANSWERED,     // OK(HELLO)s queued
  HELLO_COUNT_RATE_LIMITED, // HELLOs within the reply spacing: not answered
  HELLO_COUNT_BYTES_IN,     // bytes of the HELLOs settled here
  HELLO_COUNT_BYTES_OUT,    // bytes of the OK(HELLO)s queued
  HELLO_COUNT_LEFT,         // datagrams left to JavaScript (anything but a settled known-peer HELLO)
  HELLO_COUNTERS
};

/** What the fast path did with one datagram. */
typedef enum { HELLO_FALLBACK = 0, HELLO_ANSWERED = 1, HELLO_RATE_LIMITED = 2 } hello_outcome;

/** Where a datagram came from, as the receive ring's metadata gives it. */
typedef struct {
  uint8_t family; // 4 or 6
  uint16_t port;
  const uint8_t *ip; // 4 or 16 bytes, network order
  uint16_t socket;   // index of the receiving socket in the transport
} hello_source;

typedef struct {
  uint64_t address; // 0: a free entry (address 0 is reserved, never a peer's)
  int64_t last_reply_ms;
  int64_t reported_sec; // the second of the last booking record
  uint8_t key[SALSA_KEY_LENGTH];
  uint8_t public_key[PUBLIC_KEY_LENGTH];
  uint8_t version[5]; // as last booked: protocol, major, minor, revision (2 bytes, big-endian)
  uint8_t family;     // the path last booked
  uint16_t port, socket;
  uint8_t ip[16];
} hello_peer;

typedef struct {
  uint64_t address; // ours
  uint8_t own_version[5];
  int64_t spacing_ms;
  bool has_planet;
  uint64_t planet_id, planet_timestamp;
  uint32_t moon_count; // > HELLO_MAX_MOONS: too many to compare here
  uint64_t moon_id[HELLO_MAX_MOONS], moon_timestamp[HELLO_MAX_MOONS];
  uint32_t buckets; // a power of two
  hello_peer *peers;
  double *counters;
  napi_ref state_ref;
  uint8_t ids[4096]; // a pool of random packet IDs, refilled when used up
  uint32_t ids_used;
} hello_table;

static inline uint64_t load_be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

static inline void store_be(uint8_t *p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static inline int64_t hello_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline hello_peer *hello_bucket(hello_table *t, uint64_t address) {
  uint64_t h = address * UINT64_C(0x9e3779b97f4a7c15);
  return t->peers + (size_t)((h >> 32) & (t->buckets - 1)) * HELLO_WAYS;
}

static inline hello_peer *hello_find(hello_table *t, uint64_t address) {
  hello_peer *b = hello_bucket(t, address);
  for (int i = 0; i < HELLO_WAYS; i++) if (b[i].address == address) return &b[i];
  return NULL;
}

/** A fresh random packet ID (from a pool refilled by getrandom; a failed refill reuses the old pool XORed with the clock). */
static inline void hello_packet_id(hello_table *t, uint8_t out[PACKET_ID_LENGTH]) {
  if (t->ids_used + PACKET_ID_LENGTH > sizeof t->ids) {
    if (getrandom(t->ids, sizeof t->ids, 0) != (ssize_t)sizeof t->ids) {
      uint64_t salt = (uint64_t)hello_now_ms() * UINT64_C(0x9e3779b97f4a7c15);
      for (size_t i = 0; i < sizeof t->ids; i++) t->ids[i] ^= (uint8_t)(salt >> (8 * (i % 8))) ^ (uint8_t)i;
    }
    t->ids_used = 0;
  }
  memcpy(out, t->ids + t->ids_used, PACKET_ID_LENGTH);
  t->ids_used += PACKET_ID_LENGTH;
}

/** Whether our copy of a world the sender named is newer: then its answer carries the world, and JavaScript writes it. */
static inline bool hello_needs_planet(const hello_table *t, uint64_t id, uint64_t timestamp) {
  return t->has_planet && id == t->planet_id && timestamp < t->planet_timestamp;
}

static inline bool hello_needs_moon(const hello_table *t, uint64_t id, uint64_t timestamp) {
  if (t->moon_count > HELLO_MAX_MOONS) return true; // more moons than kept here: JavaScript compares
  for (uint32_t i = 0; i < t->moon_count; i++) if (t->moon_id[i] == id && timestamp < t->moon_timestamp[i]) return true;
  return false;
}

/**
 * The fields after the identity, read as decodeHello reads them (src/wire/verbs/hello.ts):
 * false when the payload is malformed, names a world that needs sending, or holds something
 * this does not decode (an address of another type, a long moon list): JavaScript decides then.
 */
static inline bool hello_tail_settles(hello_table *t, const uint8_t *packet, const hello_peer *peer, size_t len) {
  const uint8_t *p = packet + PAYLOAD_OFFSET;
  size_t n = len - PAYLOAD_OFFSET, r = HELLO_IDENTITY_OFFSET + IDENTITY_LENGTH;
  if (r == n) return true;
  uint8_t type = p[r++];
  if (type == INET_IPV4) r += 4 + 2;
  else if (type == INET_IPV6) r += 16 + 2;
  else if (type != INET_NONE) return false;
  if (r > n) return false;
  if (n - r < PLANET_FIELDS_LENGTH) return true;
  if (hello_needs_planet(t, load_be(p + r, 8), load_be(p + r + 8, 8))) return false;
  r += PLANET_FIELDS_LENGTH;
  size_t region = n - r;
  if (region < 2) return true;
  if (region > HELLO_MAX_MOON_REGION) return false;
  // the moon list is obscured with cryptField (docs/protocol/04-verbs.md §4): Salsa20/12 under the
  // peer key, the packet ID with its low three bits cleared as nonce
  uint8_t nonce[PACKET_ID_LENGTH], plain[HELLO_MAX_MOON_REGION];
  uint32_t input[16], ks[16 * LANES];
  memcpy(nonce, packet + PACKET_ID_OFFSET, PACKET_ID_LENGTH);
  nonce[7] &= 0xf8;
  salsa_setup(input, peer->key, nonce);
  salsa_keystream(input, 0, ks);
  for (size_t i = 0; i < region; i++) plain[i] = p[r + i] ^ ((const uint8_t *)ks)[i];
  size_t m = 2;
  uint32_t count = (uint32_t)load_be(plain, 2);
  for (uint32_t i = 0; i < count; i++) {
    if (m >= region) return false;
    uint8_t world_type = plain[m++];
    if (world_type == MOON_WORLD_TYPE) {
      if (region - m < 16) return false;
      if (hello_needs_moon(t, load_be(plain + m, 8), load_be(plain + m + 8, 8))) return false;
      m += 16;
    } else {
      m = m + MOON_ENTRY_LENGTH - 1 < region ? m + MOON_ENTRY_LENGTH - 1 : region; // skipped, as 1.14 does
    }
  }
  return true;
}

/** OK(HELLO) for a HELLO, armored (cipher 1) into out; returns its length. */
static inline size_t hello_write_ok(hello_table *t, const hello_peer *peer, const uint8_t *hello, const hello_source *from,
                                    const uint8_t *fixed_id, uint8_t out[OK_HELLO_MAX_LENGTH]) {
  if (fixed_id) memcpy(out, fixed_id, PACKET_ID_LENGTH);
  else hello_packet_id(t, out);
  memcpy(out + DESTINATION_OFFSET, hello + SOURCE_OFFSET, ADDRESS_LENGTH);
  store_be(out + SOURCE_OFFSET, t->address, ADDRESS_LENGTH);
  out[FLAGS_OFFSET] = 0;
  out[VERB_OFFSET] = VERB_OK;
  uint8_t *w = out + PAYLOAD_OFFSET;
  *w++ = VERB_HELLO;
  memcpy(w, hello + PACKET_ID_OFFSET, PACKET_ID_LENGTH);
  w += PACKET_ID_LENGTH;
  memcpy(w, hello + PAYLOAD_OFFSET + HELLO_TIMESTAMP_OFFSET, 8);
  w += 8;
  memcpy(w, t->own_version, 5);
  w += 5;
  uint16_t port = hello[PAYLOAD_OFFSET] < EXTERNAL_PORT_MIN_PROTOCOL ? 0 : from->port;
  int ip_len = from->family == 4 ? 4 : 16;
  *w++ = from->family == 4 ? INET_IPV4 : INET_IPV6;
  memcpy(w, from->ip, ip_len);
  w += ip_len;
  store_be(w, port, 2);
  w += 2;
  store_be(w, 0, 2); // no worlds: a HELLO that needs one is answered by JavaScript
  w += 2;
  size_t len = (size_t)(w - out);
  out[FLAGS_OFFSET] = (CIPHER_POLY1305_SALSA2012 << CIPHER_SHIFT) | FLAG_ENCRYPTED;
  salsa_poly_packet(out, len, peer->key, true, true);
  return len;
}

/** Fill a booking record when this peer's second, path or version changed since the last one; returns whether it did. */
static inline bool hello_book(hello_peer *peer, const uint8_t *hello, const hello_source *from, int64_t now_ms, hello_outcome outcome,
                              uint8_t record[HELLO_RECORD_BYTES]) {
  const uint8_t *version = hello + PAYLOAD_OFFSET;
  int ip_len = from->family == 4 ? 4 : 16;
  int64_t sec = now_ms / 1000;
  bool same = peer->reported_sec == sec && peer->family == from->family && peer->port == from->port && peer->socket == from->socket &&
              memcmp(peer->ip, from->ip, ip_len) == 0 && memcmp(peer->version, version, 5) == 0;
  if (same) return false;
  peer->reported_sec = sec;
  peer->family = from->family;
  peer->port = from->port;
  peer->socket = from->socket;
  memset(peer->ip, 0, sizeof peer->ip);
  memcpy(peer->ip, from->ip, ip_len);
  memcpy(peer->version, version, 5);
  memset(record, 0, HELLO_RECORD_BYTES);
  store_be(record + RECORD_ADDRESS, peer->address, ADDRESS_LENGTH);
  record[RECORD_FLAGS] = outcome == HELLO_ANSWERED ? RECORD_ANSWERED : RECORD_RATE_LIMITED;
  record[RECORD_FAMILY] = from->family;
  memcpy(record + RECORD_SOCKET, &from->socket, 2);
  memcpy(record + RECORD_PORT, &from->port, 2);
  memcpy(record + RECORD_VERSION, version, 5);
  memcpy(record + RECORD_IP, from->ip, ip_len);
  return true;
}

/**
 * One datagram: HELLO_FALLBACK (nothing done, nothing counted: JavaScript takes it as it is), or
 * HELLO_ANSWERED (OK(HELLO) in `reply`, *reply_len set) or HELLO_RATE_LIMITED. *booked tells
 * whether `record` was filled. `fixed_id` (tests) replaces the random packet ID.
 */
static inline hello_outcome hello_answer(hello_table *t, uint8_t *d, size_t len, const hello_source *from, int64_t now_ms, const uint8_t *fixed_id,
                                         uint8_t reply[OK_HELLO_MAX_LENGTH], size_t *reply_len, uint8_t record[HELLO_RECORD_BYTES], bool *booked) {
  *booked = false;
  *reply_len = 0;
  if (len < PAYLOAD_OFFSET + HELLO_IDENTITY_OFFSET + IDENTITY_LENGTH || len > MAX_PACKET_LENGTH) return HELLO_FALLBACK;
  if (d[FRAGMENT_INDICATOR_OFFSET] == FRAGMENT_INDICATOR) return HELLO_FALLBACK;
  uint8_t flags = d[FLAGS_OFFSET], verb = d[VERB_OFFSET];
  if ((flags & (FLAG_ENCRYPTED | FLAG_FRAGMENTED | HOPS_MASK)) != 0 || ((flags & CIPHER_MASK) >> CIPHER_SHIFT) != CIPHER_POLY1305_NONE) return HELLO_FALLBACK;
  if ((verb & (VERB_MASK | VERB_COMPRESSED)) != VERB_HELLO) return HELLO_FALLBACK;
  if (load_be(d + DESTINATION_OFFSET, ADDRESS_LENGTH) != t->address) return HELLO_FALLBACK;
  const uint8_t *payload = d + PAYLOAD_OFFSET, *identity = payload + HELLO_IDENTITY_OFFSET;
  if (payload[0] < PROTO_VERSION_MIN) return HELLO_FALLBACK;
  uint64_t source = load_be(d + SOURCE_OFFSET, ADDRESS_LENGTH);
  hello_peer *peer = hello_find(t, source);
  if (!peer || load_be(identity, ADDRESS_LENGTH) != source || identity[IDENTITY_TYPE_OFFSET] != IDENTITY_TYPE_C25519 ||
      identity[PRIVATE_LENGTH_OFFSET] != 0 || memcmp(identity + PUBLIC_KEY_OFFSET, peer->public_key, PUBLIC_KEY_LENGTH) != 0) {
    return HELLO_FALLBACK;
  }
  if (!salsa_poly_packet(d, len, peer->key, false, false)) return HELLO_FALLBACK; // JavaScript counts the bad MAC
  if (!hello_tail_settles(t, d, peer, len)) return HELLO_FALLBACK;
  hello_outcome outcome = HELLO_RATE_LIMITED;
  if (now_ms - peer->last_reply_ms >= t->spacing_ms) {
    peer->last_reply_ms = now_ms;
    *reply_len = hello_write_ok(t, peer, d, from, fixed_id, reply);
    outcome = HELLO_ANSWERED;
  }
  *booked = hello_book(peer, d, from, now_ms, outcome, record);
  t->counters[HELLO_COUNT_HELLOS]++;
  t->counters[HELLO_COUNT_BYTES_IN] += (double)len;
  if (outcome == HELLO_ANSWERED) {
    t->counters[HELLO_COUNT_ANSWERED]++;
    t->counters[HELLO_COUNT_BYTES_OUT] += (double)*reply_len;
  } else {
    t->counters[HELLO_COUNT_RATE_LIMITED]++;
  }
  return outcome;
}

#endif
