/* ktstr-cache lookup: resolve a key, a version or a series to a boot image. */
#include "cache-tool.h"

#include "cache.h"
#include "diag.h"
#include "json.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char lookup_usage[] =
	"Usage: ktstr-cache lookup [--json] ID\n"
	"       ktstr-cache lookup [--json] --newest [--sched-ext]\n"
	"\n"
	"Print the path of a cached boot image.  ID is a cache key, a version\n"
	"(6.14.2, matching tarball and image entries) or a major.minor series\n"
	"(6.12: its newest cached release).  Entries built with the current\n"
	"share/ktstr.kconfig win over stale ones, then the newest.\n"
	"\n"
	"Options:\n"
	"  --json            print the cache entry as a JSON object instead\n"
	"  --newest          the newest valid entry instead of ID\n"
	"  --sched-ext       with --newest: only entries whose stored config has\n"
	"                    CONFIG_SCHED_CLASS_EXT=y\n"
	"  -h, --help        print this help\n"
	"\n"
	"Exit status: 0 found, 1 not in the cache, 2 error.\n";

struct lookup_opts {
	bool json;
	bool newest;
	bool sched_ext;
	const char *id;
};

/* Say why nothing matched and what builds it. */
static void report_miss(const struct lookup_opts *opts, const char *root,
			const struct cache_entry *corrupt)
{
	struct kver version;

	if (corrupt && corrupt->key && corrupt->error) {
		err_msg("cached kernel '%s' is corrupt (%s); remove it with '%s kernel clean "
			"--corrupt-only' and build it again", corrupt->key, corrupt->error_text,
			user_command());
		return;
	}
	if (opts->newest) {
		err_msg("no cached kernel%s in '%s'; run '%s kernel build' to build one",
			opts->sched_ext ? " with CONFIG_SCHED_CLASS_EXT=y" : "", root, user_command());
		return;
	}
	if (kver_parse(opts->id, &version) == 0) {
		err_msg("kernel %s%s is not cached; run '%s kernel build %s'", opts->id,
			kver_is_series(&version) ? ".x" : "", user_command(), opts->id);
		return;
	}
	err_msg("no cached kernel with key '%s'; '%s kernel list' shows the cached ones",
		opts->id, user_command());
}

static void warn_if_stale(const struct cache_entry *entry)
{
	char *current = cache_kconfig_hash();

	if (cache_entry_kconfig_status(entry, current) == CACHE_KCONFIG_STALE)
		warn_msg("cached kernel '%s' was built with another share/ktstr.kconfig; "
			 "rebuild it with '%s kernel build --force%s%s'", entry->key, user_command(),
			 entry->meta.version ? " " : "", entry->meta.version ? entry->meta.version : "");
	free(current);
}

int cmd_lookup(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_NEWEST, OPT_SCHED_EXT };
	static const struct option options[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "newest", no_argument, NULL, OPT_NEWEST },
		{ "sched-ext", no_argument, NULL, OPT_SCHED_EXT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lookup_opts opts = { 0 };
	struct cache_entry entry;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: opts.json = true; break;
		case OPT_NEWEST: opts.newest = true; break;
		case OPT_SCHED_EXT: opts.sched_ext = true; break;
		case 'h': print_help(lookup_usage);
		default: option_error("lookup", c, argv);
		}
	}
	if (opts.newest && optind < argc)
		usage_error("lookup", "--newest takes no ID, got '%s'", argv[optind]);
	if (!opts.newest && optind + 1 != argc)
		usage_error("lookup", optind < argc ? "too many arguments" : "missing ID (a cache key or a version)");
	if (opts.sched_ext && !opts.newest)
		usage_error("lookup", "--sched-ext needs --newest");
	opts.id = opts.newest ? NULL : argv[optind];

	char *root = cache_root_or_die();
	int found = opts.newest ? cache_find_newest(root, opts.sched_ext, &entry) :
		cache_find(root, opts.id, &entry);
	if (found < 0) {
		free(root);
		return KTSTR_EXIT_ERROR;
	}
	if (found > 0) {
		report_miss(&opts, root, &entry);
		cache_entry_release(&entry);
		free(root);
		return KTSTR_EXIT_NO;
	}

	warn_if_stale(&entry);
	if (opts.json) {
		char *current = cache_kconfig_hash();
		json_print(stdout, cache_entry_to_json(&entry, current), true);
		free(current);
	} else {
		printf("%s\n", entry.image_path);
	}
	cache_entry_release(&entry);
	free(root);
	return diag_close_stdout(KTSTR_EXIT_OK);
}
