/* ktstr-cache: the kernel image cache.
 *
 *   ktstr-build ... | ktstr-cache store     store a built kernel
 *   ktstr-cache store --image PATH          store a prebuilt boot image
 *   ktstr-cache key                         the key a descriptor would get
 *   ktstr-cache lookup ID                   resolve a key or version
 *   ktstr-cache list | clean                show or remove entries
 */
#include "cache-tool.h"

#include "cache.h"
#include "diag.h"
#include "fsutil.h"
#include "paths.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage: ktstr-cache COMMAND [OPTIONS]\n"
	"\n"
	"The kernel image cache of ktstr.\n"
	"\n"
	"Commands:\n"
	"  store [--force] [--field NAME]   store the kernel descriptor read on stdin\n"
	"  store --image PATH [--config FILE] [--vmlinux FILE] [--version V]\n"
	"                                   store a prebuilt boot image\n"
	"  key                              print the cache key of the descriptor on stdin\n"
	"  lookup [--json] ID               print the boot image of a key, version or series\n"
	"  lookup [--json] --newest [--sched-ext]\n"
	"                                   print the newest usable boot image\n"
	"  list [--json]                    list cached kernels, newest first\n"
	"  clean [--keep N | --corrupt-only] [--force]\n"
	"                                   remove cached kernels\n"
	"\n"
	"Run 'ktstr-cache COMMAND --help' for the options of a command.\n"
	"The cache root is $KTSTR_CACHE_DIR, else $XDG_CACHE_HOME/ktstr/kernels,\n"
	"else $HOME/.cache/ktstr/kernels.\n";

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
	{ "store", cmd_store },
	{ "key", cmd_key },
	{ "lookup", cmd_lookup },
	{ "list", cmd_list },
	{ "clean", cmd_clean },
	{ NULL, NULL },
};

const char *user_command(void)
{
	const char *label = getenv("KTSTR_LABEL");

	return label && *label ? label : "cargo ktstr";
}

void status_line(const char *fmt, ...)
{
	const char *label = getenv("KTSTR_LABEL");
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", label && *label ? label : diag_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void print_help(const char *text)
{
	const char *label = getenv("KTSTR_LABEL");
	const char *name = "ktstr-cache ";

	/* Run as "<label> kernel list|clean", show the command the user typed. */
	for (const char *p = text; *p; ) {
		const char *found = label && *label ? strstr(p, name) : NULL;
		if (!found) {
			fputs(p, stdout);
			break;
		}
		fwrite(p, 1, (size_t)(found - p), stdout);
		printf("%s kernel ", label);
		p = found + strlen(name);
	}
	exit(diag_close_stdout(KTSTR_EXIT_OK));
}

void usage_error(const char *sub, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", diag_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help' for more information.\n", diag_progname, sub);
	exit(KTSTR_EXIT_ERROR);
}

void option_error(const char *sub, int result, char **argv)
{
	const char *option = argv[optind - 1];

	if (result == ':')
		usage_error(sub, "option '%s' needs a value", option);
	if (optopt && strncmp(option, "--", 2))
		usage_error(sub, "unknown option '-%c'", optopt);
	usage_error(sub, "unknown option '%s'", option);
}

char *cache_root_or_die(void)
{
	char *root = paths_cache_root();

	if (!root)
		exit(KTSTR_EXIT_ERROR);
	return root;
}

void cache_root_prepare(const char *root)
{
	char *locks = fs_path_join(root, CACHE_LOCK_DIR);

	if (fs_mkdir_p(root, 0777) != 0)
		die_errno("cannot create cache root '%s'", root);
	if (fs_mkdir_p(locks, 0777) != 0)
		die_errno("cannot create the lock directory '%s'", locks);
	free(locks);
}

/* The pid at the end of ".tmp-<key>-<pid>", or 0. */
static long temp_owner(const char *name)
{
	const char *dash = strrchr(name, '-');
	char *end;

	if (!dash || !dash[1])
		return 0;
	long pid = strtol(dash + 1, &end, 10);
	return *end || pid <= 0 ? 0 : pid;
}

size_t cache_sweep_temp(const char *root)
{
	DIR *dir = opendir(root);
	struct dirent *ent;
	size_t removed = 0;

	if (!dir)
		return 0;
	while ((ent = readdir(dir))) {
		if (strncmp(ent->d_name, CACHE_TEMP_PREFIX, strlen(CACHE_TEMP_PREFIX)))
			continue;
		long pid = temp_owner(ent->d_name);
		if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *path = fs_path_join(root, ent->d_name);
		debug_msg("removing '%s' left by process %ld", path, pid);
		if (fs_rm_rf(path) != 0)
			warn_errno("cannot remove '%s' left by an interrupted store", path);
		else
			removed++;
		free(path);
	}
	closedir(dir);
	return removed;
}

int main(int argc, char **argv)
{
	diag_init(argv[0]);

	if (argc < 2) {
		fputs(usage, stderr);
		return KTSTR_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		print_help(usage);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ktstr-cache %s\n", KTSTR_VERSION);
		return diag_close_stdout(KTSTR_EXIT_OK);
	}
	for (const struct subcommand *sub = subcommands; sub->name; sub++) {
		if (!strcmp(argv[1], sub->name))
			return sub->run(argc - 1, argv + 1);
	}
	die_usage("unknown command '%s'; valid commands: store key lookup list clean", argv[1]);
}
