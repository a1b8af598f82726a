/* Scheduler and scenario runs of ktstr-vm: the options, the guest files and
 * configuration they produce, and the report after the run (checks, sidecar,
 * exit status).  The scenario definitions are in scenario_def.c, the checks
 * in lib/scenario_check.c and the sidecar document in scenario_sidecar.c. */
#include "scenario.h"
#include "scenario_internal.h"
#include "vmrun.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "numarg.h"
#include "profile.h"
#include "sidecar.h"
#include "xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Guest directory of the scheduler binary. */
#define GUEST_SCHED_DIR "/ktstr/sched"
/* Maximum number of cgroups that --cgroups accepts. */
#define MAX_CGROUPS 64

enum {
	OPT_SCHEDULER = SCENARIO_OPTION_BASE,
	OPT_NO_SCHEDULER,
	OPT_SCHED_ARGS,
	OPT_SCHED_ENABLE_TIMEOUT,
	OPT_PROFILE,
	OPT_FLAGS,
	OPT_SCENARIO,
	OPT_LIST_SCENARIOS,
	OPT_LIST_WORK_TYPES,
	OPT_WORK_TYPE,
	OPT_WORKERS,
	OPT_CGROUPS,
	OPT_CPUSET,
	OPT_DURATION,
	OPT_MAX_GAP_MS,
	OPT_MAX_SPREAD_PCT,
	OPT_SIDECAR_DIR,
};

const struct option scenario_options[] = {
	{ "scheduler", required_argument, NULL, OPT_SCHEDULER },
	{ "no-scheduler", no_argument, NULL, OPT_NO_SCHEDULER },
	{ "sched-args", required_argument, NULL, OPT_SCHED_ARGS },
	{ "sched-enable-timeout", required_argument, NULL, OPT_SCHED_ENABLE_TIMEOUT },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "flags", required_argument, NULL, OPT_FLAGS },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "list-scenarios", no_argument, NULL, OPT_LIST_SCENARIOS },
	{ "list-work-types", no_argument, NULL, OPT_LIST_WORK_TYPES },
	{ "work-type", required_argument, NULL, OPT_WORK_TYPE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "cgroups", required_argument, NULL, OPT_CGROUPS },
	{ "cpuset", required_argument, NULL, OPT_CPUSET },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "max-gap-ms", required_argument, NULL, OPT_MAX_GAP_MS },
	{ "max-spread-pct", required_argument, NULL, OPT_MAX_SPREAD_PCT },
	{ "sidecar-dir", required_argument, NULL, OPT_SIDECAR_DIR },
	{ NULL, 0, NULL, 0 },
};

const char scenario_usage[] =
	"      --scheduler BIN     load the sched_ext scheduler BIN in the guest (default\n"
	"                          $KTSTR_SCHEDULER); without one the kernel's own\n"
	"                          scheduler runs\n"
	"      --no-scheduler      run the kernel's own scheduler even if $KTSTR_SCHEDULER\n"
	"                          is set\n"
	"      --sched-args STR    arguments for the scheduler, split at blanks; repeatable\n"
	"      --sched-enable-timeout SEC  seconds the kernel gets to enable the scheduler\n"
	"                          (default 20)\n"
	"      --profile NAME      flag profile from the scheduler's --ktstr-list-flags,\n"
	"                          such as llc+steal (default: default, no flags)\n"
	"      --flags LIST        the same as --profile, with the flags separated by commas\n"
	"      --scenario NAME|FILE  built-in scenario or scenario file (ktstr-scenario(5))\n"
	"      --list-scenarios    print the built-in scenarios and exit\n"
	"      --list-work-types   print the work types and exit\n"
	"      --work-type TYPE    work type of every cgroup (default CpuSpin)\n"
	"      --workers N         workers in every cgroup (default 2 per CPU of its cpuset)\n"
	"      --cgroups N         number of cgroups without --scenario (default 1)\n"
	"      --cpuset CPUS       cpuset of the cgroups: a CPU list such as 0-1,3, or\n"
	"                          'split' to divide the CPUs among them; once for every\n"
	"                          cgroup, or once per cgroup in order\n"
	"      --duration SEC      how long the workers run (default 5)\n"
	"      --max-gap-ms MS     starvation limit: the longest a worker may go without\n"
	"                          running (default 2000, times 2.5 under TCG)\n"
	"      --max-spread-pct PCT  fairness limit: the spread of off-CPU time between\n"
	"                          workers of a cgroup (default 15, times 2.5 under TCG)\n"
	"      --sidecar-dir DIR   write the sidecar JSON into DIR (default\n"
	"                          $KTSTR_SIDECAR_DIR, else target/ktstr/BRANCH-COMMIT/)\n"
	"  A scenario run prints the sidecar's path on stdout (with --json, the sidecar\n"
	"  itself) and exits 0 when every check passed, 1 when a check or the scheduler\n"
	"  failed.\n";

