// Packet armor and dearmor in C (docs/protocol/03-packet.md §5), for src/wire/native-armor.ts.
// The TypeScript side checks lengths and sets the flag byte; these functions do the crypto of
// one whole packet in place:
//   * ciphers 0 and 1: Salsa20/12 and Poly1305 of salsa_poly.h (shared with batch_udp.c).
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

#include "salsa_poly.h"

#define AAD_OFFSET 8 // destination, source, flags
#define AAD_LENGTH 11
#define AES_KEY_LENGTH 32
#define AES_BLOCK_BYTES 16
#define GCM_NONCE_LENGTH 12

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
