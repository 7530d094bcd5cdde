// Salsa20/12 and Poly1305 for packet armor (docs/protocol/03-packet.md §5), shared by the addons
// that armor packets: packet_crypto.c (armor/dearmor for src/wire/native-armor.ts) and
// batch_udp.c (the known-peer HELLO fast path, hello_fast.h). Header only, like napi_util.h, so
// each addon still compiles from its one .c file.
//   * the per-packet Salsa20/12 key (§5.1), Poly1305 with keystream block 0 as its key,
//     Salsa20/12 encryption from block 1 for cipher 1 (§5.2). Salsa20 computes four blocks at
//     once with GCC/Clang vector extensions (one block per 32-bit lane), Poly1305 uses
//     44/44/42-bit limbs (OpenSSL has no Salsa20, and its Poly1305 costs more to set up per
//     packet than it saves).

#ifndef ZTROOT_SALSA_POLY_H
#define ZTROOT_SALSA_POLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "salsa20_words.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "salsa_poly.h stores Salsa20 words natively and needs a little-endian host"
#endif

// Packet layout (docs/protocol/03-packet.md §2), bytes.
#define PACKET_ID_OFFSET 0
#define PACKET_ID_LENGTH 8
#define FLAGS_OFFSET 18
#define MAC_OFFSET 19
#define MAC_LENGTH 8
#define VERB_OFFSET 27
#define HOPS_MASK 0x07
#define MIN_PACKET_LENGTH 28     // ZT_PROTO_MIN_PACKET_LENGTH
#define MAX_PACKET_LENGTH 10024  // ZT_PROTO_MAX_PACKET_LENGTH
#define SALSA_KEY_LENGTH 32
#define SALSA_ROUNDS 12          // ZT_PROTO_SALSA20_ROUNDS
#define SALSA_BLOCK_BYTES 64
#define POLY1305_KEY_LENGTH 32

// ---- Salsa20/12, four blocks at a time ----

#define LANES 4
typedef uint32_t lanes_t __attribute__((vector_size(LANES * 4)));
#if defined(__clang__)
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (lanes_t){__VA_ARGS__})
#endif

static inline uint64_t load_le64(const uint8_t *p) { return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32); }
static inline void store_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/** Rows r[0..4) are words j..j+3 of four blocks (one per lane): write each block's four words. */
static inline __attribute__((always_inline)) void store_transposed(const lanes_t r[4], uint32_t *out) {
  lanes_t t0 = SHUFFLE(r[0], r[1], 0, 4, 1, 5);
  lanes_t t1 = SHUFFLE(r[0], r[1], 2, 6, 3, 7);
  lanes_t t2 = SHUFFLE(r[2], r[3], 0, 4, 1, 5);
  lanes_t t3 = SHUFFLE(r[2], r[3], 2, 6, 3, 7);
  lanes_t c[4] = {SHUFFLE(t0, t2, 0, 1, 4, 5), SHUFFLE(t0, t2, 2, 3, 6, 7), SHUFFLE(t1, t3, 0, 1, 4, 5), SHUFFLE(t1, t3, 2, 3, 6, 7)};
  for (int block = 0; block < 4; block++) memcpy(out + 16 * block, &c[block], sizeof(lanes_t));
}

/** Keystream blocks first .. first + LANES - 1 (first a multiple of LANES) into out, in order. */
static inline void salsa_keystream(const uint32_t input[16], uint64_t first, uint32_t out[16 * LANES]) {
  lanes_t in[16] = {0};
  for (int j = 0; j < 16; j++) in[j] += input[j];
  in[8] += (lanes_t){0, 1, 2, 3} + (uint32_t)first;
  in[9] += (uint32_t)(first >> 32);
  lanes_t x[16];
  memcpy(x, in, sizeof x);
  for (int r = 0; r < SALSA_ROUNDS; r += 2) {
    QUARTER(x[0], x[4], x[8], x[12]);
    QUARTER(x[5], x[9], x[13], x[1]);
    QUARTER(x[10], x[14], x[2], x[6]);
    QUARTER(x[15], x[3], x[7], x[11]);
    QUARTER(x[0], x[1], x[2], x[3]);
    QUARTER(x[5], x[6], x[7], x[4]);
    QUARTER(x[10], x[11], x[8], x[9]);
    QUARTER(x[15], x[12], x[13], x[14]);
  }
  for (int j = 0; j < 16; j++) x[j] += in[j];
  for (int j = 0; j < 16; j += 4) store_transposed(x + j, out + j);
}