struct scenario_opts {
	bool requested;
	bool json;
	const char *scheduler_arg;
	bool no_scheduler;
	char *scheduler_path;           /* absolute host path, NULL for the kernel's scheduler */
	struct strvec sched_args;       /* from --sched-args */
	struct strvec run_args;         /* --sched-args, then the profile's arguments */
	double enable_timeout_s;
	char *profile_arg;
	char *profile_name;
	struct strvec active_flags;
	const char *scenario_arg;
	bool has_work_type;
	enum work_type work;
	unsigned workers;
	unsigned cgroups;
	struct strvec cpusets;
	uint64_t duration_ms;
	double max_gap_ms;
	double max_spread_pct;
	const char *sidecar_dir;        /* --sidecar-dir, NULL for the default */
	char *sidecar_dir_resolved;     /* created and checked by scenario_validate() */
	struct scenario_def def;
	char *guest_sched_path;
	const char *guest_files[3];
	char timestamp[32];
	char run_id[64];
};

struct scenario_opts *scenario_opts_new(void)
{
	struct scenario_opts *opts = xcalloc(1, sizeof(*opts));

	opts->max_gap_ms = -1;
	opts->max_spread_pct = -1;
	scenario_def_init(&opts->def);
	return opts;
}

void scenario_opts_free(struct scenario_opts *opts)
{
	if (!opts)
		return;
	free(opts->scheduler_path);
	strvec_release(&opts->sched_args);
	strvec_release(&opts->run_args);
	free(opts->profile_arg);
	free(opts->profile_name);
	strvec_release(&opts->active_flags);
	strvec_release(&opts->cpusets);
	scenario_def_release(&opts->def);
	free(opts->guest_sched_path);
	free(opts->sidecar_dir_resolved);
	free(opts);
}

void scenario_set_json(struct scenario_opts *opts, bool json)
{
	opts->json = json;
}

__attribute__((format(printf, 1, 2))) static int option_error(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", diag_progname, text,
		diag_progname);
	return -1;
}

static int parse_count(const char *option, const char *arg, unsigned max, unsigned *out)
{
	unsigned long long value;

	if (numarg_parse(arg, 1, max, &value) != 0)
		return option_error("invalid %s '%s': expected a whole number from 1 to %u", option, arg, max);
	*out = (unsigned)value;
	return 0;
}

static int parse_real(const char *option, const char *arg, double min, double max, double *out)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(arg, &end);
	if (!*arg || *end || errno || !isfinite(value) || value < min || value > max)
		return option_error("invalid %s '%s': expected a number from %g to %g", option, arg, min, max);
	*out = value;
	return 0;
}

static void list_work_types(void)
{
	for (int i = 0; i < WORK_TYPE_COUNT; i++)
		printf("%-14s %s\n", work_type_name((enum work_type)i),
		       work_type_description((enum work_type)i));
	exit(diag_close_stdout(KTSTR_EXIT_OK));
}

static void split_args(struct strvec *into, const char *text)
{
	char *copy = xstrdup(text);

	for (char *save = NULL, *word = strtok_r(copy, " \t\n", &save); word;
	     word = strtok_r(NULL, " \t\n", &save))
		strvec_push(into, word);
	free(copy);
}

