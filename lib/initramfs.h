/* initramfs archives: newc cpio written with libarchive.
 *
 * Entries get their parent directories automatically, in the order the
 * kernel's unpacker needs.  Alongside the archive, a SHA-256 digest runs over
 * every entry's path, type, mode, link target and data (not over times or
 * inode numbers), so two archives with the same content get the same digest.
 * Archives can be concatenated: the kernel unpacks each in turn.
 */
#ifndef KTSTR_INITRAMFS_H
#define KTSTR_INITRAMFS_H

#include <stddef.h>
#include <sys/types.h>

struct initramfs;

/* Start an archive written to fd (left open), or to path through a temporary
 * file that initramfs_finish() renames into place.  NULL after a message. */
struct initramfs *initramfs_open_fd(int fd);
struct initramfs *initramfs_create(const char *path);

int initramfs_add_dir(struct initramfs *ar, const char *guest_path, mode_t mode);
/* Copy a host file's bytes to guest_path; mode 0 keeps the host file's permissions. */
int initramfs_add_file(struct initramfs *ar, const char *guest_path, const char *host_path,
		       mode_t mode);
int initramfs_add_data(struct initramfs *ar, const char *guest_path, const void *data,
		       size_t len, mode_t mode);
int initramfs_add_symlink(struct initramfs *ar, const char *guest_path, const char *target);
int initramfs_add_chardev(struct initramfs *ar, const char *guest_path, unsigned major,
			  unsigned minor, mode_t mode);
/* True when guest_path was already added (as any type). */
int initramfs_has(const struct initramfs *ar, const char *guest_path);

/* Bytes of entry data written so far (the uncompressed size, roughly). */
unsigned long long initramfs_size(const struct initramfs *ar);
/* The content digest as 64 hex digits into buf (at least 65 bytes). */
char *initramfs_digest(struct initramfs *ar, char *buf);

/* Write the trailer and close; for initramfs_create(), rename into place.
 * 0, or -1 after a message (the temporary file is removed). */
int initramfs_finish(struct initramfs *ar);
/* Give up: remove the temporary file and free everything. */
void initramfs_abort(struct initramfs *ar);

#endif
