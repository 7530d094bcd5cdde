// Packet armor and dearmor in C (docs/protocol/03-packet.md §5), for src/wire/native-armor.ts.
// The TypeScript side checks lengths and sets the flag byte; these functions do the crypto of
// one whole packet in place:
//   * ciphers 0 and 1: the per-packet Salsa20/12 key (§5.1), Poly1305 with keystream block 0 as
//     its key, Salsa20/12 encryption from block 1 for cipher 1 (§5.2). Salsa20 and Poly1305
//     are written here (OpenSSL has no Salsa20, and its Poly1305 costs more to set up per
//     packet than it saves): Salsa20 computes four blocks at once with GCC/Clang vector
//     extensions (one block per 32-bit lane), Poly1305 uses 44/44/42-bit limbs.
//   * cipher 3: AES-GMAC-SIV (docs/protocol/02-crypto.md §6) on the OpenSSL that Node itself
//     links: Node exports OpenSSL's symbols to addons, so only the headers are needed (node-gyp
//     finds them beside node_api.h) and nothing is linked. GMAC is AES-256-GCM with an empty
//     plaintext and everything fed in as AAD, the tag block is AES-256-ECB, the payload
//     AES-256-CTR; OpenSSL picks AES-NI / PCLMULQDQ (or ARMv8 crypto) itself. One context per
//     peer key holds the four keyed EVP contexts and is freed with its JavaScript handle.
// The addon is linked with -z now, so a Node without OpenSSL's symbols fails to load it (and
// ztroot uses TypeScript) instead of aborting at the first cipher-3 packet.

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "napi_util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "packet_crypto.c stores Salsa20 words natively and needs a little-endian host"
#endif

// Packet layout (docs/protocol/03-packet.md §2), bytes.
#define PACKET_ID_OFFSET 0
#define PACKET_ID_LENGTH 8
#define AAD_OFFSET 8 // destination, source, flags
#define AAD_LENGTH 11
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
#define AES_KEY_LENGTH 32
#define AES_BLOCK_BYTES 16
#define GCM_NONCE_LENGTH 12

// ---- Salsa20/12, four blocks at a time ----

