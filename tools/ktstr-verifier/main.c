/* ktstr-verifier: per-program BPF verifier statistics of a scheduler, per
 * flag profile, from real kernels booted in VMs.
 *
 *   ktstr-verifier [run] ...   run the scheduler's profiles in VMs
 *   ktstr-verifier show ...    print saved results again
 *   ktstr-verifier diff A B    compare two saved results program by program
 *   ktstr-verifier collapse    fold loop iterations in a verifier log
 */
#include "verifier.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage: ktstr-verifier [run] (--scheduler PKG | --scheduler-bin PATH) [OPTIONS]\n"
	"       ktstr-verifier show [--raw] [--json] PATH...\n"
	"       ktstr-verifier diff [--json] A B\n"
	"       ktstr-verifier collapse [FILE]\n"
	"\n"
	"Load a sched_ext scheduler in a VM once per flag profile and report, per\n"
	"BPF program, the instructions the kernel's verifier processed\n"
	"(verified_insns) against its limit of 1000000.  When loading fails, show\n"
	"the verifier log with repeated loop iterations folded.\n"
	"\n"
	"Run options:\n"
	"      --scheduler PKG       build PKG with 'cargo build -p PKG' in the working\n"
	"                            directory and use its binary\n"
	"      --scheduler-bin PATH  use this scheduler binary\n"
	"      --compare-bin PATH    also run this binary (B) with the same profiles and\n"
	"                            compare it with the first (A) program by program\n"
	"      --sched-args STR      more scheduler arguments, split at blanks, before\n"
	"                            the profile's; repeatable\n"
	"      --kernel ID           kernel to boot: a source tree, version, cache key or\n"
	"                            boot image (default: ktstr-vm finds one)\n"
	"      --all-profiles        every profile the scheduler lists with\n"
	"                            --ktstr-list-flags\n"
	"      --profiles LIST       these profiles, comma-separated (default,llc,llc+steal)\n"
	"      --list-profiles       print the profiles that would run and exit\n"
	"      --topology N,L,C,T    VM topology (default 1,1,1,1)\n"
	"      --timeout SEC         stop each VM after SEC seconds (default: ktstr-vm's)\n"
	"\n"
	"Common options:\n"
	"      --raw                 print scheduler logs without cycle collapse\n"
	"      --json                print the results as one JSON document\n"
	"  -v, --verbose             show the VM runs' own output\n"
	"  -h, --help                print this help and exit\n"
	"  -V, --version             print the version and exit\n"
	"\n"
	"'show' prints saved results: ktstr-verifier --json documents, sidecar files\n"
	"or directories of them.  'diff' compares two such results (A and B).\n"
	"'collapse' reads a verifier log from FILE or stdin and prints it folded.\n"
	"\n"
	"Exit status: 0 when every profile loaded; 1 when the verifier rejected a\n"
	"program or the scheduler stopped before loading; 2 on a usage error or\n"
	"when a VM run failed.\n";

enum {
	OPTION_SCHEDULER = 0x100,
	OPTION_SCHEDULER_BIN,
	OPTION_COMPARE_BIN,
	OPTION_SCHED_ARGS,
	OPTION_KERNEL,
	OPTION_ALL_PROFILES,
	OPTION_PROFILES,
	OPTION_LIST_PROFILES,
	OPTION_TOPOLOGY,
	OPTION_TIMEOUT,
	OPTION_RAW,
	OPTION_JSON,
};

