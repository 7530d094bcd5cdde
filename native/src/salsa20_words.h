// The parts of Salsa20 that do not depend on how many blocks are computed at once: the input
// words for a key and nonce, and the quarter round (on scalars or on vectors of lanes alike).
// Shared by salsa_poly.h (Salsa20/12, four blocks at a time, for packet armor) and
// identity_hash.c (Salsa20/20, eight blocks at a time, for the memory-hard identity hash).
// Header only, like napi_util.h.

#ifndef ZTROOT_SALSA20_WORDS_H
#define ZTROOT_SALSA20_WORDS_H

#include <stdint.h>

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/** Salsa20 input words for a 32-byte key and 8-byte nonce, block counter (words 8, 9) 0. */
static inline void salsa_setup(uint32_t input[16], const uint8_t key[32], const uint8_t nonce[8]) {
  static const uint8_t sigma[16] = "expand 32-byte k";
  input[0] = load_le32(sigma);
  input[5] = load_le32(sigma + 4);
  input[10] = load_le32(sigma + 8);
  input[15] = load_le32(sigma + 12);
  for (int i = 0; i < 4; i++) {
    input[1 + i] = load_le32(key + 4 * i);
    input[11 + i] = load_le32(key + 16 + 4 * i);
  }
  input[6] = load_le32(nonce);
  input[7] = load_le32(nonce + 4);
  input[8] = 0;
  input[9] = 0;
}

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
// One Salsa20 quarter round on words (a, b, c, d) in the order the spec lists them.
#define QUARTER(a, b, c, d) \
  do {                      \
    b ^= ROTL(a + d, 7);    \
    c ^= ROTL(b + a, 9);    \
    d ^= ROTL(c + b, 13);   \
    a ^= ROTL(d + c, 18);   \
  } while (0)

#endif
