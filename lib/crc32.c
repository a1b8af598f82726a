#include "crc32.h"

#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

uint32_t crc32_buffer(const void *data, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	const unsigned char *p = data;

	/* zlib takes uInt lengths, so feed large buffers in pieces. */
	while (len > 0) {
		uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
		crc = crc32(crc, p, chunk);
		p += chunk;
		len -= chunk;
	}
	return (uint32_t)crc;
}

int crc32_file(const char *path, uint32_t *out)
{
	size_t len;
	char *data = fs_read_file(path, &len);

	if (!data)
		return -1;
	*out = crc32_buffer(data, len);
	free(data);
	return 0;
}

char *crc32_hex(uint32_t crc, char *buf)
{
	snprintf(buf, 9, "%08x", crc);
	return buf;
}
