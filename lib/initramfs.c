#include "initramfs.h"

#include "diag.h"
#include "fsutil.h"
#include "xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define COPY_CHUNK (256 * 1024)

struct initramfs {
	struct archive *archive;
	char *path;      /* final path for initramfs_create(), else NULL */
	char *tmp_path;
	int fd;
	bool own_fd;
	EVP_MD_CTX *digest;
	unsigned long long size;
	unsigned long next_ino;
	/* Open-addressing set of the guest paths added so far. */
	char **paths;
	size_t paths_len;
	size_t paths_cap;
};

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t path_slot(char **slots, size_t cap, const char *path)
{
	size_t i = (size_t)hash_path(path) & (cap - 1);

	while (slots[i] && strcmp(slots[i], path))
		i = (i + 1) & (cap - 1);
	return i;
}

static void remember_path(struct initramfs *ar, const char *path)
{
	if ((ar->paths_len + 1) * 2 > ar->paths_cap) {
		size_t cap = ar->paths_cap ? ar->paths_cap * 2 : 256;
		char **slots = xcalloc(cap, sizeof(*slots));

		for (size_t i = 0; i < ar->paths_cap; i++) {
			if (ar->paths[i])
				slots[path_slot(slots, cap, ar->paths[i])] = ar->paths[i];
		}
		free(ar->paths);
		ar->paths = slots;
		ar->paths_cap = cap;
	}
	size_t slot = path_slot(ar->paths, ar->paths_cap, path);
	if (!ar->paths[slot]) {
		ar->paths[slot] = xstrdup(path);
		ar->paths_len++;
	}
}

int initramfs_has(const struct initramfs *ar, const char *guest_path)
{
	while (*guest_path == '/')
		guest_path++;
	if (!ar->paths_cap)
		return 0;
	return ar->paths[path_slot(ar->paths, ar->paths_cap, guest_path)] != NULL;
}

static struct initramfs *start(int fd, bool own_fd)
{
	struct initramfs *ar = xcalloc(1, sizeof(*ar));

	ar->fd = fd;
	ar->own_fd = own_fd;
	ar->next_ino = 1;
	ar->archive = archive_write_new();
	ar->digest = EVP_MD_CTX_new();
	if (!ar->archive || !ar->digest || !EVP_DigestInit_ex(ar->digest, EVP_sha256(), NULL)) {
		err_msg("cannot start an initramfs archive: out of memory");
		goto fail;
	}
	/* Buffer writes in 64 KiB blocks but do not pad the last one, so the
	 * archive ends where its trailer does. */
	if (archive_write_set_format_cpio_newc(ar->archive) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(ar->archive, 65536) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(ar->archive, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(ar->archive, fd) != ARCHIVE_OK) {
		err_msg("cannot start an initramfs archive: %s", archive_error_string(ar->archive));
		goto fail;
	}
	return ar;
fail:
	if (ar->archive)
		archive_write_free(ar->archive);
	EVP_MD_CTX_free(ar->digest);
	free(ar);
	return NULL;
}

struct initramfs *initramfs_open_fd(int fd)
{
	return start(fd, false);
}

struct initramfs *initramfs_create(const char *path)
{
	char *tmp_path = xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp_path, O_CLOEXEC);

	if (fd < 0) {
		err_errno("cannot create '%s'", tmp_path);
		free(tmp_path);
		return NULL;
	}
	struct initramfs *ar = start(fd, true);
	if (!ar) {
		close(fd);
		unlink(tmp_path);
		free(tmp_path);
		return NULL;
	}
	ar->path = xstrdup(path);
	ar->tmp_path = tmp_path;
	return ar;
}

/* Feed one entry's identity into the content digest. */
static void digest_entry(struct initramfs *ar, char type, const char *path, mode_t mode,
			 const char *extra)
{
	char header[64];
	int n = snprintf(header, sizeof(header), "%c %o ", type, (unsigned)(mode & 07777));

	EVP_DigestUpdate(ar->digest, header, (size_t)n);
	EVP_DigestUpdate(ar->digest, path, strlen(path) + 1);
	if (extra)
		EVP_DigestUpdate(ar->digest, extra, strlen(extra) + 1);
}

