#include "sha256.h"

#include "diag.h"

#include <openssl/evp.h>
#include <stdio.h>

void sha256_init(struct sha256 *hash)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		die("cannot start a SHA-256 digest: OpenSSL failed");
	hash->ctx = ctx;
}

void sha256_update(struct sha256 *hash, const void *data, size_t len)
{
	if (EVP_DigestUpdate(hash->ctx, data, len) != 1)
		die("cannot update a SHA-256 digest: OpenSSL failed");
}

char *sha256_final_hex(struct sha256 *hash, char *buf)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(hash->ctx, digest, &len) != 1 || len != SHA256_HEX_LEN / 2)
		die("cannot finish a SHA-256 digest: OpenSSL failed");
	for (unsigned int i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02x", digest[i]);
	buf[SHA256_HEX_LEN] = '\0';
	sha256_release(hash);
	return buf;
}

void sha256_release(struct sha256 *hash)
{
	EVP_MD_CTX_free(hash->ctx);
	hash->ctx = NULL;
}
