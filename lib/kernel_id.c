#include "kernel_id.h"

#include "bzimage.h"
#include "cache.h"
#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "spawn.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The x86 boot image inside a built source tree. */
#define TREE_IMAGE "arch/x86/boot/bzImage"

enum kernel_id_kind kernel_id_classify(const char *id)
{
	struct kver version;

	if (fs_is_dir(id))
		return KERNEL_ID_SOURCE_TREE;
	if (fs_exists(id))
		return KERNEL_ID_IMAGE;
	if (strchr(id, '/') || id[0] == '.' || id[0] == '~')
		return KERNEL_ID_MISSING_PATH;
	if (kver_parse(id, &version) == 0)
		return KERNEL_ID_VERSION;
	return KERNEL_ID_CACHE_KEY;
}

/* The command users type, for hints: "ktstr" or "cargo ktstr" from the
 * dispatcher, or the program's own name when run directly. */
static const char *user_label(void)
{
	const char *label = getenv("KTSTR_LABEL");

	return label && *label ? label : NULL;
}

void kernel_ref_release(struct kernel_ref *ref)
{
	if (ref->hold_fd >= 0)
		cache_release_image(ref->hold_fd);
	free(ref->image_path);
	free(ref->origin);
	free(ref->release);
	*ref = (struct kernel_ref)KERNEL_REF_INIT;
}

/* Check that path is a boot image and fill ref; -1 after a message. */
static int use_image(const char *path, const char *origin, struct kernel_ref *ref)
{
	struct bzimage_info info;
	int kind = bzimage_read(path, &info);

	if (kind < 0)
		return err_errno("cannot read the kernel image '%s'", path);
	if (kind > 0)
		return err_msg("cannot boot '%s': not a boot image (no bzImage header)", path);
	ref->image_path = fs_realpath(path);
	if (!ref->image_path)
		return err_errno("cannot read the kernel image '%s'", path);
	ref->origin = xstrdup(origin);
	ref->release = info.release[0] ? xstrdup(info.release) : NULL;
	ref->hold_fd = cache_hold_image(ref->image_path);
	if (ref->hold_fd == CACHE_HOLD_FAILED) {
		ref->hold_fd = -1;
		kernel_ref_release(ref);
		return -1;
	}
	if (ref->hold_fd < 0)
		ref->hold_fd = -1;
	return 0;
}

static int reject_image(const char *id)
{
	const char *label = user_label();

	if (label && !strcmp(label, "ktstr"))
		return err_msg("'ktstr shell' does not boot a raw image file ('%s'); use "
			       "'cargo ktstr shell --kernel %s', or give a source tree, a version or a cache key",
			       id, id);
	return err_msg("'%s' is a raw image file; pass --allow-image to boot it, or give a source "
		       "tree, a version or a cache key", id);
}

/* Run argv with stdout captured.  Its stderr goes to ours, except that when
 * quiet it is held back and shown only if the status is neither 0 nor 1:
 * a miss (1) stays quiet, but the cause of a failure still reaches the
 * user.  Returns the status, or -1 when it could not start. */
static int capture(const char *const *argv, bool quiet, char **out)
{
	struct spawn child = SPAWN_INIT;
	FILE *held = quiet ? tmpfile() : NULL;
	int status;

	child.argv = argv;
	if (held)
		child.stderr_fd = fileno(held);
	status = spawn_capture_child(&child, out, NULL);
	if (held && status != 0 && status != 1) {
		char buf[4096];
		size_t len;

		rewind(held);
		fflush(stderr);
		while ((len = fread(buf, 1, sizeof(buf), held)) > 0)
			fwrite(buf, 1, len, stderr);
	}
	if (held)
		fclose(held);
	return status;
}

/* Ask ktstr-cache for the image of id (NULL: the newest entry).  Returns 0
 * with *path set, or 1 when the cache has none (ktstr-cache printed why unless
 * quiet), or -1 after a message, also when quiet. */
