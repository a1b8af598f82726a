/* The guest's initramfs.
 *
 * A cached base archive contains the guest agent as /init, a static busybox,
 * the included files and the shared libraries they need.  Each run appends a
 * small second archive with /ktstr/config; the kernel unpacks both in turn.
 *
 * The cache has two kinds of files.  <key>.key is named by a digest of what
 * identifies the inputs without reading them (guest path, host path, device,
 * inode, size, mtime, mode, and LD_LIBRARY_PATH), so an unchanged set costs a
 * few stat() calls; it lists the libraries found for the inputs with the same
 * identity (a change in any rebuilds) and names the archive.  <digest>.cpio
 * is named by the SHA-256 of its content, so inputs that were only touched
 * rebuild to the same file.
 */
#include "vmrun.h"

#include "diag.h"
#include "elfdeps.h"
#include "fsutil.h"
#include "initramfs.h"
#include "paths.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bump when the layout of the base archive changes, so old entries are not reused. */
#define BASE_FORMAT "ktstr-initramfs 1"
#define INCLUDE_ROOT "/include-files"
/* How many base archives the cache keeps, the most recently used. */
#define CACHE_KEEP 16

struct cache_file {
	char *path;
	struct timespec used;
};

static const char etc_passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
static const char etc_group[] = "root:x:0:\n";

void guest_inputs_add(struct guest_inputs *inputs, const char *host_path, const char *guest_path)
{
	strvec_push(&inputs->host_paths, host_path);
	strvec_push(&inputs->guest_paths, guest_path);
}

void guest_inputs_release(struct guest_inputs *inputs)
{
	strvec_release(&inputs->host_paths);
	strvec_release(&inputs->guest_paths);
	strvec_release(&inputs->exec_dirs);
}

static bool strvec_contains(const struct strvec *vec, const char *s)
{
	for (size_t i = 0; i < vec->len; i++) {
		if (!strcmp(vec->items[i], s))
			return true;
	}
	return false;
}

/* Add one included file, rejecting a second file at the same guest path. */
static int add_include_file(struct guest_inputs *inputs, const char *host_path,
			    const char *guest_path, const struct stat *st)
{
	if (strvec_contains(&inputs->guest_paths, guest_path))
		return err_msg("duplicate include path '%s': two -i arguments put a file there",
			       guest_path);
	guest_inputs_add(inputs, host_path, guest_path);
	if (st->st_mode & 0111) {
		char *dir = fs_dirname(guest_path);
		if (!strvec_contains(&inputs->exec_dirs, dir))
			strvec_push(&inputs->exec_dirs, dir);
		free(dir);
	}
	return 0;
}

/* Walk a directory (following symlinks) and add its regular files under
 * guest_dir; returns the number of files added, or -1. */
static int add_include_dir(struct guest_inputs *inputs, const char *host_dir, const char *guest_dir,
			   int depth)
{
	struct dirent **names;
	int count, added = 0;

	if (depth > 64)
		return err_msg("cannot include '%s': directories nest more than 64 deep (a symlink loop?)",
			       host_dir);
	count = scandir(host_dir, &names, NULL, alphasort);
	if (count < 0)
		return err_errno("cannot read the directory '%s'", host_dir);
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		struct stat st;

		if (added < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		char *host_path = fs_path_join(host_dir, name);
		char *guest_path = fs_path_join(guest_dir, name);
		if (stat(host_path, &st) != 0) {
			warn_errno("skipping '%s'", host_path);
		} else if (S_ISDIR(st.st_mode)) {
			int n = add_include_dir(inputs, host_path, guest_path, depth + 1);
			added = n < 0 ? -1 : added + n;
		} else if (S_ISREG(st.st_mode)) {
			added = add_include_file(inputs, host_path, guest_path, &st) < 0 ? -1 : added + 1;
		}
		/* FIFOs, sockets and devices are not files to copy. */
		free(host_path);
		free(guest_path);
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return added;
}

/* An -i argument with a slash or a leading dot is a path.  A bare name is
 * taken from the working directory, else from PATH. */
static char *find_include(const char *arg)
{
	bool explicit_path = strchr(arg, '/') || arg[0] == '.';

	if (explicit_path || fs_exists(arg)) {
		if (!fs_exists(arg)) {
			err_msg("cannot include '%s': no such file or directory", arg);
			return NULL;
		}
		return xstrdup(arg);
	}
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : "/usr/bin:/bin");
	char *found = NULL;
	for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
		char *candidate = fs_path_join(*dir ? dir : ".", arg);
		if (fs_is_file(candidate) && access(candidate, X_OK) == 0)
			found = candidate;
		else
			free(candidate);
	}
	free(copy);
	if (!found)
		err_msg("cannot include '%s': not found in the working directory or on PATH", arg);
	return found;
}