static const struct option options[] = {
	{ "scheduler", required_argument, NULL, OPTION_SCHEDULER },
	{ "scheduler-bin", required_argument, NULL, OPTION_SCHEDULER_BIN },
	{ "compare-bin", required_argument, NULL, OPTION_COMPARE_BIN },
	{ "sched-args", required_argument, NULL, OPTION_SCHED_ARGS },
	{ "kernel", required_argument, NULL, OPTION_KERNEL },
	{ "all-profiles", no_argument, NULL, OPTION_ALL_PROFILES },
	{ "profiles", required_argument, NULL, OPTION_PROFILES },
	{ "list-profiles", no_argument, NULL, OPTION_LIST_PROFILES },
	{ "topology", required_argument, NULL, OPTION_TOPOLOGY },
	{ "timeout", required_argument, NULL, OPTION_TIMEOUT },
	{ "raw", no_argument, NULL, OPTION_RAW },
	{ "json", no_argument, NULL, OPTION_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct verifier_opts {
	const char *package;
	const char *binary;
	const char *compare_binary;
	const char *profiles;
	bool all_profiles;
	bool list_profiles;
	struct strvec sched_args;
	struct vm_opts vm;
	struct report_opts report;
};

/* Parse the options of any subcommand; run_only counts those only 'run' takes. */
static void parse_options(int argc, char **argv, struct verifier_opts *opts, int *run_only)
{
	int option;

	*run_only = 0;
	opterr = 0;
	while ((option = getopt_long(argc, argv, ":vhV", options, NULL)) != -1) {
		switch (option) {
		case OPTION_SCHEDULER:
			if (opts->binary)
				die_usage("--scheduler and --scheduler-bin conflict: give one of them");
			opts->package = optarg;
			(*run_only)++;
			break;
		case OPTION_SCHEDULER_BIN:
			if (opts->package)
				die_usage("--scheduler and --scheduler-bin conflict: give one of them");
			opts->binary = optarg;
			(*run_only)++;
			break;
		case OPTION_COMPARE_BIN:
			opts->compare_binary = optarg;
			(*run_only)++;
			break;
		case OPTION_SCHED_ARGS:
			strvec_push(&opts->sched_args, optarg);
			opts->vm.sched_args = &opts->sched_args;
			(*run_only)++;
			break;
		case OPTION_KERNEL:
			if (opts->vm.kernel)
				die_usage("--kernel given twice: ktstr-verifier runs one kernel at a time");
			opts->vm.kernel = optarg;
			(*run_only)++;
			break;
		case OPTION_ALL_PROFILES:
			opts->all_profiles = true;
			(*run_only)++;
			break;
		case OPTION_PROFILES:
			opts->profiles = optarg;
			(*run_only)++;
			break;
		case OPTION_LIST_PROFILES:
			opts->list_profiles = true;
			(*run_only)++;
			break;
		case OPTION_TOPOLOGY:
			opts->vm.topology = optarg;
			(*run_only)++;
			break;
		case OPTION_TIMEOUT:
			opts->vm.timeout = optarg;
			(*run_only)++;
			break;
		case OPTION_RAW:
			opts->report.raw = true;
			break;
		case OPTION_JSON:
			opts->report.json = true;
			break;
		case 'v':
			opts->vm.verbose = true;
			diag_verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		case 'V':
			printf("ktstr-verifier %s\n", KTSTR_VERSION);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		case ':':
			die_usage("option '%s' requires an argument", argv[optind - 1]);
		default:
			die_bad_option(argv);
		}
	}
}

static int print_json(jv doc)
{
	if (json_print(stdout, doc, true) != 0)
		die_errno("write the JSON report");
	return 0;
}

/* ---- run ---- */

/* The binary's profiles as the options select them; exits on error. */
static void select_profiles(const char *binary, const struct verifier_opts *opts, struct profile **profiles,
			    size_t *count)
{
	struct profile_flags flags = PROFILE_FLAGS_INIT;
	enum profile_query_result result;
	char *error = NULL;

	if (!opts->all_profiles && (!opts->profiles || !strcmp(opts->profiles, PROFILE_DEFAULT))) {
		profile_default(profiles, count);
		return;
	}

	result = profile_query(binary, &flags, &error);
	if (result == PROFILE_QUERY_FAILED)
		die("cannot list the flags of '%s' with %s: %s", binary, PROFILE_LIST_FLAGS_ARG, error);
	if (result == PROFILE_QUERY_UNSUPPORTED) {
		info_msg("'%s' does not support %s (%s): it has only the default profile", binary,
			 PROFILE_LIST_FLAGS_ARG, error);
		free(error);
		error = NULL;
	}

	if (opts->profiles) {
		if (profile_select(&flags, opts->profiles, profiles, count, &error) != 0)
			die("cannot run profiles of '%s': %s", binary, error);
	} else if (profile_power_set(&flags, profiles, count, &error) != 0) {
		die("cannot run every profile of '%s': %s", binary, error);
	}
	if (*count > 32)
		warn_msg("%zu profiles: that is %zu VM boots; pick some with --profiles", *count, *count);
	profile_flags_release(&flags);
	free(error);
}

static void check_binary(const char *path, const char *option)
{
	if (!*path)
		die_usage("invalid %s '': the path is empty", option);
	if (!fs_exists(path))
		die("scheduler binary '%s' (%s) not found", path, option);
	if (fs_is_dir(path))
		die("scheduler binary '%s' (%s) is a directory", path, option);
	if (access(path, X_OK) != 0)
		die("scheduler binary '%s' (%s) is not executable: %s", path, option, strerror(errno));
}

static void list_profiles(const struct profile *profiles, size_t count, bool json)
{
	if (json) {
		jv list = jv_array();

		for (size_t i = 0; i < count; i++) {
			jv entry = jv_object(), flags = jv_array(), args = jv_array();

			for (size_t f = 0; f < profiles[i].flags.len; f++)
				flags = jv_array_append(flags, jv_string(profiles[i].flags.items[f]));
			for (size_t a = 0; a < profiles[i].args.len; a++)
				args = jv_array_append(args, jv_string(profiles[i].args.items[a]));
			entry = jv_object_set(entry, jv_string("profile"), jv_string(profiles[i].name));
			entry = jv_object_set(entry, jv_string("active_flags"), flags);
			entry = jv_object_set(entry, jv_string("scheduler_args"), args);
			list = jv_array_append(list, entry);
		}
		print_json(list);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		printf("%s", profiles[i].name);
		for (size_t a = 0; a < profiles[i].args.len; a++)
			printf("%s%s", a ? " " : "\t", profiles[i].args.items[a]);
		putchar('\n');
	}
}

/* B runs the profiles A selected, with B's own arguments for each name. */
static void select_same_profiles(const char *binary, const struct profile *a, size_t a_count,
				 struct profile **profiles, size_t *count)
{
	struct verifier_opts same = { 0 };
	char *names = xstrdup("");

	for (size_t i = 0; i < a_count; i++) {
		char *longer = xasprintf("%s%s%s", names, i ? "," : "", a[i].name);
		free(names);
		names = longer;
	}
	same.profiles = names;
	select_profiles(binary, &same, profiles, count);
	free(names);
}

/* Print the report of A, or of A and B and their comparison. */
static void print_run(const struct verifier_opts *opts, const char *binary, const struct verifier_result *a,
		      const struct verifier_result *b)
{
	if (b && opts->report.json) {
		print_json(report_diff_json(a, binary, b, opts->compare_binary, &opts->report));
	} else if (b) {
		printf("=== A: %s ===\n", binary);
		report_text(stdout, a, &opts->report);
		printf("\n=== B: %s ===\n", opts->compare_binary);
		report_text(stdout, b, &opts->report);
		report_diff_text(stdout, a, "A", b, "B");
	} else if (opts->report.json) {
		print_json(report_json(a, &opts->report));
	} else {
		report_text(stdout, a, &opts->report);
	}
}

/* The exit status: 2 when a VM run failed, so the scheduler's fate is
 * unknown, else 1 when a profile did not load, else 0. */
static int run_status(int status, const struct verifier_result *a, const struct verifier_result *b)
{
	for (size_t i = 0; i < a->nr_profiles; i++) {
		if (a->profiles[i].outcome == RUN_ERROR)
			status = KTSTR_EXIT_ERROR;
	}
	for (size_t i = 0; i < b->nr_profiles; i++) {
		if (b->profiles[i].outcome == RUN_ERROR)
			status = KTSTR_EXIT_ERROR;
	}
	if (status == KTSTR_EXIT_OK && (verifier_result_failed(a) || verifier_result_failed(b)))
		status = KTSTR_EXIT_NO;
	return status;
}

static int cmd_run(int argc, char **argv, struct verifier_opts *opts)
{
	struct verifier_result a = { 0 }, b = { 0 };
	struct profile *profiles = NULL, *b_profiles = NULL;
	size_t count = 0, b_count = 0;
	char *built = NULL;
	const char *binary;
	int status = KTSTR_EXIT_OK;

	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!opts->package && !opts->binary)
		die_usage("no scheduler: give --scheduler PKG or --scheduler-bin PATH");
	if (opts->all_profiles && opts->profiles)
		die_usage("--all-profiles and --profiles conflict: give one of them");
	if (opts->profiles && !*opts->profiles)
		die_usage("invalid --profiles '': the list is empty");
	if (opts->binary)
		check_binary(opts->binary, "--scheduler-bin");
	if (opts->compare_binary)
		check_binary(opts->compare_binary, "--compare-bin");

	if (opts->package) {
		built = cargo_build_scheduler(opts->package);
		if (!built)
			return KTSTR_EXIT_ERROR;
	}
	binary = built ? built : opts->binary;

	select_profiles(binary, opts, &profiles, &count);
	if (opts->compare_binary)
		select_same_profiles(opts->compare_binary, profiles, count, &b_profiles, &b_count);
	if (opts->list_profiles) {
		list_profiles(profiles, count, opts->report.json);
		goto free_profiles;
	}

	/* A run that stops the loop still leaves the profiles before it,
	 * which are reported. */
	if (vm_run_profiles(binary, profiles, count, &opts->vm, &a) != 0)
		status = KTSTR_EXIT_ERROR;
	else if (opts->compare_binary &&
		 vm_run_profiles(opts->compare_binary, b_profiles, b_count, &opts->vm, &b) != 0)
		status = KTSTR_EXIT_ERROR;
	if (a.nr_profiles > 0)
		print_run(opts, binary, &a, b.nr_profiles > 0 ? &b : NULL);
	status = run_status(status, &a, &b);

	verifier_result_release(&a);
	verifier_result_release(&b);
free_profiles:
	profile_free(profiles, count);
	profile_free(b_profiles, b_count);
	free(built);
	return status;
}

/* ---- show, diff, collapse ---- */

static void reject_run_options(int run_only, const char *subcommand)
{
	if (run_only)
		die_usage("'%s' takes only --raw, --json and -v; the scheduler and VM options belong to 'run'",
			  subcommand);
}

static int cmd_show(int argc, char **argv, struct verifier_opts *opts)
{
	struct verifier_result result = { 0 };
	int status = KTSTR_EXIT_OK;

	if (optind >= argc)
		die_usage("'show' needs at least one PATH");
	for (int i = optind; i < argc; i++) {
		if (verifier_result_load(argv[i], &result) != 0) {
			verifier_result_release(&result);
			return KTSTR_EXIT_ERROR;
		}
	}
	if (opts->report.json)
		print_json(report_json(&result, &opts->report));
	else
		report_text(stdout, &result, &opts->report);
	if (verifier_result_failed(&result))
		status = KTSTR_EXIT_NO;
	verifier_result_release(&result);
	return status;
}

static int cmd_diff(int argc, char **argv, struct verifier_opts *opts)
{
	struct verifier_result a = { 0 }, b = { 0 };
	int status = KTSTR_EXIT_ERROR;

	if (argc - optind != 2)
		die_usage("'diff' needs two paths, A and B");
	if (verifier_result_load(argv[optind], &a) != 0 || verifier_result_load(argv[optind + 1], &b) != 0)
		goto release;

	if (report_diff_pairs(&a, &b) == 0) {
		err_msg("nothing to compare: '%s' and '%s' have no profile in common", argv[optind], argv[optind + 1]);
		goto release;
	}
	if (opts->report.json)
		print_json(report_diff_json(&a, argv[optind], &b, argv[optind + 1], &opts->report));
	else
		report_diff_text(stdout, &a, argv[optind], &b, argv[optind + 1]);
	status = KTSTR_EXIT_OK;
release:
	verifier_result_release(&a);
	verifier_result_release(&b);
	return status;
}

static char *read_stdin(size_t *len)
{
	size_t cap = 1 << 16, used = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		if (used == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(STDIN_FILENO, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("cannot read the log from stdin");
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*len = used;
	return buf;
}

static int cmd_collapse(int argc, char **argv, struct verifier_opts *opts)
{
	size_t len, out_len;
	char *text, *out;

	if (opts->report.json)
		die_usage("'collapse' prints a log, not JSON: drop --json");
	if (argc - optind > 1)
		die_usage("'collapse' takes one FILE at most");
	if (argc - optind == 1 && strcmp(argv[optind], "-")) {
		text = fs_read_file(argv[optind], &len);
		if (!text)
			die_errno("cannot read verifier log '%s'", argv[optind]);
	} else {
		text = read_stdin(&len);
	}

	if (opts->report.raw) {
		out = text;
		out_len = len;
		text = NULL;
	} else {
		out = verifier_log_collapse(text, len, &out_len);
	}
	if (fwrite(out, 1, out_len, stdout) != out_len)
		die_errno("write the log");
	free(out);
	free(text);
	return 0;
}

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv, struct verifier_opts *opts);
	bool run_options;
};

static const struct subcommand subcommands[] = {
	{ "run", cmd_run, true },
	{ "show", cmd_show, false },
	{ "diff", cmd_diff, false },
	{ "collapse", cmd_collapse, false },
	{ NULL, NULL, false },
};

int main(int argc, char **argv)
{
	struct verifier_opts opts = { 0 };
	const struct subcommand *sub = &subcommands[0];
	int run_only;

	diag_init(argv[0]);
	if (argc > 1 && argv[1][0] != '-') {
		for (sub = subcommands; sub->name; sub++) {
			if (!strcmp(sub->name, argv[1]))
				break;
		}
		if (!sub->name)
			die_usage("unknown subcommand '%s': use run, show, diff or collapse", argv[1]);
		argv++;
		argc--;
	}

	parse_options(argc, argv, &opts, &run_only);
	if (!sub->run_options)
		reject_run_options(run_only, sub->name);

	return diag_close_stdout(sub->run(argc, argv, &opts));
}