int scenario_parse_option(struct scenario_opts *opts, int option, const char *arg)
{
	double seconds;

	opts->requested = true;
	switch (option) {
	case OPT_SCHEDULER:
		opts->scheduler_arg = arg;
		return 0;
	case OPT_NO_SCHEDULER:
		opts->no_scheduler = true;
		return 0;
	case OPT_SCHED_ARGS:
		split_args(&opts->sched_args, arg);
		return 0;
	case OPT_SCHED_ENABLE_TIMEOUT:
		return parse_real("--sched-enable-timeout", arg, 0.1, 3600, &opts->enable_timeout_s);
	case OPT_PROFILE:
		free(opts->profile_arg);
		opts->profile_arg = xstrdup(arg);
		return 0;
	case OPT_FLAGS:
		free(opts->profile_arg);
		opts->profile_arg = xstrdup(arg);
		for (char *p = opts->profile_arg; *p; p++) {
			if (*p == ',')
				*p = '+';
		}
		return 0;
	case OPT_SCENARIO:
		opts->scenario_arg = arg;
		return 0;
	case OPT_LIST_SCENARIOS:
		exit(diag_close_stdout(scenario_list_builtin(stdout) == 0 ? KTSTR_EXIT_OK : VM_EXIT_FAILED));
	case OPT_LIST_WORK_TYPES:
		list_work_types();
		return 0;
	case OPT_WORK_TYPE:
		if (work_type_parse(arg, &opts->work) != 0) {
			struct strvec names = STRVEC_INIT;
			for (int i = 0; i < WORK_TYPE_COUNT; i++)
				strvec_push(&names, work_type_name((enum work_type)i));
			char *list = xstrdup("");
			for (size_t i = 0; i < names.len; i++) {
				char *next = xasprintf("%s%s%s", list, i ? ", " : "", names.items[i]);
				free(list);
				list = next;
			}
			option_error("invalid --work-type '%s': expected one of %s", arg, list);
			free(list);
			strvec_release(&names);
			return -1;
		}
		opts->has_work_type = true;
		return 0;
	case OPT_WORKERS:
		return parse_count("--workers", arg, 1024, &opts->workers);
	case OPT_CGROUPS:
		return parse_count("--cgroups", arg, MAX_CGROUPS, &opts->cgroups);
	case OPT_CPUSET:
		strvec_push(&opts->cpusets, arg);
		return 0;
	case OPT_DURATION:
		if (parse_real("--duration", arg, 0.001, 86400, &seconds) != 0)
			return -1;
		opts->duration_ms = (uint64_t)llround(seconds * 1000);
		return 0;
	case OPT_MAX_GAP_MS:
		return parse_real("--max-gap-ms", arg, 1, 3600000, &opts->max_gap_ms);
	case OPT_MAX_SPREAD_PCT:
		return parse_real("--max-spread-pct", arg, 0, 100, &opts->max_spread_pct);
	case OPT_SIDECAR_DIR:
		opts->sidecar_dir = arg;
		return 0;
	}
	return option_error("unknown scenario option");
}

bool scenario_requested(const struct scenario_opts *opts)
{
	return opts->requested;
}

/* Return whether path starts like a program: the ELF magic or "#!". */
static bool looks_executable(const char *path)
{
	unsigned char magic[SELFMAG];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;

	if (fd >= 0)
		close(fd);
	return (got == SELFMAG && !memcmp(magic, ELFMAG, SELFMAG)) || (got >= 2 && !memcmp(magic, "#!", 2));
}