int guest_inputs_add_include(struct guest_inputs *inputs, const char *arg)
{
	char *host_path = find_include(arg);
	struct stat st;
	int ret = -1;

	if (!host_path)
		return -1;
	if (stat(host_path, &st) != 0) {
		err_errno("cannot include '%s'", arg);
		goto out;
	}
	char *name = xstrdup(fs_basename(host_path));
	size_t name_len = strlen(name);
	while (name_len > 1 && name[name_len - 1] == '/')
		name[--name_len] = '\0';
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "/")) {
		/* "-i ." or "-i /": name the directory after its real path. */
		char *real = fs_realpath(host_path);
		free(name);
		name = xstrdup(real && strcmp(real, "/") ? fs_basename(real) : "root");
		free(real);
	}
	char *guest_path = fs_path_join(INCLUDE_ROOT, name);
	if (S_ISDIR(st.st_mode)) {
		int added = add_include_dir(inputs, host_path, guest_path, 0);
		if (added == 0)
			warn_msg("the included directory '%s' has no regular files", arg);
		ret = added < 0 ? -1 : 0;
	} else if (S_ISREG(st.st_mode)) {
		ret = add_include_file(inputs, host_path, guest_path, &st);
	} else {
		err_msg("cannot include '%s': not a regular file or a directory", arg);
	}
	free(guest_path);
	free(name);
out:
	free(host_path);
	return ret;
}

/* ---- the cache key ---- */

static void digest_text(EVP_MD_CTX *ctx, const char *text)
{
	EVP_DigestUpdate(ctx, text, strlen(text) + 1);
}

/* "dev ino size mtime mode" of path, or NULL when it cannot be stat'ed. */
static char *file_identity(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return NULL;
	return xasprintf("%llu %llu %lld %lld.%09ld %o", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned)st.st_mode);
}

static char *inputs_key(const struct guest_inputs *inputs)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *key;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		die("cannot compute the initramfs cache key");
	digest_text(ctx, BASE_FORMAT);
	/* The library search depends on it, so a change must rebuild. */
	const char *library_path = getenv("LD_LIBRARY_PATH");
	digest_text(ctx, library_path ? library_path : "");
	for (size_t i = 0; i < inputs->host_paths.len; i++) {
		char *identity = file_identity(inputs->host_paths.items[i]);

		digest_text(ctx, inputs->guest_paths.items[i]);
		digest_text(ctx, inputs->host_paths.items[i]);
		digest_text(ctx, identity ? identity : "missing");
		free(identity);
	}
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	key = xmalloc(2 * len + 1);
	for (unsigned int i = 0; i < len; i++)
		sprintf(key + 2 * i, "%02x", md[i]);
	return key;
}

/* The key file: "lib IDENTITY<tab>PATH" lines for the libraries packed, and
 * "env NAME=VALUE" and "size BYTES" lines.  A hit when every library still
 * has its identity. */
