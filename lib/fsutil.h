/* File and directory helpers.  Functions returning int give 0 on success and
 * -1 with errno set on failure, and print nothing: callers name the object in
 * their own message.
 */
#ifndef KTSTR_FSUTIL_H
#define KTSTR_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int fs_mkdir_p(const char *path, mode_t mode);
/* Remove a file or a directory tree; a missing path is not an error. */
int fs_rm_rf(const char *path);
/* Read a whole file into a NUL-terminated buffer; *len (optional) gets its size. */
char *fs_read_file(const char *path, size_t *len);
/* Write through a temporary file in the same directory, fsync and rename. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
int fs_copy_file(const char *src, const char *dst, mode_t mode);
/* Write all of data to fd, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *data, size_t len);
/* Create a memory file (memfd) that contains data, positioned at its start,
 * for a child's stdin.  Returns its descriptor, or -1 with errno set. */
int fs_memfd_with(const char *name, const void *data, size_t len);

bool fs_is_dir(const char *path);
bool fs_is_file(const char *path);
bool fs_exists(const char *path);

char *fs_path_join(const char *dir, const char *name);
char *fs_dirname(const char *path);
const char *fs_basename(const char *path);
/* The absolute, symlink-free form of path, or NULL with errno set. */
char *fs_realpath(const char *path);

#endif
