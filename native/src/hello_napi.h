// The JavaScript entry points of the known-peer HELLO fast path (hello_fast.h): making its table,
// filling it, and answering one datagram outside the ring (tests, fuzzing); batch_udp.c attaches
// the table to its sockets (helloAttach) and exports these with hello_define. Header only, like
// napi_util.h.

#ifndef ZTROOT_HELLO_NAPI_H
#define ZTROOT_HELLO_NAPI_H

#include <node_api.h>

#include "batch_ring.h"
#include "hello_fast.h"
#include "napi_util.h"

/** helloAnswer's source only: the receiving socket's index, after the ring record's own fields. */
#define HELLO_SOURCE_SOCKET 30

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
 * The fast path on one datagram outside the ring (tests, fuzzing). source: a ring metadata record
 * (batch_ring.h) with the socket index at HELLO_SOURCE_SOCKET;
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
  if (!t || !d || !source || source_len < META_BYTES || (source[META_FAMILY] != 4 && source[META_FAMILY] != 6) || !hello_number(env, argv[3], &now) ||
      (id_type != napi_null && id_type != napi_undefined && (!id || id_len != PACKET_ID_LENGTH)) || !reply || reply_len < OK_HELLO_MAX_LENGTH ||
      !record || record_len < HELLO_RECORD_BYTES) {
    return throw_type(env, "helloAnswer(table, datagram, source, nowMs, packetId, reply, record): bad arguments");
  }
  hello_source from = {.family = source[META_FAMILY], .ip = source + META_IP};
  memcpy(&from.port, source + META_PORT, 2);
  memcpy(&from.socket, source + HELLO_SOURCE_SOCKET, 2);
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