static bool key_file_valid(const char *cache_dir, const char *key_path, struct guest_image *image)
{
	char *text = fs_read_file(key_path, NULL);
	bool valid = text != NULL;

	for (char *line = text ? strtok(text, "\n") : NULL; valid && line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "lib ", 4)) {
			char *tab = strchr(line, '\t');
			char *path = tab ? tab + 1 : line + 4;
			char *identity = file_identity(path);
			size_t id_len = tab ? (size_t)(tab - (line + 4)) : 0;
			valid = identity && strlen(identity) == id_len && !strncmp(identity, line + 4, id_len);
			free(identity);
		} else if (!strncmp(line, "archive ", 8)) {
			free(image->base);
			image->base = fs_path_join(cache_dir, line + 8);
		} else if (!strncmp(line, "env ", 4)) {
			strvec_push(&image->env, line + 4);
		} else if (!strncmp(line, "size ", 5)) {
			image->uncompressed_bytes = strtoull(line + 5, NULL, 10);
		}
	}
	free(text);
	if (valid && (!image->base || !fs_is_file(image->base)))
		valid = false;
	if (!valid) {
		strvec_release(&image->env);
		image->env = (struct strvec)STRVEC_INIT;
		free(image->base);
		image->base = NULL;
	}
	return valid;
}

/* ---- building the base archive ---- */

static int add_skeleton(struct initramfs *ar)
{
	static const char *const dirs[] = { "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/dev",
					    "/proc", "/sys", "/tmp", "/run", "/root", "/etc",
					    "/ktstr", INCLUDE_ROOT };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		mode_t mode = !strcmp(dirs[i], "/tmp") ? 01777 : !strcmp(dirs[i], "/root") ? 0700 : 0755;
		if (initramfs_add_dir(ar, dirs[i], mode) != 0)
			return -1;
	}
	/* The kernel opens /dev/console for init before devtmpfs is mounted. */
	if (initramfs_add_chardev(ar, "/dev/console", 5, 1, 0600) != 0 ||
	    initramfs_add_data(ar, "/etc/passwd", etc_passwd, strlen(etc_passwd), 0644) != 0 ||
	    initramfs_add_data(ar, "/etc/group", etc_group, strlen(etc_group), 0644) != 0)
		return -1;
	return 0;
}

/* Pack the libraries found for the inputs: each file once at its real path,
 * and a symlink at every other path it was found by. */
static int add_libraries(struct initramfs *ar, const struct elfdeps *deps, FILE *key_file)
{
	for (size_t i = 0; i < deps->paths.len; i++) {
		const char *path = deps->paths.items[i];
		char *real = fs_realpath(path);
		char *identity = file_identity(path);
		int ret = 0;

		if (!real || !identity) {
			ret = err_errno("cannot read the library '%s'", path);
		} else {
			if (!initramfs_has(ar, real))
				ret = initramfs_add_file(ar, real, real, 0);
			if (ret == 0 && strcmp(real, path) && !initramfs_has(ar, path))
				ret = initramfs_add_symlink(ar, path, real);
			fprintf(key_file, "lib %s\t%s\n", identity, path);
		}
		free(real);
		free(identity);
		if (ret != 0)
			return -1;
	}
	return 0;
}

/* Build the base archive, store it under its content digest and write the
 * key file that points at it. */
