/* CRC-32 (IEEE, as zlib computes it), printed as 8 lowercase hex digits.
 * Cache keys use it: "kc<crc of share/ktstr.kconfig>". */
#ifndef KTSTR_CRC32_H
#define KTSTR_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_buffer(const void *data, size_t len);
/* CRC-32 of a file's bytes; 0 or -1 with errno set. */
int crc32_file(const char *path, uint32_t *out);
/* Format as 8 hex digits into buf (at least 9 bytes); returns buf. */
char *crc32_hex(uint32_t crc, char *buf);

#endif
