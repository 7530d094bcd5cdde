// The memory-hard identity hash of ZeroTier identity type 0 (01-identity.md §3), for Node.
//
// JavaScript computes SHA-512 of the 64-byte public key (node:crypto) and passes the 64-byte
// digest to hash(), which turns it in place into the final memory-hard digest:
//   1. one Salsa20/20 stream (key = digest[0..32), nonce = digest[32..40), counter from 0)
//      fills 2 MiB: block 0 is keystream block 0, block i is block i-1 XOR keystream block i;
//   2. 131072 rounds read two big-endian 64-bit words sequentially from the 2 MiB (one picks a
//      digest word, the other a scratch word), swap those two 8-byte words, then XOR the whole
//      digest with the next keystream block.
// The keystream never depends on the data, so it is produced 8 blocks at a time with vector
// code (GCC/Clang vector extensions, one block per 32-bit lane) and consumed block by block.
// On x86-64 with GCC the hash is built for three instruction set levels and the best one for
// the CPU is picked at load time. Phase 2 keeps the digest in registers (see there).
//
// The 2 MiB scratch buffer belongs to the N-API environment (one per Node worker thread), so
// concurrent calls on different workers never share it and it is freed with the environment.
// Only node_api.h is used: one build loads in every Node release with N-API version 8.

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "napi_util.h"
#include "salsa20_words.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "identity_hash.c stores Salsa20 words natively and needs a little-endian host"
#endif

// ZT_IDENTITY_GEN_MEMORY (01-identity.md §3): scratch space, bytes.
#define HASH_MEMORY_BYTES 2097152
#define HASH_MEMORY_WORDS32 (HASH_MEMORY_BYTES / 4)
// Phase 2 reads two 64-bit words per round: MEM / 16 rounds.
#define HASH_ROUNDS (HASH_MEMORY_BYTES / 16)
// The second index of a round selects one of MEM / 8 = 2^18 scratch words.
#define SCRATCH_WORD64_MASK ((HASH_MEMORY_BYTES / 8) - 1)
#define DIGEST_BYTES 64
#define SALSA_ROUNDS 20

// Keystream blocks computed together, one block per vector lane.
#define LANES 8
typedef uint32_t lanes_t __attribute__((vector_size(LANES * 4)));
// Two 64-bit digest words; the digest is four of them.
typedef uint64_t pair_t __attribute__((vector_size(16)));
// word_masks[i]: all ones on digest word i, zero elsewhere, as four pairs.
#define ONES (~(uint64_t)0)
static const pair_t word_masks[8][4] = {
    {{ONES, 0}, {0, 0}, {0, 0}, {0, 0}}, {{0, ONES}, {0, 0}, {0, 0}, {0, 0}},
    {{0, 0}, {ONES, 0}, {0, 0}, {0, 0}}, {{0, 0}, {0, ONES}, {0, 0}, {0, 0}},
    {{0, 0}, {0, 0}, {ONES, 0}, {0, 0}}, {{0, 0}, {0, 0}, {0, ONES}, {0, 0}},
    {{0, 0}, {0, 0}, {0, 0}, {ONES, 0}}, {{0, 0}, {0, 0}, {0, 0}, {0, ONES}},
};

// GCC and Clang name their two-vector shuffle differently.
#if defined(__clang__)
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (lanes_t){__VA_ARGS__})
#endif

// With GCC 11+ on x86-64 glibc, the hash is compiled once per instruction set level (AVX-512,
// AVX2, baseline SSE2) and the dynamic loader picks the best one for the CPU (ifunc).
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__) && __GNUC__ >= 11 && !defined(IDENTITY_HASH_NO_CLONES)
#define ISA_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define ISA_CLONES
#endif

/**
 * Write the transpose of the 8 x 8 matrix whose rows are r[0..8) (row = one Salsa20 word,
 * column = one block) into out: column c goes to out[16 * c .. 16 * c + 8).
 */