static int build_base(const struct guest_inputs *inputs, const char *cache_dir,
		      const char *key_path, struct guest_image *image)
{
	struct elfdeps deps = ELFDEPS_INIT;
	char *key_text = NULL, *building = NULL, *archive = NULL;
	char digest[65];
	size_t key_len = 0;
	FILE *key_file = open_memstream(&key_text, &key_len);
	struct initramfs *ar = NULL;
	int ret = -1;

	if (!key_file)
		die("out of memory");
	for (size_t i = 0; i < inputs->host_paths.len; i++) {
		if (elfdeps_add(&deps, inputs->host_paths.items[i]) != 0)
			goto out;
	}
	/* A name of this process's own: concurrent builds must not meet. */
	building = xasprintf("%s/build-%ld.cpio", cache_dir, (long)getpid());
	ar = initramfs_create(building);
	if (!ar || add_skeleton(ar) != 0)
		goto out;
	for (size_t i = 0; i < inputs->host_paths.len; i++) {
		if (initramfs_add_file(ar, inputs->guest_paths.items[i], inputs->host_paths.items[i], 0) != 0)
			goto out;
	}
	if (add_libraries(ar, &deps, key_file) != 0)
		goto out;
	if (deps.search_dirs.len) {
		fprintf(key_file, "env LD_LIBRARY_PATH=");
		for (size_t i = 0; i < deps.search_dirs.len; i++)
			fprintf(key_file, "%s%s", i ? ":" : "", deps.search_dirs.items[i]);
		fputc('\n', key_file);
	}
	image->uncompressed_bytes = initramfs_size(ar);
	fprintf(key_file, "size %llu\n", image->uncompressed_bytes);
	initramfs_digest(ar, digest);
	fprintf(key_file, "archive %s.cpio\n", digest);
	ret = initramfs_finish(ar);
	ar = NULL;
	fclose(key_file);
	key_file = NULL;
	if (ret != 0)
		goto out;

	/* The key goes in before the archive gets its final name.  A concurrent
	 * prune_cache() spares "build-*" archives and those a key names, so the
	 * archive is protected at every moment; with the order reversed, another
	 * run could delete it as unreferenced before this key existed.  Inputs
	 * that changed only in their stat data give the same archive. */
	archive = xasprintf("%s/%s.cpio", cache_dir, digest);
	if (fs_write_atomic(key_path, key_text, key_len, 0644) != 0) {
		ret = err_errno("cannot write the initramfs cache key '%s'", key_path);
		unlink(building);
		goto out;
	}
	if (rename(building, archive) != 0) {
		ret = err_errno("cannot rename '%s' to '%s'", building, archive);
		unlink(building);
		unlink(key_path);
		goto out;
	}
	strvec_release(&image->env);
	image->env = (struct strvec)STRVEC_INIT;
	if (!key_file_valid(cache_dir, key_path, image))
		ret = err_msg("the initramfs cache entry '%s' changed while it was written", key_path);
out:
	if (ar)
		initramfs_abort(ar);
	if (key_file)
		fclose(key_file);
	free(key_text);
	free(building);
	free(archive);
	elfdeps_release(&deps);
	return ret;
}

/* ---- the per-run initrd ---- */

static int copy_into(int dst, const char *src_path)
{
	int src = open(src_path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (src < 0 || fstat(src, &st) != 0) {
		if (src >= 0)
			close(src);
		return err_errno("cannot read '%s'", src_path);
	}
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(src, NULL, dst, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(src);
			return err_errno("cannot copy '%s'", src_path);
		}
		left -= n;
	}
	close(src);
	return 0;
}

/* The archive a key file points at, or NULL. */
static char *key_file_archive(const char *key_path)
{
	char *text = fs_read_file(key_path, NULL);
	char *line = text ? strstr(text, "\narchive ") : NULL;
	char *name = NULL;

	if (line) {
		line += strlen("\narchive ");
		name = xstrndup(line, strcspn(line, "\n"));
	}
	free(text);
	return name;
}

static int compare_newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cache_file *)a)->used;
	const struct timespec *y = &((const struct cache_file *)b)->used;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	if (x->tv_nsec != y->tv_nsec)
		return x->tv_nsec < y->tv_nsec ? 1 : -1;
	return 0;
}

/* Keep the key files of the CACHE_KEEP most recently used input sets, and
 * the archives those name; remove the rest.  Archives of builds in progress
 * ("build-PID.cpio") are left alone unless they are an hour old. */
