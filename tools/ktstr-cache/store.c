/* ktstr-cache store and key: put a kernel into the cache atomically.
 *
 * A store copies everything into <root>/.tmp-<key>-<pid>/, writes
 * metadata.json last, then renames the directory onto <root>/<key>, all
 * under the entry's exclusive lock.  SIGINT and SIGTERM remove the
 * temporary directory.  A store killed otherwise leaves only that
 * dot-prefixed directory, which no reader treats as an entry and the next
 * store or clean removes.
 */
#include "cache-tool.h"

#include "bzimage.h"
#include "cache.h"
#include "crc32.h"
#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "kdesc.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char store_usage[] =
	"Usage: ktstr-cache store [--force] [--field NAME] < DESCRIPTOR\n"
	"       ktstr-cache store --image PATH [--config FILE] [--vmlinux FILE]\n"
	"                         [--version V] [--force] [--field NAME]\n"
	"\n"
	"Store a kernel in the cache and print its descriptor with key, cache_path\n"
	"and image_path (now inside the cache) set.  Without --image the kernel\n"
	"descriptor JSON is read on stdin, as ktstr-build writes it.\n"
	"\n"
	"Options:\n"
	"  --image PATH      store a prebuilt x86 boot image (bzImage) as source 'image'\n"
	"  --config FILE     the image's kernel config (default: config-VERSION beside\n"
	"                    the image, if present)\n"
	"  --vmlinux FILE    the image's vmlinux, stored without DWARF\n"
	"  --version V       the image's kernel version (default: read from the image)\n"
	"  --force           replace a valid entry with the same key\n"
	"  --field NAME      print only this descriptor field (e.g. image_path)\n"
	"  -h, --help        print this help\n";

static const char key_usage[] =
	"Usage: ktstr-cache key < DESCRIPTOR\n"
	"\n"
	"Print the cache key that the kernel descriptor on stdin would be stored\n"
	"under.\n"
	"\n"
	"Options:\n"
	"  -h, --help        print this help\n";

struct store_opts {
	const char *image;
	const char *config;
	const char *vmlinux;
	const char *version;
	const char *field;
	bool force;
};

/* The temporary entry directory that SIGINT and SIGTERM remove, with the
 * line they print, both set before partial_armed is. */
static char partial_dir[PATH_MAX];
static char partial_removed_line[PATH_MAX + 128];
static char partial_kept_line[PATH_MAX + 128];
static volatile sig_atomic_t partial_armed;

/* Remove the files of a directory without subdirectories, then the
 * directory, with async-signal-safe calls only.  Unlinking while reading
 * can skip names, so it reads again until a pass finds nothing. */
static int remove_flat_dir(const char *path)
{
	char buf[4096] __attribute__((aligned(8)));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool removed_some = true;

	if (fd < 0)
		return -1;
	while (removed_some) {
		removed_some = false;
		lseek(fd, 0, SEEK_SET);
		long len;
		while ((len = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			for (long pos = 0; pos < len; ) {
				/* struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name. */
				unsigned short reclen;
				memcpy(&reclen, buf + pos + 16, sizeof(reclen));
				const char *name = buf + pos + 19;
				if (strcmp(name, ".") && strcmp(name, "..") && unlinkat(fd, name, 0) == 0)
					removed_some = true;
				pos += reclen;
			}
		}
	}
	close(fd);
	return rmdir(path);
}

static void write_line(const char *line)
{
	ssize_t unused = write(STDERR_FILENO, line, strlen(line));
	(void)unused;
}

/* SIGINT or SIGTERM: remove the partial entry, say so, then die of the
 * signal (SA_RESETHAND restored the default action), so the exit status
 * stays 128+N. */
static void on_interrupt(int sig)
{
	if (partial_armed)
		write_line(remove_flat_dir(partial_dir) == 0 ? partial_removed_line : partial_kept_line);
	raise(sig);
}

/* Catch SIGINT and SIGTERM, unless they are ignored (as in a background
 * job of a shell script, or under nohup). */
static void catch_interrupts(void)
{
	static const int signals[] = { SIGINT, SIGTERM };
	struct sigaction action, old;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_interrupt;
	action.sa_flags = SA_RESETHAND;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(signals[i], &action, NULL);
	}
}

/* Make SIGINT and SIGTERM remove dir and print one line, until
 * disarm_partial(). */
static void arm_partial(const char *dir)
{
	const char *label = getenv("KTSTR_LABEL");
	const char *name = label && *label ? label : diag_progname;

	snprintf(partial_dir, sizeof(partial_dir), "%s", dir);
	snprintf(partial_removed_line, sizeof(partial_removed_line),
		 "%s: interrupted; removed the partial entry '%s'\n", name, dir);
	snprintf(partial_kept_line, sizeof(partial_kept_line),
		 "%s: interrupted; cannot remove the partial entry '%s' (the next store or "
		 "clean removes it)\n", name, dir);
	partial_armed = 1;
}