/* The archive name of a guest path: no leading slash, as the kernel expects. */
static const char *entry_name(const char *guest_path)
{
	while (*guest_path == '/')
		guest_path++;
	return guest_path;
}

static struct archive_entry *new_entry(struct initramfs *ar, const char *name, mode_t type,
				       mode_t mode)
{
	struct archive_entry *entry = archive_entry_new();

	if (!entry)
		die("out of memory");
	archive_entry_set_pathname(entry, name);
	archive_entry_set_filetype(entry, type);
	archive_entry_set_perm(entry, mode & 07777);
	archive_entry_set_ino(entry, (int64_t)ar->next_ino++);
	archive_entry_set_nlink(entry, type == AE_IFDIR ? 2 : 1);
	archive_entry_set_uid(entry, 0);
	archive_entry_set_gid(entry, 0);
	archive_entry_set_size(entry, 0);
	return entry;
}

static int write_header(struct initramfs *ar, struct archive_entry *entry, const char *name)
{
	if (archive_write_header(ar->archive, entry) != ARCHIVE_OK) {
		err_msg("cannot add '/%s' to the initramfs: %s", name,
			archive_error_string(ar->archive));
		archive_entry_free(entry);
		return -1;
	}
	archive_entry_free(entry);
	remember_path(ar, name);
	return 0;
}

/* Add the missing parent directories of name, outermost first. */
static int add_parents(struct initramfs *ar, const char *name)
{
	char *copy = xstrdup(name);
	int ret = 0;

	for (char *slash = strchr(copy, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (*copy && !initramfs_has(ar, copy)) {
			digest_entry(ar, 'd', copy, 0755, NULL);
			if (write_header(ar, new_entry(ar, copy, AE_IFDIR, 0755), copy) != 0) {
				ret = -1;
				break;
			}
		}
		*slash = '/';
	}
	free(copy);
	return ret;
}

int initramfs_add_dir(struct initramfs *ar, const char *guest_path, mode_t mode)
{
	const char *name = entry_name(guest_path);

	if (!*name || initramfs_has(ar, name))
		return 0;
	if (add_parents(ar, name) != 0)
		return -1;
	digest_entry(ar, 'd', name, mode, NULL);
	return write_header(ar, new_entry(ar, name, AE_IFDIR, mode), name);
}

int initramfs_add_symlink(struct initramfs *ar, const char *guest_path, const char *target)
{
	const char *name = entry_name(guest_path);

	if (add_parents(ar, name) != 0)
		return -1;
	struct archive_entry *entry = new_entry(ar, name, AE_IFLNK, 0777);
	archive_entry_set_symlink(entry, target);
	digest_entry(ar, 'l', name, 0777, target);
	return write_header(ar, entry, name);
}

int initramfs_add_chardev(struct initramfs *ar, const char *guest_path, unsigned major,
			  unsigned minor, mode_t mode)
{
	const char *name = entry_name(guest_path);
	char numbers[32];

	if (add_parents(ar, name) != 0)
		return -1;
	struct archive_entry *entry = new_entry(ar, name, AE_IFCHR, mode);
	archive_entry_set_rdev(entry, makedev(major, minor));
	snprintf(numbers, sizeof(numbers), "%u:%u", major, minor);
	digest_entry(ar, 'c', name, mode, numbers);
	return write_header(ar, entry, name);
}

static int write_data(struct initramfs *ar, const char *name, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (archive_write_data(ar->archive, data, len) != (la_ssize_t)len)
		return err_msg("cannot add '/%s' to the initramfs: %s", name,
			       archive_error_string(ar->archive));
	EVP_DigestUpdate(ar->digest, data, len);
	ar->size += len;
	return 0;
}

int initramfs_add_data(struct initramfs *ar, const char *guest_path, const void *data,
		       size_t len, mode_t mode)
{
	const char *name = entry_name(guest_path);
	char size_text[32];

	if (add_parents(ar, name) != 0)
		return -1;
	struct archive_entry *entry = new_entry(ar, name, AE_IFREG, mode);
	archive_entry_set_size(entry, (int64_t)len);
	snprintf(size_text, sizeof(size_text), "%zu", len);
	digest_entry(ar, 'f', name, mode, size_text);
	if (write_header(ar, entry, name) != 0)
		return -1;
	return write_data(ar, name, data, len);
}

int initramfs_add_file(struct initramfs *ar, const char *guest_path, const char *host_path,
		       mode_t mode)
{
	const char *name = entry_name(guest_path);
	struct stat st;
	char size_text[32];
	int ret = -1;
	int fd = open(host_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_errno("cannot read '%s'", host_path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (!S_ISREG(st.st_mode))
			errno = EINVAL;
		err_errno("cannot read '%s'", host_path);
		goto out_close;
	}
	if (!mode)
		mode = st.st_mode & 07777;
	if (add_parents(ar, name) != 0)
		goto out_close;

	struct archive_entry *entry = new_entry(ar, name, AE_IFREG, mode);
	archive_entry_set_size(entry, st.st_size);
	archive_entry_set_mtime(entry, st.st_mtime, 0);
	snprintf(size_text, sizeof(size_text), "%lld", (long long)st.st_size);
	digest_entry(ar, 'f', name, mode, size_text);
	if (write_header(ar, entry, name) != 0)
		goto out_close;

	/* The header promised st_size bytes: write exactly that many, so a file
	 * that changes while it is read cannot corrupt the archive's framing. */
	char *buf = xmalloc(COPY_CHUNK);
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			err_errno("cannot read '%s'", host_path);
			free(buf);
			goto out_close;
		}
		if (write_data(ar, name, buf, (size_t)n) != 0) {
			free(buf);
			goto out_close;
		}
		left -= n;
	}
	free(buf);
	ret = 0;
out_close:
	close(fd);
	return ret;
}

