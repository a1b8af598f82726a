/* ktstr-kconfig: give a kernel tree a .config that can run sched_ext.
 *
 *   ktstr-fetch 6.14.2 | ktstr-kconfig | ktstr-build | ktstr-cache store
 *   ktstr-kconfig ~/linux             configure a tree without a descriptor
 *
 * A .config that already sets CONFIG_SCHED_CLASS_EXT=y is left alone.
 * Otherwise: `make defconfig` when there is no .config, append
 * share/ktstr.kconfig, `make olddefconfig`.  Then every option of the
 * fragment that the kernel dropped or set differently is reported, and a
 * kernel without sched_ext is an error.
 */
#include "crc32.h"
#include "diag.h"
#include "fsutil.h"
#include "kbuild.h"
#include "kdesc.h"
#include "paths.h"
#include "progress.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SENTINEL "CONFIG_SCHED_CLASS_EXT"
#define LOG_NAME ".ktstr-kconfig.log"

static const char usage[] =
	"Usage: ktstr-kconfig [OPTIONS] [TREE]\n"
	"\n"
	"Configure a kernel tree for sched_ext testing.  Reads the kernel\n"
	"descriptor from ktstr-fetch on stdin, or works on TREE, and prints the\n"
	"descriptor with config_path, config_hash and kconfig_hash set.\n"
	"\n"
	"A .config that already has CONFIG_SCHED_CLASS_EXT=y is kept as it is.\n"
	"Otherwise 'make defconfig' runs when there is no .config, the fragment\n"
	"share/ktstr.kconfig is appended and 'make olddefconfig' runs.  Fragment\n"
	"options that the kernel dropped or changed are reported; a kernel without\n"
	"sched_ext is an error.\n"
	"\n"
	"Options:\n"
	"  -O, --build-dir DIR  keep the .config and build output in DIR (kbuild's O=)\n"
	"      --clean          run 'make mrproper' first\n"
	"      --hash           print the fragment's CRC-32 (the kc part of cache\n"
	"                       keys) and exit\n"
	"      --field NAME     print only this field of the descriptor\n"
	"  -v, --verbose        copy make's output to stderr\n"
	"  -h, --help           print this help\n";

enum {
	OPT_CLEAN = 256,
	OPT_HASH,
	OPT_FIELD,
};