static void disarm_partial(void)
{
	partial_armed = 0;
}

/* Optional files written to the temporary entry directory. */
struct stored_files {
	bool has_vmlinux;
	bool vmlinux_stripped;
	bool has_config;
};

static int sync_path(const char *path, bool directory)
{
	int fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int ret = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/* Copy src to dst and flush it, so that the rename that publishes the entry
 * never exposes a file whose data is still only in the page cache. */
static int copy_synced(const char *src, const char *dst)
{
	if (fs_copy_file(src, dst, 0644) != 0 || sync_path(dst, false) != 0)
		return -1;
	return 0;
}

/* Test hook: KTSTR_CACHE_TEST_PAUSE_MS pauses a store after the image copy,
 * so that a test can kill it at a known point.  Not for normal use. */
static void test_pause(void)
{
	const char *text = getenv("KTSTR_CACHE_TEST_PAUSE_MS");
	long ms = text ? strtol(text, NULL, 10) : 0;

	if (ms <= 0)
		return;
	struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&pause, NULL);
}

/* Copy vmlinux without DWARF, keeping symbols and .BTF; a raw copy when
 * objcopy is missing or fails. */
static int store_vmlinux(const char *src, const char *dst, struct stored_files *files)
{
	const char *argv[] = { "objcopy", "--strip-debug", src, dst, NULL };
	struct spawn child = SPAWN_INIT;
	child.argv = argv;
	child.stderr_fd = diag_verbose > 0 ? -1 : SPAWN_DEVNULL;
	int status = spawn_run(&child);
	if (status == 0 && sync_path(dst, false) == 0) {
		files->has_vmlinux = true;
		files->vmlinux_stripped = true;
		return 0;
	}
	unlink(dst);
	warn_msg("cannot strip '%s' with objcopy (status %d); storing it unstripped", src, status);
	if (copy_synced(src, dst) != 0)
		return err_errno("cannot copy vmlinux '%s'", src);
	files->has_vmlinux = true;
	files->vmlinux_stripped = false;
	return 0;
}

/* Fill dir with the image, vmlinux, config and, last, metadata.json. */
static int fill_entry(const char *dir, const struct kdesc *desc, const char *image_name,
		      struct stored_files *files)
{
	char *image = fs_path_join(dir, image_name);
	char *vmlinux = fs_path_join(dir, CACHE_VMLINUX);
	char *config = fs_path_join(dir, CACHE_CONFIG);
	char *metadata = fs_path_join(dir, CACHE_METADATA);
	int ret = -1;

	if (copy_synced(desc->image_path, image) != 0) {
		err_errno("cannot copy boot image '%s' into the cache", desc->image_path);
		goto free_paths;
	}
	test_pause();
	if (desc->vmlinux_path && store_vmlinux(desc->vmlinux_path, vmlinux, files) != 0)
		goto free_paths;
	if (desc->config_path) {
		if (copy_synced(desc->config_path, config) != 0) {
			err_errno("cannot copy kernel config '%s' into the cache", desc->config_path);
			goto free_paths;
		}
		files->has_config = true;
	}
	jv meta = cache_meta_build(desc, image_name, files->has_vmlinux, files->vmlinux_stripped,
				   files->has_config);
	if (json_write_file(metadata, meta) != 0) {
		err_errno("cannot write '%s'", metadata);
		goto free_paths;
	}
	if (sync_path(dir, true) != 0) {
		err_errno("cannot flush '%s'", dir);
		goto free_paths;
	}
	ret = 0;
free_paths:
	free(metadata);
	free(config);
	free(vmlinux);
	free(image);
	return ret;
}

/* Move tmp onto final.  When final exists, swap the two atomically and
 * delete what was swapped out, so readers see the old or the new entry and
 * never neither. */
static int publish_entry(const char *root, const char *tmp, const char *final)
{
	if (rename(tmp, final) == 0)
		goto sync_root;
	if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR && errno != ENOTDIR)
		return err_errno("cannot move the new entry to '%s'", final);
	if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0)
		return err_errno("cannot replace cache entry '%s'", final);
	if (fs_rm_rf(tmp) != 0)
		warn_errno("cannot remove the replaced entry, now at '%s'", tmp);
sync_root:
	if (sync_path(root, true) != 0)
		warn_errno("cannot flush cache root '%s'", root);
	return 0;
}

