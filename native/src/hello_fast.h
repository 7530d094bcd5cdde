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
// Header only, like napi_util.h: batch_udp.c includes it. The layout constants are mirrored in
// src/node/native-hello.ts (checked at load).

#ifndef ZTROOT_HELLO_FAST_H
#define ZTROOT_HELLO_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <node_api.h>

#include "napi_util.h"
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

// ------------------------------------------------------------------------------------------------
// JavaScript entry points (the table; batch_udp.c attaches it to sockets)
// ------------------------------------------------------------------------------------------------

static void hello_table_finalize(napi_env env, void *data, void *hint) {
  hello_table *t = data;
  if (t->state_ref) napi_delete_reference(env, t->state_ref);
  free(t->peers);
  free(t);
}

/** The table behind a handle made by helloTable, or NULL. */
static inline hello_table *hello_table_of(napi_env env, napi_value v) {
  napi_valuetype type;
  void *t = NULL;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_get_value_external(env, v, &t) != napi_ok) return NULL;
  return t;
}

/** The bytes of a Uint8Array or ArrayBuffer argument, or NULL. */
static inline uint8_t *hello_bytes(napi_env env, napi_value v, size_t *len) {
  bool is_typed = false, is_buffer = false;
  void *data = NULL;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is_typed) == napi_ok && is_typed) {
    static uint8_t no_bytes[1]; // an empty array may have no data pointer; nothing is ever written here
    if (napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return NULL;
    return data != NULL ? data : *len == 0 ? no_bytes : NULL;
  }
  if (napi_is_arraybuffer(env, v, &is_buffer) == napi_ok && is_buffer && napi_get_arraybuffer_info(env, v, &data, len) == napi_ok) return data;
  return NULL;
}

static inline bool hello_number(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

/**
 * helloTable(address, ownVersion5, spacingMs, buckets, state) -> handle
 *   address: ours (a number); ownVersion5: protocol, major, minor, revision (u16 big-endian);
 *   buckets: a power of two (HELLO_WAYS entries each); state: ArrayBuffer of HELLO_COUNTERS doubles.
 */
static napi_value js_hello_table(napi_env env, napi_callback_info info) {
  size_t argc = 5, len = 0, state_len = 0;
  napi_value argv[5];
  double address, spacing, buckets;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return throw_type(env, "helloTable: 5 arguments");
  uint8_t *version = hello_bytes(env, argv[1], &len), *state = hello_bytes(env, argv[4], &state_len);
  if (!hello_number(env, argv[0], &address) || !version || len != 5 || !hello_number(env, argv[2], &spacing) || !hello_number(env, argv[3], &buckets) ||
      buckets < 1 || buckets > (1 << 24) || ((uint32_t)buckets & ((uint32_t)buckets - 1)) != 0 || !state || state_len < HELLO_COUNTERS * sizeof(double)) {
    return throw_type(env, "helloTable(address, version, spacingMs, buckets, state): bad arguments");
  }
  hello_table *t = calloc(1, sizeof *t);
  if (t) t->peers = calloc((size_t)buckets * HELLO_WAYS, sizeof(hello_peer)); // pages are touched only as peers arrive
  if (!t || !t->peers) {
    free(t);
    return throw_error(env, "ENOMEM", "out of memory");
  }
  t->address = (uint64_t)address;
  memcpy(t->own_version, version, 5);
  t->spacing_ms = (int64_t)spacing;
  t->buckets = (uint32_t)buckets;
  t->counters = (double *)state;
  t->ids_used = sizeof t->ids; // the first ID refills the pool
  napi_create_reference(env, argv[4], 1, &t->state_ref);
  napi_value handle;
  if (napi_create_external(env, t, hello_table_finalize, NULL, &handle) != napi_ok) {
    hello_table_finalize(env, t, NULL);
    return NULL;
  }
  return handle;
}

/**
 * helloWorlds(table, worlds): the worlds we serve, as
 *   u8 hasPlanet, u64 planet id, u64 planet timestamp, u16 moon count, then (u64 id, u64 timestamp) per moon
 * (big-endian; more than HELLO_MAX_MOONS moons: only the count).
 */
static napi_value js_hello_worlds(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "helloWorlds: 2 arguments");
  hello_table *t = hello_table_of(env, argv[0]);
  uint8_t *w = hello_bytes(env, argv[1], &len);
  if (!t || !w || len < 19) return throw_type(env, "helloWorlds(table, worlds): bad arguments");
  uint32_t moons = (uint32_t)load_be(w + 17, 2);
  if (moons <= HELLO_MAX_MOONS && len < 19 + (size_t)moons * 16) return throw_type(env, "helloWorlds: moon list cut short");
  t->has_planet = w[0] != 0;
  t->planet_id = load_be(w + 1, 8);
  t->planet_timestamp = load_be(w + 9, 8);
  t->moon_count = moons;
  for (uint32_t i = 0; i < moons && i < HELLO_MAX_MOONS; i++) {
    t->moon_id[i] = load_be(w + 19 + 16 * i, 8);
    t->moon_timestamp[i] = load_be(w + 27 + 16 * i, 8);
  }
  return NULL;
}