static const struct option long_options[] = {
	{ "build-dir", required_argument, NULL, 'O' },
	{ "clean", no_argument, NULL, OPT_CLEAN },
	{ "hash", no_argument, NULL, OPT_HASH },
	{ "field", required_argument, NULL, OPT_FIELD },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct kconfig_opts {
	const char *tree;
	const char *build_dir;
	const char *field;
	bool clean;
	bool hash_only;
};

/* One option of the fragment: "CONFIG_X=value", or "# CONFIG_X is not set"
 * which is value "n". */
struct option_value {
	char *name;
	char *value;
};

struct option_list {
	struct option_value *items;
	size_t len;
};

static void option_list_release(struct option_list *list)
{
	for (size_t i = 0; i < list->len; i++) {
		free(list->items[i].name);
		free(list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->len = 0;
}

/* Parse kconfig assignments from text; later assignments of a symbol win. */
static void parse_options(const char *text, struct option_list *list)
{
	for (const char *line = text; *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = xstrndup(line, len);
		char *name = NULL, *value = NULL;

		copy[strcspn(copy, "\r")] = '\0';
		if (!strncmp(copy, "CONFIG_", 7) && strchr(copy, '=')) {
			char *eq = strchr(copy, '=');
			name = xstrndup(copy, (size_t)(eq - copy));
			value = xstrdup(eq + 1);
		} else if (!strncmp(copy, "# CONFIG_", 9)) {
			char *space = strchr(copy + 2, ' ');
			if (space && !strcmp(space, " is not set")) {
				name = xstrndup(copy + 2, (size_t)(space - copy - 2));
				value = xstrdup("n");
			}
		}
		if (name) {
			size_t i;
			for (i = 0; i < list->len && strcmp(list->items[i].name, name); i++)
				;
			if (i == list->len) {
				list->items = xrealloc(list->items, (list->len + 1) * sizeof(*list->items));
				list->items[list->len++] = (struct option_value){ name, value };
			} else {
				free(list->items[i].value);
				list->items[i].value = value;
				free(name);
			}
		}
		free(copy);
		line = end ? end + 1 : line + len;
	}
}

/* The value of name in list; "n" when it is absent, as kconfig treats it. */
static const char *option_get(const struct option_list *list, const char *name)
{
	for (size_t i = 0; i < list->len; i++) {
		if (!strcmp(list->items[i].name, name))
			return list->items[i].value;
	}
	return "n";
}

static bool has_sentinel(const char *config_text)
{
	const char *want = SENTINEL "=y";
	size_t len = strlen(want);

	for (const char *line = config_text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, want, len) && (line[len] == '\n' || line[len] == '\0'))
			return true;
	}
	return false;
}

static void parse_args(int argc, char **argv, struct kconfig_opts *opts)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "O:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'O':
			opts->build_dir = optarg;
			break;
		case OPT_CLEAN:
			opts->clean = true;
			break;
		case OPT_HASH:
			opts->hash_only = true;
			break;
		case OPT_FIELD:
			opts->field = optarg;
			break;
		case 'v':
			diag_verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		default:
			die_usage("invalid option");
		}
	}
	if (optind < argc)
		opts->tree = argv[optind++];
	if (optind < argc)
		die_usage("unexpected argument '%s': give at most one TREE", argv[optind]);
}

/* Set an extra descriptor field that lib/kdesc keeps but does not model. */
static void set_extra(struct kdesc *desc, const char *name, jv value)
{
	if (!jv_is_valid(desc->object)) {
		jv_free(desc->object);
		desc->object = jv_object();
	}
	desc->object = jv_object_set(desc->object, jv_string(name), value);
}

static const char *get_extra(const struct kdesc *desc, const char *name)
{
	if (!jv_is_valid(desc->object))
		return NULL;
	jv value = jv_object_get(jv_copy(desc->object), jv_string(name));
	const char *text = jv_get_kind(value) == JV_KIND_STRING ? jv_string_value(value) : NULL;
	/* desc->object keeps the string alive after this reference goes. */
	jv_free(value);
	return text;
}

static int load_descriptor(const struct kconfig_opts *opts, struct kdesc *desc)
{
	kdesc_init(desc);
	if (!opts->tree) {
		if (isatty(STDIN_FILENO))
			die_usage("no kernel descriptor: pipe in the output of ktstr-fetch, or name a TREE");
		return kdesc_read(stdin, "stdin", desc);
	}
	char *real = fs_realpath(opts->tree);
	if (!real)
		return err_errno("kernel source tree '%s' not found", opts->tree);
	desc->source_type = KDESC_SOURCE_LOCAL;
	desc->source_tree_path = xstrdup(real);
	desc->source_dir = real;
	desc->arch = xstrdup("x86_64");
	return 0;
}

/* Run one make target, or print why it failed and return -1. */
static int run_make(const struct kbuild *build, const char *target, const char *objdir)
{
	int status = kbuild_make(build, target);

	if (status == 0)
		return 0;
	if (status > 0) {
		char *cause = kbuild_log_cause(build->log_path);
		err_msg("make %s failed in '%s' (exit %d): %s; see the log '%s'", target, objdir, status,
			cause ? cause : "no output", build->log_path);
		free(cause);
	}
	return -1;
}