static int cache_lookup(const char *id, bool sched_ext, bool quiet, char **path)
{
	char *tool = paths_tool("ktstr-cache");
	const char *argv[6] = { tool, "lookup", NULL, NULL, NULL, NULL };
	char *out = NULL;
	int status;

	if (id) {
		argv[2] = id;
	} else {
		argv[2] = "--newest";
		argv[3] = sched_ext ? "--sched-ext" : NULL;
	}
	status = capture(argv, quiet, &out);
	free(tool);
	if (status == 0) {
		out[strcspn(out, "\n")] = '\0';
		if (*out) {
			*path = out;
			return 0;
		}
		free(out);
		return err_msg("cannot look up the kernel '%s' in the cache: 'ktstr-cache lookup' "
			       "printed no path", id ? id : "newest");
	}
	free(out);
	if (status == 1)
		return 1;
	if (status == KTSTR_EXIT_NOTFOUND)
		return err_msg("cannot look up kernels: ktstr-cache is not installed next to %s",
			       diag_progname);
	/* ktstr-cache printed the cause (such as an unreadable cache root). */
	if (status == KTSTR_EXIT_ERROR)
		return -1;
	return err_msg("cannot look up the kernel '%s' in the cache: ktstr-cache failed "
				   "with status %d", id ? id : "newest", status);
}

static int resolve_cached(const char *id, struct kernel_ref *ref)
{
	char *path = NULL;
	int found = cache_lookup(id, false, false, &path);

	/* On a miss ktstr-cache has already printed which 'kernel build' to run. */
	if (found != 0)
		return -1;
	int ret = use_image(path, "the cache", ref);
	free(path);
	return ret;
}

/* Configure and build a source tree through the dispatcher's kernel chain. */
static int resolve_tree(const char *dir, struct kernel_ref *ref)
{
	char *makefile = fs_path_join(dir, "Makefile");
	char *kconfig = fs_path_join(dir, "Kconfig");
	bool is_tree = fs_is_file(makefile) && fs_is_file(kconfig);
	int ret = -1;

	free(makefile);
	free(kconfig);
	if (!is_tree)
		return err_msg("'%s' is not a kernel source tree (no Makefile or Kconfig)", dir);

	char *tool = paths_tool("ktstr");
	const char *argv[] = { tool, "kernel", "build", "--source", dir, NULL };
	char *out = NULL;
	int status = capture(argv, false, &out);
	free(tool);
	if (status != 0) {
		err_msg("cannot build the kernel in '%s': 'ktstr kernel build --source' failed with status %d",
			dir, status);
		goto out;
	}

	enum json_error kind;
	char *why = NULL;
	jv desc = json_parse(out, strlen(out), &kind, &why);
	const char *image = jv_is_valid(desc) ? json_str(desc, "image_path") : NULL;
	if (!image)
		err_msg("cannot build the kernel in '%s': 'ktstr kernel build' printed no image_path%s%s",
			dir, why ? ": " : "", why ? why : "");
	else
		ret = use_image(image, "a source tree", ref);
	jv_free(desc);
	free(why);
out:
	free(out);
	return ret;
}

int kernel_id_resolve(const char *id, unsigned flags, struct kernel_ref *ref)
{
	*ref = (struct kernel_ref)KERNEL_REF_INIT;
	if (!*id)
		return err_msg("empty kernel identifier: give a source tree, a version or a cache key");
	switch (kernel_id_classify(id)) {
	case KERNEL_ID_SOURCE_TREE:
		return resolve_tree(id, ref);
	case KERNEL_ID_IMAGE:
		if (!fs_is_file(id))
			return err_msg("cannot boot '%s': not a regular file", id);
		if (!(flags & KERNEL_ID_ALLOW_IMAGE)) {
			/* Say what it is first: a file that is no image gets that message. */
			struct bzimage_info info;
			if (bzimage_read(id, &info) != 0)
				return use_image(id, "--kernel", ref);
			return reject_image(id);
		}
		return use_image(id, "--kernel", ref);
	case KERNEL_ID_MISSING_PATH:
		return err_msg("kernel path '%s' does not exist", id);
	case KERNEL_ID_VERSION:
	case KERNEL_ID_CACHE_KEY:
		return resolve_cached(id, ref);
	}
	return -1;
}

/* $KTSTR_KERNEL: like --kernel, except that a directory is searched for a
 * built image instead of being built. */