/* Point desc at the entry in the cache. */
static void describe_entry(struct kdesc *desc, const struct cache_entry *entry)
{
	free(desc->cache_path);
	free(desc->image_path);
	free(desc->vmlinux_path);
	free(desc->config_path);
	desc->cache_path = xstrdup(entry->path);
	desc->image_path = xstrdup(entry->image_path);
	desc->vmlinux_path = cache_entry_vmlinux(entry);
	desc->config_path = cache_entry_config(entry);
	if (!desc->built_at)
		desc->built_at = xstrdup(entry->meta.built_at);
	desc->cached = KDESC_CACHED_YES;
}

static const char *image_name_for(const char *arch)
{
	return !strcmp(arch, "aarch64") ? "Image" : "bzImage";
}

/* Store desc under key.  Returns 0 and updates desc, or -1 after a message. */
static int store_descriptor(struct kdesc *desc, const char *key, bool force)
{
	struct cache_entry existing;
	struct stored_files files = { false, false, false };
	char *root = cache_root_or_die();
	char *final = fs_path_join(root, key);
	char *tmp = xasprintf("%s/%s%s-%ld", root, CACHE_TEMP_PREFIX, key, (long)getpid());
	int ret = -1;

	cache_root_prepare(root);
	catch_interrupts();
	/* Another store of this key finishes first; 60 s covers a large vmlinux. */
	int lock = cache_lock_entry(root, key, LOCK_MODE_EXCLUSIVE, 60000);
	if (lock < 0) {
		if (errno == EWOULDBLOCK)
			err_msg("cannot lock cache entry '%s': another store, a clean or a running VM "
				"held it for 60 s", key);
		else
			err_errno("cannot lock cache entry '%s' in '%s'", key, root);
		goto free_paths;
	}
	cache_sweep_temp(root);

	int state = cache_entry_load(root, key, &existing);
	bool present = state == 0 || existing.error != CACHE_MISSING || fs_exists(final);
	if (state == 0 && !force) {
		status_line("already cached: %s (use --force to replace it)", key);
		describe_entry(desc, &existing);
		cache_entry_release(&existing);
		ret = 0;
		goto unlock;
	}
	cache_entry_release(&existing);

	fs_rm_rf(tmp);
	if (mkdir(tmp, 0755) != 0) {
		err_errno("cannot write to cache root '%s'", root);
		goto unlock;
	}
	arm_partial(tmp);
	if (fill_entry(tmp, desc, image_name_for(desc->arch), &files) != 0)
		goto remove_tmp;

	/* From here a signal leaves the entry whole: published or not yet. */
	sigset_t interrupts, saved_mask;
	sigemptyset(&interrupts);
	sigaddset(&interrupts, SIGINT);
	sigaddset(&interrupts, SIGTERM);
	sigprocmask(SIG_BLOCK, &interrupts, &saved_mask);
	disarm_partial();
	int published = publish_entry(root, tmp, final);
	if (published != 0)
		fs_rm_rf(tmp);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	if (published != 0)
		goto unlock;

	if (cache_entry_load(root, key, &existing) != 0) {
		err_msg("cache entry '%s' is corrupt right after storing it: %s", key,
			existing.error_text);
		cache_entry_release(&existing);
		goto unlock;
	}
	describe_entry(desc, &existing);
	cache_entry_release(&existing);
	status_line("%s kernel %s", present ? "replaced cached" : "cached", key);
	ret = 0;
	goto unlock;

remove_tmp:
	disarm_partial();
	fs_rm_rf(tmp);
unlock:
	lock_release(lock);
free_paths:
	free(tmp);
	free(final);
	free(root);
	return ret;
}

static void need_file(const char *what, const char *path)
{
	if (!fs_is_file(path)) {
		if (fs_exists(path))
			die("%s '%s' is not a regular file", what, path);
		die_errno("cannot read %s '%s'", what, path);
	}
}

