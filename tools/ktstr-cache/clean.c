/* ktstr-cache clean: remove cached kernels, never one that a VM is booting.
 *
 * Each entry is removed under its exclusive lock, taken without waiting: a
 * reader (cache_hold_image()) holds the shared lock while it uses the entry,
 * so a busy entry is skipped with a warning.  The entry is first renamed to
 * a dot-prefixed name, so an interrupted removal never leaves a half entry
 * that readers would list.
 */
#include "cache-tool.h"

#include "cache.h"
#include "diag.h"
#include "fsutil.h"
#include "numarg.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char clean_usage[] =
	"Usage: ktstr-cache clean [--keep N | --corrupt-only] [--force]\n"
	"\n"
	"Remove cached kernels: all of them, all but the N newest valid ones, or\n"
	"only corrupt ones.  Corrupt entries are always removed.  Entries that a\n"
	"running VM holds are skipped with a warning.  Work directories that\n"
	"failed or killed kernel builds left in <root>/.build/ go as well,\n"
	"except with --corrupt-only.\n"
	"\n"
	"Options:\n"
	"  --keep N          keep the N newest valid entries (0 removes all)\n"
	"  --corrupt-only    remove only corrupt entries\n"
	"  --force           do not ask; needed when stdin is not a terminal\n"
	"  -h, --help        print this help\n";

struct clean_opts {
	long keep;          /* -1: no --keep */
	bool corrupt_only;
	bool force;
};

static long parse_keep(const char *text)
{
	unsigned long long value;

	if (numarg_parse(text, 0, INT_MAX, &value) != 0)
		usage_error("clean", "invalid --keep '%s': expected a number of entries, 0 or more", text);
	return (long)value;
}

/* Mark the entries to remove; returns how many. */
static size_t select_entries(const struct cache_list *list, const struct clean_opts *opts, bool *doomed)
{
	size_t valid_seen = 0, count = 0;

	for (size_t i = 0; i < list->len; i++) {
		const struct cache_entry *entry = &list->items[i];
		if (entry->error)
			doomed[i] = true;
		else if (opts->corrupt_only)
			doomed[i] = false;
		else
			doomed[i] = opts->keep < 0 || valid_seen++ >= (size_t)opts->keep;
		count += doomed[i];
	}
	return count;
}

/* Prompt on the terminal; true when the reply is y or Y. */
static bool confirm(const struct cache_list *list, const bool *doomed, size_t count,
		    const struct strvec *builds)
{
	char answer[16];

	for (size_t i = 0; i < list->len; i++) {
		if (doomed[i])
			fprintf(stderr, "  %s%s\n", list->items[i].key,
				list->items[i].error ? " (corrupt)" : "");
	}
	for (size_t i = 0; i < builds->len; i++)
		fprintf(stderr, "  " CACHE_BUILD_DIR "/%s (left by a failed build)\n", builds->items[i]);
	if (!builds->len)
		fprintf(stderr, "remove %zu %s? [y/N] ", count, count == 1 ? "entry" : "entries");
	else
		fprintf(stderr, "remove %zu %s and %zu build %s? [y/N] ", count, count == 1 ? "entry" : "entries",
			builds->len, builds->len == 1 ? "directory" : "directories");
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	return (answer[0] == 'y' || answer[0] == 'Y') && (answer[1] == '\n' || answer[1] == '\0');
}

/* Remove one entry.  Returns 0, 1 when a reader has it locked, or -1 (errno). */
static int remove_entry(const char *root, const struct cache_entry *entry)
{
	char *doomed = xasprintf("%s/%s%s-%ld", root, CACHE_TEMP_PREFIX, entry->key, (long)getpid());
	int ret = -1;

	int lock = cache_lock_entry(root, entry->key, LOCK_MODE_EXCLUSIVE, 0);
	if (lock < 0) {
		ret = errno == EWOULDBLOCK ? 1 : -1;
		goto free_path;
	}
	if (rename(entry->path, doomed) != 0)
		goto unlock;
	ret = fs_rm_rf(doomed);
unlock:
	lock_release(lock);
free_path:;
	int saved = errno;
	free(doomed);
	errno = saved;
	return ret;
}

