/* ktstr-cache list: the cached kernels, newest first, corrupt ones last. */
#include "cache-tool.h"

#include "cache.h"
#include "diag.h"
#include "json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char list_usage[] =
	"Usage: ktstr-cache list [--json]\n"
	"\n"
	"List cached kernels, newest first, corrupt entries last: key, version,\n"
	"source type, arch and build time on stdout, the cache root and the\n"
	"meaning of markers on stderr.\n"
	"\n"
	"Markers:\n"
	"  (stale kconfig)      built with another share/ktstr.kconfig\n"
	"  (stale ktstr)        built by another ktstr version\n"
	"  (untracked kconfig)  a prebuilt image: no fragment, never stale\n"
	"  (corrupt: REASON)    unusable; 'clean' removes it\n"
	"\n"
	"Options:\n"
	"  --json            print one JSON object with every metadata field\n"
	"  -h, --help        print this help\n";

/* Column widths: upstream's 48 and 12, wider when a key or version is longer. */
struct list_widths {
	int key;
	int version;
};

/* Markers printed in the table, so that their legends follow it. */
struct list_marks {
	bool untracked;
	bool stale_kconfig;
	bool stale_ktstr;
	size_t corrupt;
};

static void print_row(const struct cache_entry *entry, const struct list_widths *widths,
		      const char *current, struct list_marks *marks)
{
	if (entry->error) {
		printf("  %-*s (corrupt: %s)\n", widths->key, entry->key, entry->error_text);
		marks->corrupt++;
		return;
	}
	const struct cache_meta *meta = &entry->meta;
	printf("  %-*s %-*s %-8s %-7s %s", widths->key, entry->key, widths->version,
	       meta->version ? meta->version : "-",
	       kdesc_source_name(meta->source_type), meta->arch, meta->built_at);
	switch (cache_entry_kconfig_status(entry, current)) {
	case CACHE_KCONFIG_STALE:
		printf(" (stale kconfig)");
		marks->stale_kconfig = true;
		break;
	case CACHE_KCONFIG_UNTRACKED:
		printf(" (untracked kconfig)");
		marks->untracked = true;
		break;
	case CACHE_KCONFIG_MATCHES:
	case CACHE_KCONFIG_UNKNOWN:
		break;
	}
	if (cache_entry_stale_ktstr(entry)) {
		printf(" (stale ktstr)");
		marks->stale_ktstr = true;
	}
	putchar('\n');
}

static void print_legends(const struct list_marks *marks, const char *root)
{
	const char *cmd = user_command();

	if (marks->untracked)
		fprintf(stderr, "(untracked kconfig): a prebuilt image or an entry without a fragment "
			"hash; it is never marked stale\n");
	if (marks->stale_kconfig)
		fprintf(stderr, "(stale kconfig): built with another share/ktstr.kconfig; rebuild with "
			"'%s kernel build --force VERSION'\n", cmd);
	if (marks->stale_ktstr)
		fprintf(stderr, "(stale ktstr): built by another ktstr version than %s; rebuild with "
			"'%s kernel build --force VERSION'\n", KTSTR_VERSION, cmd);
	if (marks->corrupt)
		fprintf(stderr, "%zu corrupt %s in '%s'; remove %s with '%s kernel clean --corrupt-only'\n",
			marks->corrupt, marks->corrupt == 1 ? "entry" : "entries", root,
			marks->corrupt == 1 ? "it" : "them", cmd);
}

static int list_human(const char *root, const struct cache_list *list, const char *current)
{
	struct list_marks marks = { false, false, false, 0 };
	struct list_widths widths = { 48, 12 };

	fprintf(stderr, "cache: %s\n", root);
	if (list->len == 0) {
		fprintf(stderr, "no cached kernels; run '%s kernel build' to download and build one\n",
			user_command());
		return 0;
	}
	for (size_t i = 0; i < list->len; i++) {
		const struct cache_entry *entry = &list->items[i];
		if ((int)strlen(entry->key) > widths.key)
			widths.key = (int)strlen(entry->key);
		if (entry->meta.version && (int)strlen(entry->meta.version) > widths.version)
			widths.version = (int)strlen(entry->meta.version);
	}
	printf("  %-*s %-*s %-8s %-7s %s\n", widths.key, "KEY", widths.version, "VERSION", "SOURCE",
	       "ARCH", "BUILT");
	for (size_t i = 0; i < list->len; i++)
		print_row(&list->items[i], &widths, current, &marks);
	fflush(stdout);
	print_legends(&marks, root);
	return 0;
}

static int list_json(const char *root, const struct cache_list *list, const char *current)
{
	jv entries = jv_array();
	jv doc = jv_object();

	for (size_t i = 0; i < list->len; i++)
		entries = jv_array_append(entries, cache_entry_to_json(&list->items[i], current));
	doc = jv_object_set(doc, jv_string("cache_root"), jv_string(root));
	doc = jv_object_set(doc, jv_string("current_ktstr_kconfig_hash"), json_string_or_null(current));
	doc = jv_object_set(doc, jv_string("ktstr_version"), jv_string(KTSTR_VERSION));
	doc = jv_object_set(doc, jv_string("entries"), entries);
	return json_print(stdout, doc, true);
}

int cmd_list(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option options[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cache_list list;
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case 'h': print_help(list_usage);
		default: option_error("list", c, argv);
		}
	}
	if (optind < argc)
		usage_error("list", "unexpected argument '%s'", argv[optind]);

	char *root = cache_root_or_die();
	if (cache_scan(root, &list) != 0) {
		free(root);
		return KTSTR_EXIT_ERROR;
	}
	char *current = cache_kconfig_hash();
	int ret = json ? list_json(root, &list, current) : list_human(root, &list, current);
	free(current);
	cache_list_release(&list);
	free(root);
	return diag_close_stdout(ret ? KTSTR_EXIT_ERROR : KTSTR_EXIT_OK);
}