static inline __attribute__((always_inline)) void store_transposed(const lanes_t r[8], uint32_t *out) {
  // pairs of rows interleaved word by word within each 128-bit half
  lanes_t t0 = SHUFFLE(r[0], r[1], 0, 8, 1, 9, 4, 12, 5, 13);
  lanes_t t1 = SHUFFLE(r[0], r[1], 2, 10, 3, 11, 6, 14, 7, 15);
  lanes_t t2 = SHUFFLE(r[2], r[3], 0, 8, 1, 9, 4, 12, 5, 13);
  lanes_t t3 = SHUFFLE(r[2], r[3], 2, 10, 3, 11, 6, 14, 7, 15);
  lanes_t t4 = SHUFFLE(r[4], r[5], 0, 8, 1, 9, 4, 12, 5, 13);
  lanes_t t5 = SHUFFLE(r[4], r[5], 2, 10, 3, 11, 6, 14, 7, 15);
  lanes_t t6 = SHUFFLE(r[6], r[7], 0, 8, 1, 9, 4, 12, 5, 13);
  lanes_t t7 = SHUFFLE(r[6], r[7], 2, 10, 3, 11, 6, 14, 7, 15);
  // u0 = rows 0..3 of columns 0 and 4, u1 = columns 1 and 5, u2 = 2 and 6, u3 = 3 and 7;
  // u4..u7 the same for rows 4..7
  lanes_t u0 = SHUFFLE(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
  lanes_t u1 = SHUFFLE(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
  lanes_t u2 = SHUFFLE(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
  lanes_t u3 = SHUFFLE(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
  lanes_t u4 = SHUFFLE(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
  lanes_t u5 = SHUFFLE(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
  lanes_t u6 = SHUFFLE(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
  lanes_t u7 = SHUFFLE(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
  lanes_t c[8] = {
      SHUFFLE(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11), SHUFFLE(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11),
      SHUFFLE(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11), SHUFFLE(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11),
      SHUFFLE(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15), SHUFFLE(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15),
      SHUFFLE(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15), SHUFFLE(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15),
  };
  for (int col = 0; col < 8; col++) memcpy(out + 16 * col, &c[col], sizeof(lanes_t));
}

/**
 * Keystream blocks first_block .. first_block + LANES - 1 (first_block a multiple of LANES) of
 * the stream `input`, one after the other in `out` (block b at out[16 * b]), words in host order.
 */
static inline __attribute__((always_inline)) void salsa20_keystream(const uint32_t input[16], uint64_t first_block, uint32_t out[16 * LANES]) {
  // `input` has its counter words at 0. The 64-bit block counter is words 8 (low) and 9 (high);
  // first_block being a multiple of LANES, adding the lane number never carries into the high word.
  lanes_t in[16] = {0};
  for (int j = 0; j < 16; j++) in[j] += input[j];
  in[8] += (lanes_t){0, 1, 2, 3, 4, 5, 6, 7} + (uint32_t)first_block;
  in[9] += (uint32_t)(first_block >> 32);
  lanes_t x[16];
  memcpy(x, in, sizeof x);
  for (int r = 0; r < SALSA_ROUNDS; r += 2) {
    // columns
    QUARTER(x[0], x[4], x[8], x[12]);
    QUARTER(x[5], x[9], x[13], x[1]);
    QUARTER(x[10], x[14], x[2], x[6]);
    QUARTER(x[15], x[3], x[7], x[11]);
    // rows
    QUARTER(x[0], x[1], x[2], x[3]);
    QUARTER(x[5], x[6], x[7], x[4]);
    QUARTER(x[10], x[11], x[8], x[9]);
    QUARTER(x[15], x[12], x[13], x[14]);
  }
  for (int j = 0; j < 16; j++) x[j] += in[j];
  store_transposed(x, out);
  store_transposed(x + 8, out + 8);
}

/** Turn the SHA-512 digest of a public key into the memory-hard digest, in place. */
ISA_CLONES
static void memory_hard_hash(uint8_t digest[DIGEST_BYTES], uint32_t *scratch) {
  uint32_t input[16];
  salsa_setup(input, digest, digest + 32);
  uint64_t block = 0;

  // Phase 1: sequential fill, each block the previous one XOR the next keystream block: write
  // LANES keystream blocks in place, then chain them.
  for (uint32_t *out = scratch; out < scratch + HASH_MEMORY_WORDS32; out += 16 * LANES, block += LANES) {
    salsa20_keystream(input, block, out);
    for (uint32_t *b = (out == scratch ? out + 16 : out); b < out + 16 * LANES; b += 16) {
      for (int j = 0; j < 16; j++) b[j] ^= b[j - 16];
    }
  }

  // Phase 2: data-dependent swaps. The indices are big-endian 64-bit words reduced modulo a
  // power of two, so only their last bytes matter; the swapped words move as raw bytes.
  // The digest stays in registers, four pairs of 64-bit words, and word i1 is read and replaced
  // through lane masks: an 8-byte write into a digest kept in memory, read back whole right
  // after, would defeat store forwarding and stall every round.
  pair_t d0, d1, d2, d3;
  memcpy(&d0, digest, 16);
  memcpy(&d1, digest + 16, 16);
  memcpy(&d2, digest + 32, 16);
  memcpy(&d3, digest + 48, 16);
  const uint8_t *bytes = (const uint8_t *)scratch;
  uint32_t ks[16 * LANES];
  for (uint32_t round = 0; round < HASH_ROUNDS; round++) {
    const uint8_t *w = bytes + 16 * (size_t)round;
    uint32_t i1 = w[7] & 7u;
    uint32_t i2 = (((uint32_t)w[13] << 16) | ((uint32_t)w[14] << 8) | w[15]) & SCRATCH_WORD64_MASK;
    uint8_t *g = (uint8_t *)(scratch + 2 * i2);
    const pair_t *m = word_masks[i1];
    pair_t picked = (d0 & m[0]) | (d1 & m[1]) | (d2 & m[2]) | (d3 & m[3]);
    uint64_t from_digest = picked[0] | picked[1], from_scratch;
    memcpy(&from_scratch, g, 8);
    memcpy(g, &from_digest, 8);
    pair_t incoming = (pair_t){0, 0} + from_scratch;
    d0 ^= (d0 ^ incoming) & m[0];
    d1 ^= (d1 ^ incoming) & m[1];
    d2 ^= (d2 ^ incoming) & m[2];
    d3 ^= (d3 ^ incoming) & m[3];

    uint32_t lane = round % LANES;
    if (lane == 0) {
      salsa20_keystream(input, block, ks);
      block += LANES;
    }
    pair_t k[4];
    memcpy(k, ks + 16 * lane, DIGEST_BYTES);
    d0 ^= k[0];
    d1 ^= k[1];
    d2 ^= k[2];
    d3 ^= k[3];
  }
  memcpy(digest, &d0, 16);
  memcpy(digest + 16, &d1, 16);
  memcpy(digest + 32, &d2, 16);
  memcpy(digest + 48, &d3, 16);
}

// ---- N-API ----

typedef struct {
  uint32_t *scratch; // HASH_MEMORY_BYTES, allocated on first use
} env_data;

static void free_env_data(napi_env env, void *data, void *hint) {
  env_data *e = data;
  free(e->scratch);
  free(e);
}

/** hash(digest: Uint8Array of 64 bytes): replace the SHA-512 digest with the memory-hard one. */
static napi_value js_hash(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1) {
    return throw_type(env, "hash(digest): expected a 64-byte Uint8Array");
  }
  bool is_typed = false;
  napi_is_typedarray(env, arg, &is_typed);
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (!is_typed || napi_get_typedarray_info(env, arg, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || length != DIGEST_BYTES || data == NULL) {
    return throw_type(env, "hash(digest): expected a 64-byte Uint8Array");
  }
  env_data *e = NULL;
  if (napi_get_instance_data(env, (void **)&e) != napi_ok || e == NULL) {
    return throw_error(env, NULL, "identity hash: module not initialised");
  }
  if (e->scratch == NULL) {
    e->scratch = aligned_alloc(64, HASH_MEMORY_BYTES);
    if (e->scratch == NULL) return throw_error(env, NULL, "identity hash: cannot allocate 2 MiB of scratch space");
  }
  memory_hard_hash(data, e->scratch);
  return NULL;
}

NAPI_MODULE_INIT() {
  env_data *e = calloc(1, sizeof *e);
  if (e == NULL || napi_set_instance_data(env, e, free_env_data, NULL) != napi_ok) {
    free(e);
    return throw_error(env, NULL, "identity hash: cannot initialise");
  }
  define(env, exports, "hash", js_hash);
  define_uint32(env, exports, "memoryBytes", HASH_MEMORY_BYTES); // checked by the JavaScript side against its own constant
  return exports;
}