static napi_value hello_boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

/**
 * helloRegister(table, entry, lastReplyMs) -> whether the peer is in the table now
 *   entry: address (5), key (32: the first 32 bytes of the shared key), public key (64), version (5).
 * A peer already there is updated; a new one takes a free entry of its bucket, or the one
 * answered longest ago if that was before the reply spacing (so no spacing is forgotten), else
 * it stays with JavaScript.
 */
static napi_value js_hello_register(napi_env env, napi_callback_info info) {
  size_t argc = 3, len = 0;
  napi_value argv[3];
  double last_reply;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_type(env, "helloRegister: 3 arguments");
  hello_table *t = hello_table_of(env, argv[0]);
  uint8_t *e = hello_bytes(env, argv[1], &len);
  if (!t || !e || len != HELLO_REGISTER_BYTES || !hello_number(env, argv[2], &last_reply)) return throw_type(env, "helloRegister(table, entry, lastReplyMs): bad arguments");
  uint64_t address = load_be(e, ADDRESS_LENGTH);
  if (address == 0) return hello_boolean(env, false);
  int64_t last = last_reply < -1e15 ? INT64_MIN / 2 : (int64_t)last_reply;
  hello_peer *peer = hello_find(t, address);
  if (!peer) {
    hello_peer *b = hello_bucket(t, address);
    int64_t now = hello_now_ms();
    for (int i = 0; i < HELLO_WAYS && !peer; i++) if (b[i].address == 0) peer = &b[i];
    if (!peer) {
      for (int i = 0; i < HELLO_WAYS; i++) {
        if (now - b[i].last_reply_ms >= t->spacing_ms && (!peer || b[i].last_reply_ms < peer->last_reply_ms)) peer = &b[i];
      }
    }
    if (!peer) return hello_boolean(env, false);
    memset(peer, 0, sizeof *peer);
    peer->address = address;
    peer->reported_sec = -1;
  }
  memcpy(peer->key, e + ADDRESS_LENGTH, SALSA_KEY_LENGTH);
  memcpy(peer->public_key, e + ADDRESS_LENGTH + SALSA_KEY_LENGTH, PUBLIC_KEY_LENGTH);
  memcpy(peer->version, e + ADDRESS_LENGTH + SALSA_KEY_LENGTH + PUBLIC_KEY_LENGTH, 5);
  if (last > peer->last_reply_ms) peer->last_reply_ms = last;
  return hello_boolean(env, true);
}

/** helloForget(table, address): the peer goes back to JavaScript. */
static napi_value js_hello_forget(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  double address;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "helloForget: 2 arguments");
  hello_table *t = hello_table_of(env, argv[0]);
  if (!t || !hello_number(env, argv[1], &address)) return throw_type(env, "helloForget(table, address): bad arguments");
  hello_peer *peer = hello_find(t, (uint64_t)address);
  if (peer) memset(peer, 0, sizeof *peer);
  return NULL;
}