/* Find the scheduler binary: --scheduler, else $KTSTR_SCHEDULER. */
static int resolve_scheduler(struct scenario_opts *opts)
{
	const char *path = opts->scheduler_arg;
	const char *origin = "--scheduler";
	struct stat st;

	if (!path && !opts->no_scheduler) {
		path = getenv("KTSTR_SCHEDULER");
		origin = "KTSTR_SCHEDULER";
		if (path && !*path)
			path = NULL;
	}
	if (opts->no_scheduler && opts->scheduler_arg)
		return option_error("--no-scheduler cannot be combined with --scheduler");
	if (!path && opts->sched_args.len)
		return option_error("--sched-args needs a scheduler (--scheduler or KTSTR_SCHEDULER)");
	if (!path)
		return 0;
	if (stat(path, &st) != 0)
		return err_msg("cannot use the scheduler '%s' (%s): %s", path, origin, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_msg("cannot use the scheduler '%s' (%s): not a regular file", path, origin);
	if (access(path, X_OK) != 0 && !looks_executable(path))
		return err_msg("cannot use the scheduler '%s' (%s): it is neither an ELF executable nor a script",
			       path, origin);
	if (access(path, X_OK) != 0)
		return err_msg("cannot use the scheduler '%s' (%s): it is not executable; run 'chmod +x %s'",
			       path, origin, path);
	opts->scheduler_path = fs_realpath(path);
	if (!opts->scheduler_path)
		return err_msg("cannot use the scheduler '%s' (%s): %s", path, origin, strerror(errno));
	opts->guest_sched_path = xasprintf("%s/%s", GUEST_SCHED_DIR, fs_basename(opts->scheduler_path));
	opts->guest_files[0] = opts->scheduler_path;
	opts->guest_files[1] = opts->guest_sched_path;
	return 0;
}

/* The flag profile: its name, flags and the arguments it adds. */
static int resolve_profile(struct scenario_opts *opts)
{
	struct profile_flags flags = PROFILE_FLAGS_INIT;
	struct profile *profiles = NULL;
	size_t count = 0;
	char *error = NULL;
	int status = 0;

	for (size_t i = 0; i < opts->sched_args.len; i++)
		strvec_push(&opts->run_args, opts->sched_args.items[i]);
	if (!opts->profile_arg || !strcmp(opts->profile_arg, PROFILE_DEFAULT)) {
		opts->profile_name = xstrdup(PROFILE_DEFAULT);
		return 0;
	}
	if (!opts->scheduler_path)
		return option_error("--profile and --flags need a scheduler (--scheduler)");

	switch (profile_query(opts->scheduler_path, &flags, &error)) {
	case PROFILE_QUERY_OK:
		break;
	case PROFILE_QUERY_UNSUPPORTED:
		status = err_msg("cannot use profile '%s': the scheduler '%s' lists no flags (%s)",
				 opts->profile_arg, opts->scheduler_path, error);
		goto release_flags;
	case PROFILE_QUERY_FAILED:
		status = err_msg("cannot read the flags of the scheduler '%s': %s", opts->scheduler_path,
				 error);
		goto release_flags;
	}
	if (strchr(opts->profile_arg, ',')) {
		status = err_msg("invalid profile '%s': name one profile, with flags joined by '+'",
				 opts->profile_arg);
		goto release_flags;
	}
	if (profile_select(&flags, opts->profile_arg, &profiles, &count, &error) != 0) {
		status = err_msg("invalid profile '%s': %s", opts->profile_arg, error);
		goto release_flags;
	}
	opts->profile_name = xstrdup(profiles[0].name);
	for (size_t i = 0; i < profiles[0].flags.len; i++)
		strvec_push(&opts->active_flags, profiles[0].flags.items[i]);
	for (size_t i = 0; i < profiles[0].args.len; i++)
		strvec_push(&opts->run_args, profiles[0].args.items[i]);
	profile_free(profiles, count);
release_flags:
	free(error);
	profile_flags_release(&flags);
	return status;
}

/* The scenario from --scenario or from the options alone, with the options
 * that override a scenario's values applied. */
static int build_scenario(struct scenario_opts *opts)
{
	struct scenario_def *def = &opts->def;

	if (opts->scenario_arg) {
		const char *arg = opts->scenario_arg;
		size_t len = strlen(arg);
		bool is_file = strchr(arg, '/') || (len > 5 && !strcmp(arg + len - 5, ".json"));
		char *path = is_file ? xstrdup(arg) : scenario_builtin_path(arg);

		if (!path)
			return err_msg("unknown scenario '%s': not a built-in scenario (see --list-scenarios) and not a file name ending in .json",
				       arg);
		int status = scenario_def_load(path, def);
		free(path);
		if (status != 0)
			return -1;
		if (opts->cgroups)
			return option_error("--cgroups cannot be combined with --scenario; the scenario defines its cgroups");
	} else {
		unsigned count = opts->cgroups ? opts->cgroups : 1;
		def->name = xstrdup("custom");
		def->description = xstrdup("a scenario given by options");
		for (unsigned i = 0; i < count; i++) {
			char name[16];
			snprintf(name, sizeof(name), "cg%u", i);
			scenario_def_add_cgroup(def, name);
		}
	}

	if (opts->cpusets.len > 1 && opts->cpusets.len != def->nr_cgroups)
		return option_error("%zu --cpuset options for %zu cgroups: give one for all or one per cgroup",
				    opts->cpusets.len, def->nr_cgroups);
	for (size_t i = 0; i < def->nr_cgroups; i++) {
		struct cgroup_def *cg = &def->cgroups[i];
		if (opts->has_work_type)
			cg->work = opts->work;
		if (opts->workers)
			cg->workers = opts->workers;
		if (opts->cpusets.len) {
			free(cg->cpuset_text);
			cg->cpuset_text = xstrdup(opts->cpusets.items[opts->cpusets.len == 1 ? 0 : i]);
		}
	}
	if (opts->duration_ms)
		def->duration_ms = opts->duration_ms;
	if (opts->max_gap_ms >= 0)
		def->max_gap_ms = opts->max_gap_ms;
	if (opts->max_spread_pct >= 0)
		def->max_spread_pct = opts->max_spread_pct;
	return 0;
}

/* Create the sidecar directory and check that a file can be written in it,
 * so that an unusable directory fails before the VM runs, not after. */
static int prepare_sidecar_dir(struct scenario_opts *opts)
{
	char *dir = opts->sidecar_dir ? xstrdup(opts->sidecar_dir) : sidecar_dir();

	if (fs_mkdir_p(dir, 0755) != 0) {
		err_errno("cannot create the sidecar directory '%s'", dir);
		free(dir);
		return -1;
	}
	/* A real file, because access() grants root write access even in
	 * read-only places such as /proc and /sys. */
	char *probe = xasprintf("%s/.ktstr-probe-XXXXXX", dir);
	int fd = mkstemp(probe);
	if (fd < 0) {
		err_errno("cannot write to the sidecar directory '%s'", dir);
		free(probe);
		free(dir);
		return -1;
	}
	close(fd);
	unlink(probe);
	free(probe);
	opts->sidecar_dir_resolved = dir;
	return 0;
}

int scenario_validate(struct scenario_opts *opts, const struct topology *topo)
{
	time_t now = time(NULL);
	struct tm tm;
	static unsigned runs;

	if (!opts->requested)
		return 0;
	if (resolve_scheduler(opts) != 0 || resolve_profile(opts) != 0)
		return -1;
	if (build_scenario(opts) != 0 || scenario_def_resolve(&opts->def, topo) != 0)
		return -1;
	if (prepare_sidecar_dir(opts) != 0)
		return -1;

	gmtime_r(&now, &tm);
	strftime(opts->timestamp, sizeof(opts->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(opts->run_id, sizeof(opts->run_id), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(opts->run_id + strlen(opts->run_id), sizeof(opts->run_id) - strlen(opts->run_id),
		 "-%d-%u", (int)getpid(), ++runs);
	return 0;
}

unsigned scenario_run_seconds(const struct scenario_opts *opts)
{
	double enable = opts->scheduler_path ?
		(opts->enable_timeout_s > 0 ? opts->enable_timeout_s : DEFAULT_ENABLE_TIMEOUT_MS / 1000.0) : 0;

	/* The workers' run, the scheduler's start, and the guest's own limits
	 * for workers that hang (30 s to get ready, 10 s past the end). */
	return (unsigned)ceil(opts->def.duration_ms / 1000.0 + enable + 40);
}

const char *const *scenario_guest_files(const struct scenario_opts *opts)
{
	/* Filled by scenario_validate(); all NULL without a scheduler. */
	return opts->guest_files;
}

void scenario_write_config(const struct scenario_opts *opts, FILE *config)
{
	const struct scenario_def *def = &opts->def;
	char list[4096];

	vm_config_put(config, "scenario.name", def->name);
	fprintf(config, "scenario.duration_ms=%llu\n", (unsigned long long)def->duration_ms);
	for (size_t i = 0; i < def->nr_cgroups; i++) {
		const struct cgroup_def *cg = &def->cgroups[i];
		fprintf(config, "scenario.cgroup=name=%s work_type=%s workers=%u nice=%d cache_kb=%u burst_ms=%u sleep_ms=%u",
			cg->name, work_type_name(cg->work), cg->workers, cg->nice, cg->cache_kb,
			cg->burst_ms, cg->sleep_ms);
		if (cg->cpuset_text)
			fprintf(config, " cpuset=%s", cpulist_format(&cg->cpuset, list, sizeof(list)));
		if (cg->weight)
			fprintf(config, " weight=%u", cg->weight);
		fputc('\n', config);
	}
	for (size_t i = 0; i < def->nr_steps; i++) {
		const struct step_def *step = &def->steps[i];
		if (step->kind == STEP_KIND_KILL_SCHEDULER)
			fprintf(config, "scenario.step=at_ms=%llu op=kill-scheduler\n",
				(unsigned long long)step->at_ms);
		else
			fprintf(config, "scenario.step=at_ms=%llu op=set-cpuset cgroup=%s cpus=%s\n",
				(unsigned long long)step->at_ms, step->cgroup,
				cpulist_format(&step->cpus, list, sizeof(list)));
	}
	if (!opts->scheduler_path)
		return;
	vm_config_put(config, "sched.path", opts->guest_sched_path);
	for (size_t i = 0; i < opts->run_args.len; i++)
		vm_config_put(config, "sched.arg", opts->run_args.items[i]);
	fprintf(config, "sched.enable_timeout_ms=%llu\n",
		(unsigned long long)(opts->enable_timeout_s > 0 ? llround(opts->enable_timeout_s * 1000) :
								  DEFAULT_ENABLE_TIMEOUT_MS));
}

/* ---- the report ---- */

/* Parse a record's JSON payload; null when it is missing or invalid. */
static jv parse_record(const struct vm_result *result, const char *kind)
{
	const struct vm_record *rec = vm_result_record(result, kind);
	char *why = NULL;

	if (!rec)
		return jv_null();
	jv value = json_parse(rec->payload, rec->len, NULL, &why);
	if (!jv_is_valid(value) || jv_get_kind(value) != JV_KIND_OBJECT) {
		warn_msg("ignoring the guest's invalid '%s' record: %s", kind, why ? why : "not an object");
		free(why);
		jv_free(value);
		return jv_null();
	}
	return value;
}

static void compute_limits(const struct scenario_opts *opts, const struct vm_result *result,
			   struct scenario_limits *limits)
{
	bool tcg = result->accel && !strcmp(result->accel, "tcg");

	limits->tcg_scale = tcg ? TCG_THRESHOLD_SCALE : 1.0;
	limits->gap_scaled = tcg && opts->def.max_gap_ms < 0;
	limits->spread_scaled = tcg && opts->def.max_spread_pct < 0;
	limits->max_gap_ms = opts->def.max_gap_ms >= 0 ? opts->def.max_gap_ms :
		DEFAULT_MAX_GAP_MS * limits->tcg_scale;
	limits->max_spread_pct = opts->def.max_spread_pct >= 0 ? opts->def.max_spread_pct :
		fmin(100.0, DEFAULT_MAX_SPREAD_PCT * limits->tcg_scale);
}

/* Print the scheduler's last lines after a scheduler failure. */
static void print_scheduler_tail(jv sched)
{
	const char *log = json_str(sched, "log");
	char *tail;

	if (!log || !*log)
		return;
	tail = scenario_text_tail(log, 20);
	fprintf(stderr, "%s: the scheduler's last output:\n", diag_progname);
	for (char *line = tail, *end; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		fprintf(stderr, "  | %.*s\n", end ? (int)(end - line) : (int)strlen(line), line);
	}
	free(tail);
}

static void print_summary(const struct scenario_opts *opts, const struct vm_result *vm, jv doc,
			  jv result, jv sched)
{
	const char *outcome = json_str(doc, "outcome");
	const char *scheduler = json_str(doc, "scheduler");
	const char *topology = json_str(doc, "topology");
	jv failures = jv_object_get(jv_copy(doc), jv_string("failures"));
	long long workers = 0, iterations = 0;
	jv stats = jv_object_get(jv_copy(doc), jv_string("stats"));

	json_int(stats, "total_workers", &workers);
	json_int(stats, "total_iterations", &iterations);
	jv_free(stats);
	info_msg("scenario '%s' with %s on %s (%s): %s, %lld workers, %lld iterations",
		 opts->def.name, scheduler, topology, vm->accel ? vm->accel : "?", outcome, workers,
		 iterations);
	jv_array_foreach(failures, i, failure)
	{
		err_msg("%s check failed: %s", json_str(failure, "check"), json_str(failure, "message"));
		jv_free(failure);
	}
	jv_free(failures);

	jv errors = jv_get_kind(result) == JV_KIND_OBJECT ?
		jv_object_get(jv_copy(result), jv_string("errors")) : jv_array();
	if (jv_get_kind(errors) == JV_KIND_ARRAY) {
		jv_array_foreach(errors, i, error)
		{
			if (jv_get_kind(error) == JV_KIND_STRING)
				err_msg("the guest reported: %s", jv_string_value(error));
			jv_free(error);
		}
	}
	jv_free(errors);

	bool sched_failed = false;
	if (jv_get_kind(sched) == JV_KIND_OBJECT && json_bool(sched, "failed", &sched_failed) && sched_failed)
		print_scheduler_tail(sched);
}

/* Write the sidecar; returns its path (malloc'd) or NULL after a message. */
static char *write_sidecar(const struct scenario_opts *opts, jv doc)
{
	const char *dir = opts->sidecar_dir_resolved;
	char *name = sidecar_file_name(json_str(doc, "test_name"), json_str(doc, "topology"),
				       json_str(doc, "profile"), opts->run_id);
	char *path = fs_path_join(dir, name);

	if (fs_mkdir_p(dir, 0755) != 0) {
		err_errno("cannot create the sidecar directory '%s'", dir);
		free(path);
		path = NULL;
	} else if (json_write_file(path, jv_copy(doc)) != 0) {
		err_errno("cannot write the sidecar '%s'", path);
		free(path);
		path = NULL;
	}
	free(name);
	return path;
}

int scenario_report(const struct scenario_opts *opts, const struct vm_result *result)
{
	struct scenario_limits limits;
	struct sidecar_project project = SIDECAR_PROJECT_INIT;
	jv result_rec = parse_record(result, "result");
	jv sched_rec = parse_record(result, "sched");
	jv failures;
	const char *outcome;
	char *error = NULL;
	int status;

	compute_limits(opts, result, &limits);
	if (result->outcome == VM_OUTCOME_INTERRUPTED) {
		/* The run was cut short, so whatever the guest measured is
		 * partial.  The sidecar records what stopped it instead. */
		int signo = vm_signals_pending();
		failures = jv_array();
		status = signo ? 128 + signo : VM_EXIT_FAILED;
		outcome = "interrupted";
		error = xasprintf("ktstr-vm was stopped by %s before the scenario ended",
				  signo ? vm_signal_name(signo) : "a signal");
	} else if (result->outcome != VM_OUTCOME_EXITED) {
		/* main.c explains a panic, timeout or failed start. */
		failures = jv_array();
		status = vm_result_status(result);
		outcome = result->outcome == VM_OUTCOME_TIMEOUT ? "timeout" :
			result->outcome == VM_OUTCOME_PANIC ? "panic" : "error";
		error = vm_failure_summary(result);
	} else if (jv_get_kind(result_rec) != JV_KIND_OBJECT) {
		err_msg("the guest sent no scenario result (guest exit status %d)", result->guest_status);
		failures = jv_array();
		status = VM_EXIT_FAILED;
		outcome = "error";
	} else {
		const char *guest = json_str(result_rec, "status");
		failures = scenario_check_run(result_rec, opts->scheduler_path ? sched_rec : jv_null(), &limits);
		if (guest && !strcmp(guest, "error")) {
			outcome = "error";
			status = VM_EXIT_FAILED;
		} else if (jv_get_kind(sched_rec) == JV_KIND_OBJECT && guest &&
			   !strcmp(guest, "scheduler-failed")) {
			outcome = "scheduler-failed";
			status = KTSTR_EXIT_NO;
		} else if (jv_array_length(jv_copy(failures)) > 0) {
			outcome = "fail";
			status = KTSTR_EXIT_NO;
		} else {
			outcome = "pass";
			status = KTSTR_EXIT_OK;
		}
	}

	sidecar_project_probe(NULL, &project);
	struct sidecar_inputs in = {
		.def = &opts->def,
		.scheduler_path = opts->scheduler_path,
		.sched_args = &opts->run_args,
		.active_flags = &opts->active_flags,
		.profile = opts->profile_name ? opts->profile_name : PROFILE_DEFAULT,
		.vm = result,
		.result = result_rec,
		.sched = sched_rec,
		.failures = failures,
		.limits = &limits,
		.outcome = outcome,
		.passed = !strcmp(outcome, "pass"),
		.exit_status = status,
		.error = error,
		.timestamp = opts->timestamp,
		.run_id = opts->run_id,
		.project_branch = project.branch,
		.project_commit = project.commit,
	};
	jv doc = scenario_sidecar_build(&in);

	if (result->outcome == VM_OUTCOME_EXITED)
		print_summary(opts, result, doc, result_rec, sched_rec);
	char *path = write_sidecar(opts, doc);
	if (!path && status == KTSTR_EXIT_OK)
		status = VM_EXIT_FAILED;
	if (path)
		info_msg("sidecar: %s", path);
	if (opts->json)
		json_print(stdout, jv_copy(doc), true);
	else if (path)
		printf("%s\n", path);

	free(path);
	free(error);
	jv_free(doc);
	jv_free(failures);
	jv_free(result_rec);
	jv_free(sched_rec);
	sidecar_project_release(&project);
	return status;
}
