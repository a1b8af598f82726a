#include "bzimage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Offsets in the setup header. */
#define HEADER_MAGIC 0x202          /* "HdrS" */
#define HEADER_PROTOCOL 0x206       /* u16: boot protocol version */
#define HEADER_KERNEL_VERSION 0x20e /* u16: version string offset, minus 0x200 */
#define SETUP_SIZE 0x8000            /* the version string lies in the setup code */

static unsigned read_le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

int bzimage_read(const char *path, struct bzimage_info *info)
{
	unsigned char setup[SETUP_SIZE];
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (have < sizeof(setup)) {
		ssize_t n = read(fd, setup + have, sizeof(setup) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);

	memset(info, 0, sizeof(*info));
	if (have < HEADER_KERNEL_VERSION + 2 || memcmp(setup + HEADER_MAGIC, "HdrS", 4))
		return 1;
	info->protocol = read_le16(setup + HEADER_PROTOCOL);

	/* The field exists from protocol 2.00 on; 0 means no version string. */
	unsigned offset = read_le16(setup + HEADER_KERNEL_VERSION);
	if (info->protocol < 0x200 || offset == 0 || offset + 0x200 >= have)
		return 0;
	const unsigned char *text = setup + offset + 0x200;
	size_t len = 0;
	while (offset + 0x200 + len < have && len + 1 < sizeof(info->release) &&
	       text[len] > ' ' && text[len] < 0x7f)
		len++;
	memcpy(info->release, text, len);
	info->release[len] = '\0';
	return 0;
}