/* A descriptor for a prebuilt image given on the command line. */
static void describe_image(const struct store_opts *opts, struct kdesc *desc)
{
	struct bzimage_info info;
	uint32_t crc;
	char hex[9];

	need_file("boot image", opts->image);
	int found = bzimage_read(opts->image, &info);
	if (found < 0)
		die_errno("cannot read boot image '%s'", opts->image);
	if (found > 0)
		die("'%s' is not an x86 boot image: no 'HdrS' setup header at offset 0x202", opts->image);

	const char *version = opts->version ? opts->version : info.release;
	if (!*version)
		die("boot image '%s' has no kernel version string; pass --version", opts->image);

	char *config = opts->config ? xstrdup(opts->config) : NULL;
	if (!config) {
		char *dir = fs_dirname(opts->image);
		char *beside = xasprintf("%s/config-%s", dir, version);
		free(dir);
		if (fs_is_file(beside)) {
			status_line("using kernel config '%s'", beside);
			config = beside;
		} else {
			free(beside);
		}
	}
	if (config)
		need_file("kernel config", config);
	if (opts->vmlinux)
		need_file("vmlinux", opts->vmlinux);

	/* Without a config, the image's own bytes tell two builds apart. */
	const char *hashed = config ? config : opts->image;
	if (crc32_file(hashed, &crc) != 0)
		die_errno("cannot read '%s'", hashed);

	desc->source_type = KDESC_SOURCE_IMAGE;
	desc->version = xstrdup(version);
	desc->arch = xstrdup("x86_64");
	desc->image_path = xstrdup(opts->image);
	desc->vmlinux_path = opts->vmlinux ? xstrdup(opts->vmlinux) : NULL;
	desc->config_path = config;
	desc->kconfig_hash = xstrdup(crc32_hex(crc, hex));
	desc->config_hash = config ? xstrdup(hex) : NULL;
}

/* The key of desc, or exit 2 naming why there is none. */
static char *key_or_die(const struct kdesc *desc)
{
	const char *why;
	char *key = kdesc_key(desc, &why);

	if (!key)
		die("cannot compute a cache key for the kernel descriptor: %s", why);
	if (!cache_key_valid(key, &why))
		die("invalid cache key '%s': %s", key, why);
	return key;
}

int cmd_store(int argc, char **argv)
{
	enum { OPT_IMAGE = 256, OPT_CONFIG, OPT_VMLINUX, OPT_VERSION, OPT_FIELD, OPT_FORCE };
	static const struct option options[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "field", required_argument, NULL, OPT_FIELD },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_opts opts = { 0 };
	struct kdesc desc;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_IMAGE: opts.image = optarg; break;
		case OPT_CONFIG: opts.config = optarg; break;
		case OPT_VMLINUX: opts.vmlinux = optarg; break;
		case OPT_VERSION: opts.version = optarg; break;
		case OPT_FIELD: opts.field = optarg; break;
		case OPT_FORCE: opts.force = true; break;
		case 'h': print_help(store_usage);
		default: option_error("store", c, argv);
		}
	}
	if (optind < argc)
		usage_error("store", "unexpected argument '%s'", argv[optind]);
	if (!opts.image && (opts.config || opts.vmlinux || opts.version))
		usage_error("store", "--config, --vmlinux and --version need --image");
	if (opts.version && !*opts.version)
		usage_error("store", "--version is empty; give the kernel release, such as 6.14.2");

	kdesc_init(&desc);
	if (opts.image)
		describe_image(&opts, &desc);
	else if (kdesc_read(stdin, "standard input", &desc) != 0)
		return KTSTR_EXIT_ERROR;
	/* Check --field before the store, so that a typo does not leave a
	 * new entry behind a failed command. */
	if (opts.field && !kdesc_field_valid(&desc, opts.field))
		die("unknown kernel descriptor field '%s'; nothing was stored", opts.field);

	const char *why;
	if (!kdesc_cacheable(&desc, &why)) {
		const char *tree = desc.source_tree_path ? desc.source_tree_path : desc.source_dir;
		status_line("not caching the kernel built from '%s': %s", tree ? tree : "?", why);
		desc.cached = KDESC_CACHED_NO;
		goto print;
	}

	char *key = key_or_die(&desc);
	if (!desc.image_path)
		die("cannot store '%s': the descriptor has no image_path (run ktstr-build first)", key);
	need_file("boot image", desc.image_path);
	if (desc.vmlinux_path)
		need_file("vmlinux", desc.vmlinux_path);
	if (desc.config_path)
		need_file("kernel config", desc.config_path);
	free(desc.key);
	desc.key = key;
	if (store_descriptor(&desc, key, opts.force) != 0) {
		kdesc_release(&desc);
		return KTSTR_EXIT_ERROR;
	}

print:;
	int ret = kdesc_write(stdout, &desc, opts.field);
	kdesc_release(&desc);
	return diag_close_stdout(ret ? KTSTR_EXIT_ERROR : KTSTR_EXIT_OK);
}

int cmd_key(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kdesc desc;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (c == 'h')
			print_help(key_usage);
		option_error("key", c, argv);
	}
	if (optind < argc)
		usage_error("key", "unexpected argument '%s'", argv[optind]);

	kdesc_init(&desc);
	if (kdesc_read(stdin, "standard input", &desc) != 0)
		return KTSTR_EXIT_ERROR;
	char *key = key_or_die(&desc);
	printf("%s\n", key);
	free(key);
	kdesc_release(&desc);
	return diag_close_stdout(KTSTR_EXIT_OK);
}
