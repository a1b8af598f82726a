/* SHA-256 digests through OpenSSL's EVP interface, for checking downloads
 * against published checksums. */
#ifndef KTSTR_SHA256_H
#define KTSTR_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256 {
	void *ctx; /* EVP_MD_CTX */
};
#define SHA256_INIT { NULL }

/* Start a digest; out of memory ends the program, as xmalloc does. */
void sha256_init(struct sha256 *hash);
void sha256_update(struct sha256 *hash, const void *data, size_t len);
/* Finish into 64 lowercase hex digits and a NUL (buf of at least 65 bytes),
 * and release the context. */
char *sha256_final_hex(struct sha256 *hash, char *buf);
/* Release a digest that will not be finished. */
void sha256_release(struct sha256 *hash);

#endif