/** helloLastReply(table, address) -> when the fast path last answered this peer (ms), or undefined. */
static napi_value js_hello_last_reply(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out = NULL;
  double address;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "helloLastReply: 2 arguments");
  hello_table *t = hello_table_of(env, argv[0]);
  if (!t || !hello_number(env, argv[1], &address)) return throw_type(env, "helloLastReply(table, address): bad arguments");
  hello_peer *peer = hello_find(t, (uint64_t)address);
  if (peer && peer->last_reply_ms > INT64_MIN / 2) napi_create_double(env, (double)peer->last_reply_ms, &out);
  return out;
}

/**
 * helloAnswer(table, datagram, source, nowMs, packetId, reply, record) -> 0 fallback, 1 answered, 2 rate-limited
 * The fast path on one datagram outside the ring (tests, fuzzing). source: ring metadata layout
 * of batch_udp.c (32 bytes: port u16 at 4, family at 6, IP at 8) with the socket index at 30;
 * packetId: 8 bytes or null (random); reply: ≥ OK_HELLO_MAX_LENGTH bytes, record: HELLO_RECORD_BYTES.
 * The datagram is dearmored in place, as in the ring. Returns [outcome, replyLength, booked].
 */
static napi_value js_hello_answer(napi_env env, napi_callback_info info) {
  size_t argc = 7, len = 0, source_len = 0, id_len = 0, reply_len = 0, record_len = 0;
  napi_value argv[7];
  double now;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) return throw_type(env, "helloAnswer: 7 arguments");
  hello_table *t = hello_table_of(env, argv[0]);
  uint8_t *d = hello_bytes(env, argv[1], &len), *source = hello_bytes(env, argv[2], &source_len);
  napi_valuetype id_type;
  uint8_t *id = NULL;
  if (napi_typeof(env, argv[4], &id_type) == napi_ok && id_type != napi_null && id_type != napi_undefined) id = hello_bytes(env, argv[4], &id_len);
  uint8_t *reply = hello_bytes(env, argv[5], &reply_len), *record = hello_bytes(env, argv[6], &record_len);
  if (!t || !d || !source || source_len < 32 || (source[6] != 4 && source[6] != 6) || !hello_number(env, argv[3], &now) ||
      (id_type != napi_null && id_type != napi_undefined && (!id || id_len != PACKET_ID_LENGTH)) || !reply || reply_len < OK_HELLO_MAX_LENGTH ||
      !record || record_len < HELLO_RECORD_BYTES) {
    return throw_type(env, "helloAnswer(table, datagram, source, nowMs, packetId, reply, record): bad arguments");
  }
  hello_source from = {.family = source[6], .ip = source + 8};
  memcpy(&from.port, source + 4, 2);
  memcpy(&from.socket, source + 30, 2);
  size_t out_len = 0;
  bool booked = false;
  hello_outcome outcome = hello_answer(t, d, len, &from, (int64_t)now, id, reply, &out_len, record, &booked);
  napi_value result, v;
  napi_create_array_with_length(env, 3, &result);
  napi_create_uint32(env, (uint32_t)outcome, &v);
  napi_set_element(env, result, 0, v);
  napi_create_uint32(env, (uint32_t)out_len, &v);
  napi_set_element(env, result, 1, v);
  napi_get_boolean(env, booked, &v);
  napi_set_element(env, result, 2, v);
  return result;
}

static inline void hello_define(napi_env env, napi_value exports) {
  define(env, exports, "helloTable", js_hello_table);
  define(env, exports, "helloWorlds", js_hello_worlds);
  define(env, exports, "helloRegister", js_hello_register);
  define(env, exports, "helloForget", js_hello_forget);
  define(env, exports, "helloLastReply", js_hello_last_reply);
  define(env, exports, "helloAnswer", js_hello_answer);
  define_uint32(env, exports, "helloRecordBytes", HELLO_RECORD_BYTES);
  define_uint32(env, exports, "helloCounters", HELLO_COUNTERS);
  define_uint32(env, exports, "helloWays", HELLO_WAYS);
  define_uint32(env, exports, "okHelloMaxLength", OK_HELLO_MAX_LENGTH);
}

#endif
