/* x86 boot images (bzImage): the setup header of the Linux boot protocol
 * (Documentation/arch/x86/boot.rst in the kernel tree). */
#ifndef KTSTR_BZIMAGE_H
#define KTSTR_BZIMAGE_H

#include <stddef.h>

struct bzimage_info {
	unsigned protocol;   /* boot protocol version, e.g. 0x020f */
	char release[128];   /* first word of the kernel version string, "" if none */
};

/* Read the setup header of path.  Returns 0 and fills info; 1 when the file
 * is not a bzImage (no "HdrS" magic at offset 0x202); -1 with errno set when
 * it cannot be read. */
int bzimage_read(const char *path, struct bzimage_info *info);

#endif