/**
 * Start the per-packet stream: poly_key = keystream bytes 0..32 (block 0 is then used up,
 * docs/protocol/02-crypto.md §4); when crypt, XOR data[0..len) with the keystream from block 1.
 */
static inline void salsa_packet(const uint32_t input[16], uint8_t poly_key[POLY1305_KEY_LENGTH], uint8_t *data, size_t len, bool crypt) {
  uint32_t ks[16 * LANES];
  salsa_keystream(input, 0, ks);
  memcpy(poly_key, ks, POLY1305_KEY_LENGTH);
  if (!crypt) return;
  const uint8_t *k = (const uint8_t *)ks + SALSA_BLOCK_BYTES;
  size_t avail = SALSA_BLOCK_BYTES * (LANES - 1);
  uint64_t block = 0;
  for (;;) {
    size_t n = len < avail ? len : avail;
    for (size_t i = 0; i < n; i++) data[i] ^= k[i];
    data += n;
    len -= n;
    if (len == 0) return;
    block += LANES;
    salsa_keystream(input, block, ks);
    k = (const uint8_t *)ks;
    avail = SALSA_BLOCK_BYTES * LANES;
  }
}

/** The per-packet Salsa20 key of docs/protocol/03-packet.md §5.1. */
static inline void mangle_key(const uint8_t key[SALSA_KEY_LENGTH], const uint8_t *p, size_t len, uint8_t out[SALSA_KEY_LENGTH]) {
  for (int i = 0; i < FLAGS_OFFSET; i++) out[i] = key[i] ^ p[i];
  out[FLAGS_OFFSET] = key[FLAGS_OFFSET] ^ (p[FLAGS_OFFSET] & (uint8_t)~HOPS_MASK);
  out[19] = key[19] ^ (uint8_t)(len & 0xff);
  out[20] = key[20] ^ (uint8_t)(len >> 8);
  for (int i = 21; i < SALSA_KEY_LENGTH; i++) out[i] = key[i];
}

// ---- Poly1305 (RFC 8439 §2.5), h and r in limbs of 44, 44 and 42 bits ----

#define MASK44 ((UINT64_C(1) << 44) - 1)
#define MASK42 ((UINT64_C(1) << 42) - 1)
typedef unsigned __int128 u128;