/* Fill names with the work directories that kernel builds left in
 * <root>/.build/ (real directories only, not symbolic links). */
static void list_builds(const char *root, struct strvec *names)
{
	char *builds = fs_path_join(root, CACHE_BUILD_DIR);
	DIR *dir = opendir(builds);
	struct dirent *ent;

	while (dir && (ent = readdir(dir))) {
		struct stat st;

		if (ent->d_name[0] == '.')
			continue;
		char *path = fs_path_join(builds, ent->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			strvec_push(names, ent->d_name);
		free(path);
	}
	if (dir)
		closedir(dir);
	free(builds);
}

/* Remove the listed build directories whose build lock is free: a running
 * build keeps its own.  Returns how many went. */
static size_t remove_builds(const char *root, const struct strvec *names)
{
	char *locks = fs_path_join(root, CACHE_LOCK_DIR);
	size_t removed = 0;

	if (fs_mkdir_p(locks, 0777) != 0)
		warn_errno("cannot create the lock directory '%s'", locks);
	for (size_t i = 0; i < names->len; i++) {
		char *path = xasprintf("%s/" CACHE_BUILD_DIR "/%s", root, names->items[i]);
		char *lock_path = xasprintf("%s/" CACHE_BUILD_LOCK_PREFIX "%s.lock", locks, names->items[i]);
		int lock = lock_acquire(lock_path, LOCK_MODE_EXCLUSIVE, 0);

		if (lock < 0 && errno == EWOULDBLOCK) {
			warn_msg("not removing the build directory '%s': a build of it is running", path);
		} else if (lock < 0) {
			warn_errno("not removing the build directory '%s': cannot lock '%s'", path, lock_path);
		} else if (fs_rm_rf(path) != 0) {
			warn_errno("cannot remove the build directory '%s'", path);
			lock_release(lock);
		} else {
			removed++;
			lock_remove(lock_path, lock);
		}
		free(lock_path);
		free(path);
	}
	free(locks);
	return removed;
}

/* Return whether the lock file name (without ".lock") still guards something:
 * an entry, or a build directory. */
static bool lock_in_use(const char *root, const char *name)
{
	char *entry = fs_path_join(root, name);
	bool used = fs_exists(entry);

	free(entry);
	if (!used && !strncmp(name, CACHE_BUILD_LOCK_PREFIX, strlen(CACHE_BUILD_LOCK_PREFIX))) {
		char *build = xasprintf("%s/" CACHE_BUILD_DIR "/%s", root, name + strlen(CACHE_BUILD_LOCK_PREFIX));
		used = fs_exists(build);
		free(build);
	}
	return used;
}

/* Remove lock files of entries and builds that no longer exist, each under
 * its own exclusive lock, so that .locks does not grow with every key ever
 * stored or built. */
static void sweep_locks(const char *root)
{
	char *locks = fs_path_join(root, CACHE_LOCK_DIR);
	DIR *dir = opendir(locks);
	struct dirent *ent;

	while (dir && (ent = readdir(dir))) {
		size_t len = strlen(ent->d_name);
		if (ent->d_name[0] == '.' || len <= 5 || strcmp(ent->d_name + len - 5, ".lock") != 0)
			continue;
		char *name = xstrndup(ent->d_name, len - 5);
		char *path = fs_path_join(locks, ent->d_name);
		if (!lock_in_use(root, name)) {
			int lock = lock_acquire(path, LOCK_MODE_EXCLUSIVE, 0);
			/* Checked again under the lock: a store may have just made the entry. */
			if (lock >= 0 && lock_in_use(root, name))
				lock_release(lock);
			else if (lock >= 0)
				lock_remove(path, lock);
		}
		free(path);
		free(name);
	}
	if (dir)
		closedir(dir);
	free(locks);
}

/* Write what the sweeps removed into text, or "" when nothing. */
static void describe_leftovers(char *text, size_t size, size_t swept, size_t builds)
{
	size_t used = 0;

	text[0] = '\0';
	if (swept)
		used = (size_t)snprintf(text, size, "%zu partial %s left by interrupted stores", swept,
					swept == 1 ? "entry" : "entries");
	if (builds && used < size)
		snprintf(text + used, size - used, "%s%zu build %s left by failed builds", used ? " and " : "",
			 builds, builds == 1 ? "directory" : "directories");
}

int cmd_clean(int argc, char **argv)
{
	enum { OPT_KEEP = 256, OPT_CORRUPT_ONLY, OPT_FORCE };
	static const struct option options[] = {
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "corrupt-only", no_argument, NULL, OPT_CORRUPT_ONLY },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct clean_opts opts = { -1, false, false };
	struct cache_list list;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_KEEP: opts.keep = parse_keep(optarg); break;
		case OPT_CORRUPT_ONLY: opts.corrupt_only = true; break;
		case OPT_FORCE: opts.force = true; break;
		case 'h': print_help(clean_usage);
		default: option_error("clean", c, argv);
		}
	}
	if (optind < argc)
		usage_error("clean", "unexpected argument '%s'", argv[optind]);
	if (opts.keep >= 0 && opts.corrupt_only)
		usage_error("clean", "--keep and --corrupt-only cannot be combined");

	char *root = cache_root_or_die();
	if (cache_scan(root, &list) != 0) {
		free(root);
		return KTSTR_EXIT_ERROR;
	}
	size_t swept = cache_sweep_temp(root);
	char swept_text[192] = "";
	struct strvec builds = STRVEC_INIT;

	/* --corrupt-only removes corrupt entries and nothing else. */
	if (!opts.corrupt_only)
		list_builds(root, &builds);
	bool *doomed = xcalloc(list.len ? list.len : 1, sizeof(*doomed));
	size_t count = select_entries(&list, &opts, doomed);
	int ret = KTSTR_EXIT_OK;
	if (count == 0 && builds.len == 0) {
		describe_leftovers(swept_text, sizeof(swept_text), swept, 0);
		if (*swept_text)
			status_line("removed %s", swept_text);
		else
			status_line("nothing to clean in '%s'", root);
		sweep_locks(root);
		goto release;
	}
	/* Nothing is removed before the user confirms, lock files included. */
	if (!opts.force) {
		if (!isatty(STDIN_FILENO)) {
			err_msg("removing %zu cached kernel(s)%s needs confirmation, but stdin is not a "
				"terminal; pass --force", count, builds.len ? " and build directories" : "");
			ret = KTSTR_EXIT_ERROR;
			goto release;
		}
		if (!confirm(&list, doomed, count, &builds)) {
			status_line("aborted; nothing removed");
			goto release;
		}
	}

	describe_leftovers(swept_text, sizeof(swept_text), swept, remove_builds(root, &builds));
	size_t removed = 0, busy = 0, failed = 0;
	for (size_t i = 0; i < list.len; i++) {
		if (!doomed[i])
			continue;
		int result = remove_entry(root, &list.items[i]);
		if (result == 0) {
			removed++;
		} else if (result > 0) {
			busy++;
			warn_msg("not removing cached kernel '%s': it is in use (a VM or store holds "
				 "its lock)", list.items[i].key);
		} else {
			failed++;
			err_errno("cannot remove cached kernel '%s'", list.items[i].key);
		}
	}
	if (count)
		status_line("removed %zu cached kernel(s)%s%s%s", removed, *swept_text ? " and " : "",
			    swept_text, busy ? ", skipped the ones in use" : "");
	else if (*swept_text)
		status_line("removed %s", swept_text);
	else
		status_line("nothing removed");
	if (failed) {
		err_msg("removed %zu of %zu cached kernels; see the errors above", removed, count);
		ret = KTSTR_EXIT_ERROR;
	}
	sweep_locks(root);
release:
	strvec_release(&builds);
	free(doomed);
	cache_list_release(&list);
	free(root);
	return ret;
}
