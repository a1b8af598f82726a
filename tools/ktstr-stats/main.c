/* ktstr-stats: one report on the sidecar files of many ktstr VM runs. */
#include "stats.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "sidecar.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage: ktstr-stats [--dir PATH]... [--json]\n"
	"\n"
	"Analyse the sidecar files that ktstr VM runs write: outcomes, failure\n"
	"rates and metric medians by scenario, flag profile and topology, robust\n"
	"outliers, stimulus against outcome, BPF verifier instruction counts, the\n"
	"BPF callback profile and KVM statistics.\n"
	"\n"
	"Options:\n"
	"  -d, --dir PATH  read the *.ktstr.json files in PATH and in its direct\n"
	"                  subdirectories; repeat to merge several directories\n"
	"      --json      print the analysis as one JSON object\n"
	"  -h, --help      print this help and exit\n"
	"  -V, --version   print the version and exit\n"
	"\n"
	"Without --dir, the directory is $KTSTR_SIDECAR_DIR when set, else\n"
	"target/ktstr/<branch>-<commit>/ of the git repository that contains the\n"
	"working directory ($CARGO_TARGET_DIR/ktstr/... when that is set).\n"
	"\n"
	"Exit status: 0 when the report was printed, whatever the runs' outcomes,\n"
	"and also when there were no sidecars; 2 on a usage error or when a\n"
	"directory cannot be read.\n";

enum { OPTION_JSON = 0x100 };

static const struct option options[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, OPTION_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Colour only on a terminal, and never when NO_COLOR is set and not empty
 * (https://no-color.org) or TERM is "dumb". */
static bool want_color(void)
{
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (no_color && *no_color)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(STDOUT_FILENO);
}

/* Whether dir names the same directory as one already in dirs. */
static bool seen_before(const struct strvec *real_dirs, const char *dir)
{
	char *real = fs_realpath(dir);
	bool seen = false;

	for (size_t i = 0; real && i < real_dirs->len; i++)
		seen |= !strcmp(real_dirs->items[i], real);
	free(real);
	return seen;
}

/* Print "no sidecars in 'A', 'B'" with what was skipped. */
static void report_empty(const struct report *report, const struct strvec *dirs)
{
	struct strvec quoted = STRVEC_INIT;
	size_t len = 0;

	for (size_t i = 0; i < dirs->len; i++) {
		strvec_pushf(&quoted, "%s'%s'", i ? ", " : "", dirs->items[i]);
		len += strlen(quoted.items[i]);
	}
	char *list = xcalloc(1, len + 1);
	for (size_t i = 0; i < quoted.len; i++)
		strcat(list, quoted.items[i]);
	if (report->nr_skipped)
		info_msg("no readable sidecars in %s: %zu file%s skipped", list, report->nr_skipped,
			 report->nr_skipped == 1 ? "" : "s");
	else
		info_msg("no sidecars in %s", list);
	free(list);
	strvec_release(&quoted);
}

int main(int argc, char **argv)
{
	struct report report = { 0 };
	struct strvec dirs = STRVEC_INIT, real_dirs = STRVEC_INIT;
	bool json = false;
	int option;

	diag_init(argv[0]);
	opterr = 0;
	while ((option = getopt_long(argc, argv, ":d:hV", options, NULL)) != -1) {
		switch (option) {
		case 'd':
			if (!*optarg)
				die_usage("invalid --dir '': the path is empty");
			strvec_push(&dirs, optarg);
			break;
		case OPTION_JSON:
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return diag_close_stdout(KTSTR_EXIT_OK);
		case 'V':
			printf("ktstr-stats %s\n", KTSTR_VERSION);
			return diag_close_stdout(KTSTR_EXIT_OK);
		case ':':
			die_usage("option '%s' requires an argument", argv[optind - 1]);
		default:
			die_bad_option(argv);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);

	/* Without --dir, a directory the environment names must exist, but the
	 * derived default need not: it appears with the first test run. */
	if (!dirs.len) {
		const char *env = getenv("KTSTR_SIDECAR_DIR");
		char *dir = sidecar_dir();

		strvec_push(&dirs, dir);
		if (!(env && *env) && !fs_exists(dir)) {
			info_msg("no sidecars: '%s' does not exist (run the tests first, or pass --dir)", dir);
			report.dirs = xmalloc(sizeof(*report.dirs));
			report.dirs[report.nr_dirs++] = dir;
			goto print;
		}
		free(dir);
	}

	/* NOTE: runs are not matched by run_id, so a sidecar copied into two of
	 * the merged directories counts twice. */
	for (size_t i = 0; i < dirs.len; i++) {
		if (seen_before(&real_dirs, dirs.items[i])) {
			warn_msg("directory '%s' given twice: reading it once", dirs.items[i]);
			continue;
		}
		if (load_dir(&report, dirs.items[i]) != 0)
			return KTSTR_EXIT_ERROR;
		char *real = fs_realpath(dirs.items[i]);
		strvec_push(&real_dirs, real ? real : dirs.items[i]);
		free(real);
	}
	if (!report.nr_rows)
		report_empty(&report, &dirs);

print:
	analyze(&report);
	if (json) {
		if (json_print(stdout, report_json(&report), true) != 0)
			die_errno("write the JSON report");
	} else if (report.nr_rows) {
		print_text(stdout, &report, want_color());
	}
	report_release(&report);
	strvec_release(&dirs);
	strvec_release(&real_dirs);
	return diag_close_stdout(KTSTR_EXIT_OK);
}
