// HMAC-SHA256 with prepared keys, for the per-frame gateway check (FrameKey).
//
// The key's inner and outer pads are hashed once; a tag then costs a copy of two SHA-256 states and
// the hashing of the frame's own bytes. OpenSSL's low-level SHA-256 is used because its state is a
// plain struct that can be copied: the EVP interface allocates on every copy, and swift-crypto's
// HMAC allocates and dispatches through generics several times per tag (see FrameKey).
// OpenSSL picks the CPU's SHA instructions itself when it has them.
#ifndef CHANNELGUARD_LIBCRYPTO_SHIM_H
#define CHANNELGUARD_LIBCRYPTO_SHIM_H

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/// An HMAC-SHA256 key with its pads already hashed.
typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} cg_hmac_sha256_key;

/// Prepares `key` from a secret of any length (RFC 2104: a secret longer than a block is hashed first).
static inline void cg_hmac_sha256_prepare(cg_hmac_sha256_key *key, const void *secret, size_t count) {
    uint8_t block[SHA256_CBLOCK];
    memset(block, 0, sizeof block);
    if (count > SHA256_CBLOCK) {
        SHA256((const unsigned char *)secret, count, block);
    } else if (count > 0) {
        memcpy(block, secret, count);
    }
    uint8_t pad[SHA256_CBLOCK];
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&key->inner);
    SHA256_Update(&key->inner, pad, sizeof pad);
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&key->outer);
    SHA256_Update(&key->outer, pad, sizeof pad);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
}

/// Writes the 32-byte tag of `count` bytes to `tag`.
static inline void cg_hmac_sha256(const cg_hmac_sha256_key *key, const void *bytes, size_t count, uint8_t *tag) {
    SHA256_CTX context = key->inner;
    SHA256_Update(&context, bytes, count);
    uint8_t inner[SHA256_DIGEST_LENGTH];
    SHA256_Final(inner, &context);
    context = key->outer;
    SHA256_Update(&context, inner, sizeof inner);
    SHA256_Final(tag, &context);
}

/// Whether `tag` (32 bytes) is the tag of `count` bytes, compared in constant time.
static inline int cg_hmac_sha256_verify(const cg_hmac_sha256_key *key, const void *bytes, size_t count, const uint8_t *tag) {
    uint8_t expected[SHA256_DIGEST_LENGTH];
    cg_hmac_sha256(key, bytes, count, expected);
    return CRYPTO_memcmp(expected, tag, SHA256_DIGEST_LENGTH) == 0;
}

#endif