static inline void poly1305(const uint8_t key[POLY1305_KEY_LENGTH], const uint8_t *m, size_t len, uint8_t tag[16]) {
  uint64_t t0 = load_le64(key), t1 = load_le64(key + 8);
  // r clamped (RFC 8439: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff), split into limbs
  const uint64_t r0 = t0 & UINT64_C(0xffc0fffffff);
  const uint64_t r1 = ((t0 >> 44) | (t1 << 20)) & UINT64_C(0xfffffc0ffff);
  const uint64_t r2 = (t1 >> 24) & UINT64_C(0x00ffffffc0f);
  // 2^130 = 5 (mod p): a product landing at 2^132 folds back as 4 * 5 = 20
  const uint64_t s1 = r1 * 20, s2 = r2 * 20;
  uint64_t h0 = 0, h1 = 0, h2 = 0;
  uint8_t last[16];
  while (len > 0) {
    const uint8_t *b = m;
    uint64_t high_bit = UINT64_C(1) << 40; // 2^128 in limb 2
    if (len < 16) {
      memset(last, 0, sizeof last);
      memcpy(last, m, len);
      last[len] = 1;
      b = last;
      high_bit = 0;
    }
    t0 = load_le64(b);
    t1 = load_le64(b + 8);
    h0 += t0 & MASK44;
    h1 += ((t0 >> 44) | (t1 << 20)) & MASK44;
    h2 += ((t1 >> 24) & MASK42) | high_bit;
    u128 d0 = (u128)h0 * r0 + (u128)h1 * s2 + (u128)h2 * s1;
    u128 d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * s2;
    u128 d2 = (u128)h0 * r2 + (u128)h1 * r1 + (u128)h2 * r0;
    uint64_t c = (uint64_t)(d0 >> 44);
    h0 = (uint64_t)d0 & MASK44;
    d1 += c;
    c = (uint64_t)(d1 >> 44);
    h1 = (uint64_t)d1 & MASK44;
    d2 += c;
    c = (uint64_t)(d2 >> 42);
    h2 = (uint64_t)d2 & MASK42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= MASK44;
    h1 += c;
    size_t step = len < 16 ? len : 16;
    m += step;
    len -= step;
  }
  // full carry, then h mod p = h - p if h >= p (p = 2^130 - 5)
  uint64_t c = h1 >> 44;
  h1 &= MASK44;
  h2 += c;
  c = h2 >> 42;
  h2 &= MASK42;
  h0 += c * 5;
  c = h0 >> 44;
  h0 &= MASK44;
  h1 += c;
  c = h1 >> 44;
  h1 &= MASK44;
  h2 += c;
  uint64_t g0 = h0 + 5;
  c = g0 >> 44;
  g0 &= MASK44;
  uint64_t g1 = h1 + c;
  c = g1 >> 44;
  g1 &= MASK44;
  uint64_t g2 = h2 + c - (UINT64_C(1) << 42);
  uint64_t use_g = (g2 >> 63) - 1; // all ones when h + 5 - 2^130 did not go negative
  h0 = (h0 & ~use_g) | (g0 & use_g);
  h1 = (h1 & ~use_g) | (g1 & use_g);
  h2 = (h2 & ~use_g) | (g2 & use_g);
  // tag = (h + s) mod 2^128, s = key[16..32)
  t0 = load_le64(key + 16);
  t1 = load_le64(key + 24);
  h0 += t0 & MASK44;
  c = h0 >> 44;
  h0 &= MASK44;
  h1 += (((t0 >> 44) | (t1 << 20)) & MASK44) + c;
  c = h1 >> 44;
  h1 &= MASK44;
  h2 += ((t1 >> 24) & MASK42) + c;
  store_le64(tag, h0 | (h1 << 44));
  store_le64(tag + 8, (h1 >> 20) | (h2 << 24));
}

/** Ciphers 0 and 1: armor (MAC written) or dearmor (true iff the MAC matched; then decrypted). */
static inline bool salsa_poly_packet(uint8_t *p, size_t len, const uint8_t key[SALSA_KEY_LENGTH], bool encrypted, bool armoring) {
  uint8_t mangled[SALSA_KEY_LENGTH], poly_key[POLY1305_KEY_LENGTH], mac[16];
  uint32_t input[16];
  mangle_key(key, p, len, mangled);
  salsa_setup(input, mangled, p + PACKET_ID_OFFSET);
  uint8_t *payload = p + VERB_OFFSET;
  size_t payload_len = len - VERB_OFFSET;
  if (armoring) {
    salsa_packet(input, poly_key, payload, payload_len, encrypted);
    poly1305(poly_key, payload, payload_len, mac);
    memcpy(p + MAC_OFFSET, mac, MAC_LENGTH);
    return true;
  }
  salsa_packet(input, poly_key, NULL, 0, false);
  poly1305(poly_key, payload, payload_len, mac);
  uint8_t diff = 0;
  for (int i = 0; i < MAC_LENGTH; i++) diff |= mac[i] ^ p[MAC_OFFSET + i];
  if (diff != 0) return false;
  if (encrypted) salsa_packet(input, poly_key, payload, payload_len, true);
  return true;
}


#endif