static int resolve_env_kernel(const char *value, unsigned flags, struct kernel_ref *ref)
{
	if (!fs_is_dir(value))
		return kernel_id_resolve(value, flags | KERNEL_ID_ALLOW_IMAGE, ref);

	static const char *const candidates[] = { TREE_IMAGE, "bzImage" };
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		char *path = fs_path_join(value, candidates[i]);
		int ret = fs_is_file(path) ? use_image(path, "KTSTR_KERNEL", ref) : 1;
		free(path);
		if (ret <= 0)
			return ret;
	}
	return err_msg("KTSTR_KERNEL '%s' contains no kernel image (%s or bzImage); build it with "
		       "'ktstr kernel build --source %s'", value, TREE_IMAGE, value);
}

/* Whether the running system's kernel may be used: always, unless sched_ext
 * is required and its /boot/config does not show it. */
static bool running_kernel_fits(const char *release, unsigned flags)
{
	if (!(flags & KERNEL_ID_REQUIRE_SCHED_EXT))
		return true;
	char *path = xasprintf("/boot/config-%s", release);
	char *config = fs_read_file(path, NULL);
	bool fits = config && strstr(config, "\nCONFIG_SCHED_CLASS_EXT=y\n");

	if (!fits)
		info_msg("skipping the running kernel %s: %s does not show CONFIG_SCHED_CLASS_EXT=y",
			 release, path);
	free(config);
	free(path);
	return fits;
}

int kernel_id_discover(unsigned flags, struct kernel_ref *ref)
{
	const char *test_kernel = getenv("KTSTR_TEST_KERNEL");
	const char *env_kernel = getenv("KTSTR_KERNEL");
	char *path = NULL;
	struct utsname uts;

	*ref = (struct kernel_ref)KERNEL_REF_INIT;
	if (test_kernel && *test_kernel) {
		if (!fs_is_file(test_kernel))
			return err_msg("KTSTR_TEST_KERNEL '%s' does not exist", test_kernel);
		return use_image(test_kernel, "KTSTR_TEST_KERNEL", ref);
	}
	if (env_kernel && *env_kernel)
		return resolve_env_kernel(env_kernel, flags, ref);

	/* The newest sched_ext kernel in the cache; without a scheduler to run,
	 * any cached kernel will do. */
	int found = cache_lookup(NULL, true, true, &path);
	if (found == 1 && !(flags & KERNEL_ID_REQUIRE_SCHED_EXT))
		found = cache_lookup(NULL, false, true, &path);
	if (found < 0)
		return -1;
	if (found == 0) {
		int ret = use_image(path, "the cache", ref);
		free(path);
		return ret;
	}

	if (uname(&uts) == 0 && running_kernel_fits(uts.release, flags)) {
		char *candidates[] = { xasprintf("/lib/modules/%s/vmlinuz", uts.release),
				       xasprintf("/boot/vmlinuz-%s", uts.release) };
		int ret = 1;
		for (size_t i = 0; i < 2; i++) {
			if (ret == 1 && access(candidates[i], R_OK) == 0)
				ret = use_image(candidates[i], "the running system", ref);
			free(candidates[i]);
		}
		if (ret <= 0)
			return ret;
	}
	const char *label = user_label() ? user_label() : "ktstr";
	return err_msg("no kernel found: give --kernel, set KTSTR_KERNEL, or build one with '%s kernel "
		       "build'", label);
}

char *kernel_ref_config(const struct kernel_ref *ref)
{
	char *dir = fs_dirname(ref->image_path);
	char *candidates[3] = { fs_path_join(dir, "config"), NULL, NULL };
	char *found = NULL;

	if (ref->release)
		candidates[1] = xasprintf("%s/config-%s", dir, ref->release);
	/* <tree>/arch/x86/boot/bzImage: the tree is three levels up. */
	if (!strcmp(fs_basename(ref->image_path), "bzImage") && strstr(ref->image_path, "/arch/x86/boot/"))
		candidates[2] = xasprintf("%s/../../../.config", dir);
	for (size_t i = 0; i < 3; i++) {
		if (!found && candidates[i] && fs_is_file(candidates[i]))
			found = candidates[i];
		else
			free(candidates[i]);
	}
	free(dir);
	return found;
}