static int append_fragment(const char *config, const char *fragment_text, size_t fragment_len)
{
	size_t old_len = 0;
	char *old = fs_read_file(config, &old_len);
	if (!old)
		return err_errno("cannot read '%s'", config);

	char *merged = xmalloc(old_len + fragment_len + 2);
	memcpy(merged, old, old_len);
	size_t len = old_len;
	if (len && merged[len - 1] != '\n')
		merged[len++] = '\n';
	memcpy(merged + len, fragment_text, fragment_len);
	len += fragment_len;
	int ret = fs_write_atomic(config, merged, len, 0644);
	if (ret != 0)
		err_errno("cannot write '%s'", config);
	free(merged);
	free(old);
	return ret;
}

/* A hint on the usual cause, for the options that are often dropped. */
static const char *drop_hint(const char *name)
{
	if (!strcmp(name, "CONFIG_DEBUG_INFO_BTF"))
		return " (it needs pahole 1.22 or later: install the Debian package dwarves)";
	if (!strcmp(name, SENTINEL))
		return " (it needs BPF_SYSCALL, BPF_JIT and DEBUG_INFO_BTF)";
	return "";
}

static char *describe_difference(const char *name, const char *wanted, const char *got)
{
	if (!strcmp(got, "n"))
		return xasprintf("%s=%s was dropped%s", name, wanted, drop_hint(name));
	if (!strcmp(wanted, "n"))
		return xasprintf("%s is set to %s, the fragment turns it off", name, got);
	return xasprintf("%s is set to %s, the fragment asks for %s", name, got, wanted);
}

/* Compare the final .config with the fragment.  Returns the number of
 * differences and fills *changed with their names (a JSON array). */
