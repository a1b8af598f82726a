/* Kernel identifiers, as every --kernel option takes them.  The kinds:
 *   an existing directory      a kernel source tree, built through 'ktstr kernel build --source'
 *   an existing regular file   a boot image (bzImage), when the caller allows images
 *   MAJOR.MINOR[.PATCH][-rcN]  a version, or a major.minor series, from the cache
 *   anything else              a cache key
 * A string that looks like a path (has a '/' or starts with '.' or '~') but
 * names nothing is an error rather than a cache key.
 */
#ifndef KTSTR_KERNEL_ID_H
#define KTSTR_KERNEL_ID_H

#include <stdbool.h>

enum kernel_id_kind {
	KERNEL_ID_SOURCE_TREE,
	KERNEL_ID_IMAGE,
	KERNEL_ID_VERSION,
	KERNEL_ID_CACHE_KEY,
	KERNEL_ID_MISSING_PATH,
};

enum kernel_id_flags {
	KERNEL_ID_ALLOW_IMAGE = 1 << 0,     /* accept a boot image file */
	KERNEL_ID_REQUIRE_SCHED_EXT = 1 << 1, /* discovery skips cache entries without sched_ext */
};

/* A kernel ready to boot. */
struct kernel_ref {
	char *image_path;  /* absolute path of the boot image */
	char *origin;      /* where it came from, for messages ("KTSTR_KERNEL", "the cache", ...) */
	char *release;     /* the version string in the image's header, or NULL */
	int hold_fd;       /* shared lock on its cache entry while it boots, or -1 */
};
#define KERNEL_REF_INIT { NULL, NULL, NULL, -1 }

enum kernel_id_kind kernel_id_classify(const char *id);

/* Resolve an identifier given explicitly.  0, or -1 after a message. */
int kernel_id_resolve(const char *id, unsigned flags, struct kernel_ref *ref);
/* Find a kernel when none was given: $KTSTR_TEST_KERNEL (an image path),
 * $KTSTR_KERNEL (an identifier), the newest cache entry, then the running
 * system's image.  0, or -1 after a message that names the ways to get one. */
int kernel_id_discover(unsigned flags, struct kernel_ref *ref);
void kernel_ref_release(struct kernel_ref *ref);
/* The build configuration of the kernel: <image dir>/config (cache entries,
 * the test assets), <image dir>/config-<release> (a /boot layout), or the
 * .config of the source tree that an arch/x86/boot/bzImage was built in.
 * A malloc'd path, or NULL when there is none. */
char *kernel_ref_config(const struct kernel_ref *ref);

#endif