unsigned long long initramfs_size(const struct initramfs *ar)
{
	return ar->size;
}

char *initramfs_digest(struct initramfs *ar, char *buf)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();

	if (!copy || !EVP_MD_CTX_copy_ex(copy, ar->digest) || !EVP_DigestFinal_ex(copy, md, &len))
		die("cannot compute the initramfs digest");
	EVP_MD_CTX_free(copy);
	for (unsigned int i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02x", md[i]);
	buf[2 * len] = '\0';
	return buf;
}

static void release(struct initramfs *ar)
{
	for (size_t i = 0; i < ar->paths_cap; i++)
		free(ar->paths[i]);
	free(ar->paths);
	EVP_MD_CTX_free(ar->digest);
	free(ar->path);
	free(ar->tmp_path);
	free(ar);
}

int initramfs_finish(struct initramfs *ar)
{
	int ret = 0;

	if (archive_write_close(ar->archive) != ARCHIVE_OK)
		ret = err_msg("cannot write the initramfs '%s': %s", ar->path ? ar->path : "(fd)",
			      archive_error_string(ar->archive));
	archive_write_free(ar->archive);
	if (ar->own_fd) {
		if (ret == 0 && fsync(ar->fd) != 0)
			ret = err_errno("cannot write the initramfs '%s'", ar->path);
		if (close(ar->fd) != 0 && ret == 0)
			ret = err_errno("cannot write the initramfs '%s'", ar->path);
		if (ret == 0 && rename(ar->tmp_path, ar->path) != 0)
			ret = err_errno("cannot rename '%s' to '%s'", ar->tmp_path, ar->path);
		if (ret != 0)
			unlink(ar->tmp_path);
	}
	release(ar);
	return ret;
}

void initramfs_abort(struct initramfs *ar)
{
	archive_write_free(ar->archive);
	if (ar->own_fd) {
		close(ar->fd);
		unlink(ar->tmp_path);
	}
	release(ar);
}