static void prune_cache(const char *cache_dir)
{
	struct dirent **names;
	int count = scandir(cache_dir, &names, NULL, NULL);
	struct cache_file *keys;
	struct strvec kept = STRVEC_INIT;
	size_t len = 0;

	if (count < 0)
		return;
	keys = xcalloc((size_t)count + 1, sizeof(*keys));
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		size_t name_len = strlen(name);
		struct stat st;
		char *path = fs_path_join(cache_dir, name);

		if (name_len > 4 && !strcmp(name + name_len - 4, ".key") && stat(path, &st) == 0) {
			keys[len].path = path;
			keys[len].used = st.st_mtim;
			len++;
		} else {
			free(path);
		}
	}
	qsort(keys, len, sizeof(*keys), compare_newest_first);
	for (size_t i = 0; i < len; i++) {
		if (i < CACHE_KEEP) {
			char *archive = key_file_archive(keys[i].path);
			if (archive)
				strvec_push(&kept, archive);
			free(archive);
		} else {
			unlink(keys[i].path);
		}
		free(keys[i].path);
	}
	free(keys);
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		size_t name_len = strlen(name);
		bool is_archive = name_len > 5 && !strcmp(name + name_len - 5, ".cpio");
		char *path = fs_path_join(cache_dir, name);
		struct stat st;

		if (is_archive && !strncmp(name, "build-", 6)) {
			/* Left by a build that died; a live one finishes in seconds. */
			if (stat(path, &st) == 0 && st.st_mtime < time(NULL) - 3600)
				unlink(path);
		} else if (is_archive && !strvec_contains(&kept, name)) {
			unlink(path);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	strvec_release(&kept);
}

int guest_image_prepare(const struct guest_inputs *inputs, struct guest_image *image)
{
	char *cache_dir = paths_user_cache("initramfs");
	char *key = NULL, *key_path = NULL;
	int ret = -1;

	if (!cache_dir)
		return -1;
	if (fs_mkdir_p(cache_dir, 0755) != 0) {
		err_errno("cannot create the initramfs cache '%s'", cache_dir);
		goto out;
	}
	key = inputs_key(inputs);
	key_path = xasprintf("%s/%s.key", cache_dir, key);
	image->cache_hit = key_file_valid(cache_dir, key_path, image);
	if (image->cache_hit) {
		/* The key file's mtime records the last use, for pruning. */
		utimensat(AT_FDCWD, key_path, NULL, 0);
	} else {
		if (build_base(inputs, cache_dir, key_path, image) != 0)
			goto out;
		prune_cache(cache_dir);
	}
	ret = 0;
out:
	free(cache_dir);
	free(key);
	free(key_path);
	return ret;
}

int guest_image_write(struct guest_image *image, const char *config_text, const char *dir)
{
	int ret = -1;
	int fd;

	image->initrd = fs_path_join(dir, "initrd");
	fd = open(image->initrd, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno("cannot create '%s'", image->initrd);
	if (copy_into(fd, image->base) != 0)
		goto out;
	struct initramfs *ar = initramfs_open_fd(fd);
	if (!ar)
		goto out;
	if (initramfs_add_data(ar, "/ktstr/config", config_text, strlen(config_text), 0644) != 0) {
		initramfs_abort(ar);
		goto out;
	}
	if (image->kernel_config && image->kernel_release) {
		char *guest_path = xasprintf("/boot/config-%s", image->kernel_release);
		int added = initramfs_add_dir(ar, "/boot", 0755) == 0 &&
			    initramfs_add_file(ar, guest_path, image->kernel_config, 0644) == 0;
		free(guest_path);
		if (!added) {
			initramfs_abort(ar);
			goto out;
		}
	}
	ret = initramfs_finish(ar);
out:
	if (close(fd) != 0 && ret == 0)
		ret = err_errno("cannot write '%s'", image->initrd);
	return ret;
}

void guest_image_release(struct guest_image *image)
{
	free(image->base);
	free(image->initrd);
	image->base = NULL;
	strvec_release(&image->env);
	image->initrd = NULL;
}