static size_t report_differences(const struct option_list *fragment, const struct option_list *final,
				 bool applied, const char *config, jv *changed)
{
	size_t count = 0;
	char *names = xstrdup("");

	*changed = jv_array();
	for (size_t i = 0; i < fragment->len; i++) {
		const char *name = fragment->items[i].name;
		const char *wanted = fragment->items[i].value;
		const char *got = option_get(final, name);

		if (!strcmp(wanted, got))
			continue;
		/* A missing sentinel is the error that follows, not a warning. */
		if (applied && !strcmp(name, SENTINEL)) {
			*changed = jv_array_append(*changed, jv_string(name));
			count++;
			continue;
		}
		count++;
		*changed = jv_array_append(*changed, jv_string(name));
		if (applied) {
			char *what = describe_difference(name, wanted, got);
			warn_msg("'make olddefconfig' changed the fragment: %s", what);
			free(what);
		} else {
			char *longer = xasprintf("%s%s%s", names, *names ? ", " : "", name);
			free(names);
			names = longer;
		}
	}
	if (applied && count)
		warn_msg("kbuild drops options whose dependencies are not met; install what they need "
			 "and configure again");
	if (!applied && count)
		warn_msg("'%s' already enables sched_ext, so the fragment was not applied; %zu of its "
			 "options differ: %s", config, count, names);
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	struct kconfig_opts opts = { 0 };
	struct kdesc desc;
	struct kbuild build = { 0 };
	struct progress bar = PROGRESS_INIT;
	struct option_list fragment = { NULL, 0 }, final = { NULL, 0 };
	char hash[9], config_hash[9];
	char *fragment_path, *fragment_text, *objdir = NULL, *config = NULL, *log = NULL;
	char *config_text = NULL;
	size_t fragment_len, config_len;
	int status = KTSTR_EXIT_ERROR;
	jv changed = jv_invalid();

	diag_init(argv[0]);
	parse_args(argc, argv, &opts);

	char *share_path = paths_share_file("ktstr.kconfig");
	fragment_path = fs_realpath(share_path);
	if (!fragment_path)
		die_errno("cannot read the kconfig fragment '%s'", share_path);
	free(share_path);
	fragment_text = fs_read_file(fragment_path, &fragment_len);
	if (!fragment_text)
		die_errno("cannot read the kconfig fragment '%s'", fragment_path);
	crc32_hex(crc32_buffer(fragment_text, fragment_len), hash);
	if (opts.hash_only) {
		printf("%s\n", hash);
		return diag_close_stdout(KTSTR_EXIT_OK);
	}
	parse_options(fragment_text, &fragment);

	if (load_descriptor(&opts, &desc) != 0)
		goto release_desc;
	if (!desc.source_dir) {
		err_msg("the kernel descriptor has no source_dir: run ktstr-fetch without --resolve-only");
		goto release_desc;
	}
	if (!kbuild_is_kernel_tree(desc.source_dir)) {
		err_msg("not a kernel source tree '%s': it has no top-level Makefile and Kconfig",
			desc.source_dir);
		goto release_desc;
	}

	const char *build_dir = opts.build_dir ? opts.build_dir : get_extra(&desc, "build_dir");
	if (build_dir) {
		if (fs_mkdir_p(build_dir, 0755) != 0) {
			err_errno("cannot create the build directory '%s'", build_dir);
			goto release_desc;
		}
		objdir = fs_realpath(build_dir);
		set_extra(&desc, "build_dir", jv_string(objdir));
	} else {
		objdir = xstrdup(desc.source_dir);
	}
	config = fs_path_join(objdir, ".config");
	log = fs_path_join(objdir, LOG_NAME);
	if (truncate(log, 0) != 0 && errno != ENOENT) {
		err_errno("cannot reset the log '%s'", log);
		goto release_desc;
	}
	build.source_dir = desc.source_dir;
	build.build_dir = build_dir ? objdir : NULL;
	build.log_path = log;
	build.bar = &bar;
	progress_begin(&bar, "configuring:", 0);

	if (opts.clean) {
		info_msg("cleaning '%s' (make mrproper)", objdir);
		if (run_make(&build, "mrproper", objdir) != 0)
			goto release_desc;
	}

	config_text = fs_read_file(config, NULL);
	bool applied = !config_text || !has_sentinel(config_text);
	if (applied) {
		if (!config_text) {
			info_msg("no .config in '%s': running make defconfig", objdir);
			if (run_make(&build, "defconfig", objdir) != 0)
				goto release_desc;
		}
		info_msg("merging '%s' into '%s' (make olddefconfig)", fragment_path, config);
		if (append_fragment(config, fragment_text, fragment_len) != 0 ||
		    run_make(&build, "olddefconfig", objdir) != 0)
			goto release_desc;
		free(config_text);
		config_text = NULL;
	}
	progress_end(&bar);

	if (!config_text && !(config_text = fs_read_file(config, &config_len))) {
		err_errno("cannot read '%s'", config);
		goto release_desc;
	}
	config_len = strlen(config_text);
	parse_options(config_text, &final);
	report_differences(&fragment, &final, applied, config, &changed);
	set_extra(&desc, "kconfig_dropped", jv_copy(changed));
	if (strcmp(option_get(&final, SENTINEL), "y") != 0) {
		err_msg("the kernel in '%s' cannot run sched_ext: %s=y was dropped from '%s'%s; see the log '%s'",
			desc.source_dir, SENTINEL, config, drop_hint(SENTINEL), log);
		status = KTSTR_EXIT_NO;
		goto release_desc;
	}

	crc32_hex(crc32_buffer(config_text, config_len), config_hash);
	free(desc.config_path);
	desc.config_path = xstrdup(config);
	free(desc.config_hash);
	desc.config_hash = xstrdup(config_hash);
	free(desc.kconfig_hash);
	desc.kconfig_hash = xstrdup(hash);
	status = kdesc_write(stdout, &desc, opts.field) == 0 ? KTSTR_EXIT_OK : KTSTR_EXIT_ERROR;

release_desc:
	progress_end(&bar);
	jv_free(changed);
	kdesc_release(&desc);
	option_list_release(&final);
	option_list_release(&fragment);
	free(config_text);
	free(log);
	free(config);
	free(objdir);
	free(fragment_text);
	free(fragment_path);
	return diag_close_stdout(status);
}