#define LANES 4
typedef uint32_t lanes_t __attribute__((vector_size(LANES * 4)));
#if defined(__clang__)
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (lanes_t){__VA_ARGS__})
#endif

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t load_le64(const uint8_t *p) { return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32); }
static void store_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/** Salsa20 input words for a 32-byte key and 8-byte nonce, block counter 0. */
static void salsa_setup(uint32_t input[16], const uint8_t key[32], const uint8_t nonce[8]) {
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
#define QUARTER(a, b, c, d) \
  do {                      \
    b ^= ROTL(a + d, 7);    \
    c ^= ROTL(b + a, 9);    \
    d ^= ROTL(c + b, 13);   \
    a ^= ROTL(d + c, 18);   \
  } while (0)

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
static void salsa_keystream(const uint32_t input[16], uint64_t first, uint32_t out[16 * LANES]) {
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
static void salsa_packet(const uint32_t input[16], uint8_t poly_key[POLY1305_KEY_LENGTH], uint8_t *data, size_t len, bool crypt) {
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
static void mangle_key(const uint8_t key[SALSA_KEY_LENGTH], const uint8_t *p, size_t len, uint8_t out[SALSA_KEY_LENGTH]) {
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

static void poly1305(const uint8_t key[POLY1305_KEY_LENGTH], const uint8_t *m, size_t len, uint8_t tag[16]) {
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
static bool salsa_poly_packet(uint8_t *p, size_t len, const uint8_t key[SALSA_KEY_LENGTH], bool encrypted, bool armoring) {
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

// ---- AES-GMAC-SIV on OpenSSL ----

typedef struct {
  EVP_CIPHER_CTX *gmac;    // AES-256-GCM under K0, used with AAD only
  EVP_CIPHER_CTX *tag_enc; // AES-256-ECB under K1
  EVP_CIPHER_CTX *tag_dec; // AES-256-ECB⁻¹ under K1
  EVP_CIPHER_CTX *ctr;     // AES-256-CTR under K1
} aes_siv;

static void aes_siv_free(aes_siv *s) {
  EVP_CIPHER_CTX_free(s->gmac);
  EVP_CIPHER_CTX_free(s->tag_enc);
  EVP_CIPHER_CTX_free(s->tag_dec);
  EVP_CIPHER_CTX_free(s->ctr);
  free(s);
}

static aes_siv *aes_siv_new(const uint8_t k0[AES_KEY_LENGTH], const uint8_t k1[AES_KEY_LENGTH]) {
  aes_siv *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->gmac = EVP_CIPHER_CTX_new();
  s->tag_enc = EVP_CIPHER_CTX_new();
  s->tag_dec = EVP_CIPHER_CTX_new();
  s->ctr = EVP_CIPHER_CTX_new();
  bool ok = s->gmac && s->tag_enc && s->tag_dec && s->ctr &&
            EVP_EncryptInit_ex(s->gmac, EVP_aes_256_gcm(), NULL, k0, NULL) == 1 &&
            EVP_EncryptInit_ex(s->tag_enc, EVP_aes_256_ecb(), NULL, k1, NULL) == 1 &&
            EVP_CIPHER_CTX_set_padding(s->tag_enc, 0) == 1 &&
            EVP_DecryptInit_ex(s->tag_dec, EVP_aes_256_ecb(), NULL, k1, NULL) == 1 &&
            EVP_CIPHER_CTX_set_padding(s->tag_dec, 0) == 1 &&
            EVP_EncryptInit_ex(s->ctr, EVP_aes_256_ctr(), NULL, k1, NULL) == 1;
  if (!ok) {
    aes_siv_free(s);
    return NULL;
  }
  return s;
}

/** fold8 = g[0..8) XOR g[8..16) of GMAC(K0, iv8 ‖ 0^4, aad ‖ zero pad to 16 ‖ data). */
static bool gmac_folded(aes_siv *s, const uint8_t iv[8], const uint8_t *aad, size_t aad_len, const uint8_t *data, size_t len, uint8_t fold[8]) {
  uint8_t nonce[GCM_NONCE_LENGTH] = {0}, last[AES_BLOCK_BYTES] = {0}, g[AES_BLOCK_BYTES];
  memcpy(nonce, iv, 8);
  size_t whole = aad_len - aad_len % AES_BLOCK_BYTES;
  memcpy(last, aad + whole, aad_len - whole);
  int n;
  if (EVP_EncryptInit_ex(s->gmac, NULL, NULL, NULL, nonce) != 1) return false;
  if (whole > 0 && EVP_EncryptUpdate(s->gmac, NULL, &n, aad, (int)whole) != 1) return false;
  if (whole < aad_len && EVP_EncryptUpdate(s->gmac, NULL, &n, last, AES_BLOCK_BYTES) != 1) return false;
  if (len > 0 && EVP_EncryptUpdate(s->gmac, NULL, &n, data, (int)len) != 1) return false;
  if (EVP_EncryptFinal_ex(s->gmac, g, &n) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(s->gmac, EVP_CTRL_GCM_GET_TAG, AES_BLOCK_BYTES, g) != 1) return false;
  for (int i = 0; i < 8; i++) fold[i] = g[i] ^ g[8 + i];
  return true;
}

/** data ^= AES-256-CTR(K1) from the counter block tag with byte 12's top bit cleared. */
static bool ctr_xor(aes_siv *s, const uint8_t tag[AES_BLOCK_BYTES], uint8_t *data, size_t len) {
  if (len == 0) return true;
  uint8_t counter[AES_BLOCK_BYTES];
  memcpy(counter, tag, AES_BLOCK_BYTES);
  counter[12] &= 0x7f; // packets (≤ 627 blocks) then never wrap the 32-bit counter
  int n;
  return EVP_EncryptInit_ex(s->ctr, NULL, NULL, NULL, counter) == 1 && EVP_EncryptUpdate(s->ctr, data, &n, data, (int)len) == 1;
}

/** AES-GMAC-SIV encrypt data in place, tag = T (docs/protocol/02-crypto.md §6). */
static bool siv_encrypt(aes_siv *s, const uint8_t iv[8], const uint8_t *aad, size_t aad_len, uint8_t *data, size_t len, uint8_t tag[AES_BLOCK_BYTES]) {
  uint8_t block[AES_BLOCK_BYTES];
  int n;
  memcpy(block, iv, 8);
  return gmac_folded(s, iv, aad, aad_len, data, len, block + 8) &&
         EVP_EncryptUpdate(s->tag_enc, tag, &n, block, AES_BLOCK_BYTES) == 1 && n == AES_BLOCK_BYTES &&
         ctr_xor(s, tag, data, len);
}

/** AES-GMAC-SIV decrypt data in place; when it is not authentic, data is restored and false returned. */
static bool siv_decrypt(aes_siv *s, const uint8_t tag[AES_BLOCK_BYTES], const uint8_t *aad, size_t aad_len, uint8_t *data, size_t len) {
  uint8_t d[AES_BLOCK_BYTES], fold[8];
  int n;
  if (EVP_DecryptUpdate(s->tag_dec, d, &n, tag, AES_BLOCK_BYTES) != 1 || n != AES_BLOCK_BYTES) return false;
  if (!ctr_xor(s, tag, data, len)) return false;
  // d[0..8) is the sender's iv, d[8..16) the folded GMAC it computed
  uint8_t diff = 1;
  if (gmac_folded(s, d, aad, aad_len, data, len, fold)) {
    diff = 0;
    for (int i = 0; i < 8; i++) diff |= fold[i] ^ d[8 + i];
  }
  if (diff == 0) return true;
  ctr_xor(s, tag, data, len); // CTR is its own inverse
  return false;
}

/** The 11 AAD bytes of a packet: destination, source, flags without the hop bits. */
static void load_aad(const uint8_t *p, uint8_t aad[AAD_LENGTH]) {
  memcpy(aad, p + AAD_OFFSET, AAD_LENGTH);
  aad[AAD_LENGTH - 1] &= (uint8_t)~HOPS_MASK;
}

/** Cipher 3 armor (docs/protocol/03-packet.md §5.3): the packet ID and MAC fields become T. */
static bool aes_armor(aes_siv *s, uint8_t *p, size_t len) {
  uint8_t aad[AAD_LENGTH], tag[AES_BLOCK_BYTES];
  load_aad(p, aad);
  if (!siv_encrypt(s, p + PACKET_ID_OFFSET, aad, AAD_LENGTH, p + VERB_OFFSET, len - VERB_OFFSET, tag)) return false;
  memcpy(p + PACKET_ID_OFFSET, tag, 8);
  memcpy(p + MAC_OFFSET, tag + 8, 8);
  return true;
}

/** Cipher 3 dearmor in place; on failure the packet is unchanged. */
static bool aes_dearmor(aes_siv *s, uint8_t *p, size_t len) {
  uint8_t aad[AAD_LENGTH], tag[AES_BLOCK_BYTES];
  memcpy(tag, p + PACKET_ID_OFFSET, 8);
  memcpy(tag + 8, p + MAC_OFFSET, 8);
  load_aad(p, aad);
  return siv_decrypt(s, tag, aad, AAD_LENGTH, p + VERB_OFFSET, len - VERB_OFFSET);
}

// ---- N-API ----

/** The bytes of a Uint8Array argument, or NULL if it is not one. */
static uint8_t *bytes_of(napi_env env, napi_value v, size_t *len) {
  static uint8_t no_bytes[1]; // an empty array may have no data pointer; nothing is ever written here
  napi_typedarray_type type;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return NULL;
  return data != NULL ? data : *len == 0 ? no_bytes : NULL;
}

static napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

/** The aes_siv behind a handle made by aesContext, or NULL. */
static aes_siv *context_of(napi_env env, napi_value v) {
  napi_valuetype t;
  void *s = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &s) != napi_ok) return NULL;
  return s;
}

/** salsaPoly(packet, key32, encrypted, armoring): ciphers 0/1; dearmor returns whether authentic. */
static napi_value js_salsa_poly(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return throw_type(env, "salsaPoly: 4 arguments");
  size_t len, key_len;
  uint8_t *p = bytes_of(env, argv[0], &len);
  uint8_t *key = bytes_of(env, argv[1], &key_len);
  bool encrypted, armoring;
  if (!p || !key || key_len < SALSA_KEY_LENGTH || len < MIN_PACKET_LENGTH || len > MAX_PACKET_LENGTH ||
      napi_get_value_bool(env, argv[2], &encrypted) != napi_ok || napi_get_value_bool(env, argv[3], &armoring) != napi_ok) {
    return throw_type(env, "salsaPoly(packet, key, encrypted, armoring): bad arguments");
  }
  return boolean(env, salsa_poly_packet(p, len, key, encrypted, armoring));
}

static void finalize_aes(napi_env env, void *data, void *hint) { aes_siv_free(data); }

/** aesContext(k0, k1): the keyed AES-GMAC-SIV state of one peer. */
static napi_value js_aes_context(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  size_t l0, l1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "aesContext: 2 arguments");
  uint8_t *k0 = bytes_of(env, argv[0], &l0), *k1 = bytes_of(env, argv[1], &l1);
  if (!k0 || !k1 || l0 != AES_KEY_LENGTH || l1 != AES_KEY_LENGTH) return throw_type(env, "aesContext(k0, k1): two 32-byte keys");
  aes_siv *s = aes_siv_new(k0, k1);
  if (!s) {
    napi_throw_error(env, NULL, "aesContext: OpenSSL refused the AES contexts");
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, s, finalize_aes, NULL, &handle) != napi_ok) {
    aes_siv_free(s);
    return NULL;
  }
  return handle;
}

/** aesGmacSiv(context, packet, armoring): cipher 3; armor returns true, dearmor whether authentic. */
static napi_value js_aes_gmac_siv(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_type(env, "aesGmacSiv: 3 arguments");
  aes_siv *s = context_of(env, argv[0]);
  size_t len;
  uint8_t *p = bytes_of(env, argv[1], &len);
  bool armoring;
  if (!s || !p || len < MIN_PACKET_LENGTH || len > MAX_PACKET_LENGTH || napi_get_value_bool(env, argv[2], &armoring) != napi_ok) {
    return throw_type(env, "aesGmacSiv(context, packet, armoring): bad arguments");
  }
  if (armoring) {
    if (!aes_armor(s, p, len)) {
      napi_throw_error(env, NULL, "aesGmacSiv: OpenSSL failed");
      return NULL;
    }
    return boolean(env, true);
  }
  return boolean(env, aes_dearmor(s, p, len));
}

/**
 * aesGmacSivRaw(context, encrypting, ivOrTag, aad, data): the bare construction over any AAD
 * (for the generic vectors of 10-test-vectors.md §5.5). Encrypting: iv 8 bytes in, data
 * encrypted in place, returns the 16-byte T. Decrypting: T in, data decrypted in place,
 * returns true, or false (data unchanged) when it is not authentic.
 */
static napi_value js_aes_gmac_siv_raw(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return throw_type(env, "aesGmacSivRaw: 5 arguments");
  aes_siv *s = context_of(env, argv[0]);
  bool encrypting;
  size_t iv_len, aad_len, len;
  uint8_t *iv = bytes_of(env, argv[2], &iv_len), *aad = bytes_of(env, argv[3], &aad_len), *data = bytes_of(env, argv[4], &len);
  if (!s || napi_get_value_bool(env, argv[1], &encrypting) != napi_ok || !iv || !aad || !data || aad_len > INT32_MAX || len > INT32_MAX ||
      iv_len != (encrypting ? 8 : AES_BLOCK_BYTES)) {
    return throw_type(env, "aesGmacSivRaw(context, encrypting, ivOrTag, aad, data): bad arguments");
  }
  if (!encrypting) return boolean(env, siv_decrypt(s, iv, aad, aad_len, data, len));
  void *out;
  napi_value tag;
  if (napi_create_buffer(env, AES_BLOCK_BYTES, &out, &tag) != napi_ok) return NULL;
  if (!siv_encrypt(s, iv, aad, aad_len, data, len, out)) {
    napi_throw_error(env, NULL, "aesGmacSivRaw: OpenSSL failed");
    return NULL;
  }
  return tag;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value v;
  define(env, exports, "salsaPoly", js_salsa_poly);
  define(env, exports, "aesContext", js_aes_context);
  define(env, exports, "aesGmacSiv", js_aes_gmac_siv);
  define(env, exports, "aesGmacSivRaw", js_aes_gmac_siv_raw);
  napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, exports, "openssl", v);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
