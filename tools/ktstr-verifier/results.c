/* Profile results: built from a run's sidecar document, or loaded back from
 * saved sidecars and ktstr-verifier --json documents. */
#include "verifier.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "sidecar.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[] = {
	[RUN_LOADED] = "loaded",
	[RUN_LOAD_FAILED] = "load-failed",
	[RUN_SCHED_FAILED] = "scheduler-failed",
	[RUN_ERROR] = "error",
};

const char *run_outcome_name(enum run_outcome outcome)
{
	return outcome_names[outcome];
}

static bool outcome_from_name(const char *name, enum run_outcome *outcome)
{
	for (size_t i = 0; name && i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++) {
		if (!strcmp(outcome_names[i], name)) {
			*outcome = (enum run_outcome)i;
			return true;
		}
	}
	return false;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The value at key if it is an array, else an empty array.  Borrows obj. */
static jv array_at(jv obj, const char *key)
{
	jv value = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key)) : jv_invalid();

	if (jv_get_kind(value) == JV_KIND_ARRAY)
		return value;
	jv_free(value);
	return jv_array();
}

static void strings_at(jv obj, const char *key, struct strvec *out)
{
	jv array = array_at(obj, key);

	jv_array_foreach(array, i, item) {
		if (jv_get_kind(item) == JV_KIND_STRING)
			strvec_push(out, jv_string_value(item));
		jv_free(item);
	}
	jv_free(array);
}

static void add_prog(struct profile_result *result, const char *name, const char *type, long long insns)
{
	result->progs = xrealloc(result->progs, (result->nr_progs + 1) * sizeof(*result->progs));
	result->progs[result->nr_progs].name = xstrdup(name);
	result->progs[result->nr_progs].type = dup_or_null(type);
	result->progs[result->nr_progs].verified_insns = insns;
	result->nr_progs++;
}

/* Programs from an array of {name, type, verified_insns} objects. */
static void progs_from(struct profile_result *result, jv array)
{
	jv_array_foreach(array, i, item) {
		const char *name = json_str(item, "name");
		long long insns = -1;

		if (name) {
			if (!json_int(item, "verified_insns", &insns))
				insns = -1;
			add_prog(result, name, json_str(item, "type"), insns);
		}
		jv_free(item);
	}
}

void profile_result_scan_log(struct profile_result *result)
{
	struct verifier_log_prog *progs;
	size_t count;

	if (!result->log)
		return;
	count = verifier_log_find_progs(result->log, strlen(result->log), &progs);
	result->failures = xcalloc(count ? count : 1, sizeof(*result->failures));
	for (size_t i = 0; i < count; i++) {
		struct load_failure *failure = &result->failures[i];

		failure->program = progs[i].program;
		failure->error = progs[i].error;
		failure->stats = progs[i].stats;
		failure->has_stats = progs[i].has_stats;
		progs[i].program = NULL;
		progs[i].error = NULL;
		progs[i].stats.stack_depth = NULL;
	}
	result->nr_failures = count;
	verifier_log_progs_free(progs, count);
}

/* The scheduler's output: the whole log when the sidecar has it, else the
 * tail that sched_ext.log_tail keeps. */
static char *sidecar_log(jv doc)
{
	const char *log = json_str(doc, "scheduler_log");
	jv sched_ext;

	if (log)
		return xstrdup(log);
	sched_ext = jv_object_get(jv_copy(doc), jv_string("sched_ext"));
	if (jv_get_kind(sched_ext) == JV_KIND_OBJECT) {
		const char *tail = json_str(sched_ext, "log_tail");
		char *copy = dup_or_null(tail);

		jv_free(sched_ext);
		return copy;
	}
	jv_free(sched_ext);
	return NULL;
}

/* sched_ext.exit_reason of a sidecar, malloc'd, or NULL. */
static char *sidecar_exit_reason(jv doc)
{
	jv sched_ext = jv_object_get(jv_copy(doc), jv_string("sched_ext"));
	char *reason = NULL;

	if (jv_get_kind(sched_ext) == JV_KIND_OBJECT)
		reason = dup_or_null(json_str(sched_ext, "exit_reason"));
	jv_free(sched_ext);
	return reason;
}

/*
 * Decide the outcome.  A load log means the verifier rejected a program,
 * whatever else happened.  Programs in the sidecar mean they were verified,
 * even when the scheduler failed later.  Without either, the sidecar's own
 * outcome separates a scheduler that died early from a VM that failed.
 */
static void classify(jv doc, struct profile_result *result)
{
	const char *outcome = json_str(doc, "outcome");
	char *reason = sidecar_exit_reason(doc);

	if (result->nr_failures > 0) {
		result->outcome = RUN_LOAD_FAILED;
		result->message = xasprintf("the verifier rejected program '%s'%s%s%s",
					    result->failures[0].program,
					    result->failures[0].error ? " (" : "",
					    result->failures[0].error ? result->failures[0].error : "",
					    result->failures[0].error ? ")" : "");
	} else if (result->nr_progs > 0) {
		result->outcome = RUN_LOADED;
		if (outcome && strcmp(outcome, "pass") && strcmp(outcome, "fail"))
			result->message = xasprintf("programs loaded, then the run ended with outcome '%s'%s%s",
						    outcome, reason ? ": " : "", reason ? reason : "");
	} else if (outcome && !strcmp(outcome, "scheduler-failed")) {
		result->outcome = RUN_SCHED_FAILED;
		result->message = xasprintf("the scheduler stopped before its programs loaded%s%s",
					    reason ? ": " : "", reason ? reason : "");
	} else if (outcome && (!strcmp(outcome, "pass") || !strcmp(outcome, "fail"))) {
		result->outcome = RUN_LOADED;
		result->message = xstrdup("the run reported no BPF programs");
	} else {
		result->outcome = RUN_ERROR;
		result->message = xasprintf("the VM run ended with outcome '%s'%s%s", outcome ? outcome : "unknown",
					    reason ? ": " : "", reason ? reason : "");
	}
	free(reason);
}

void profile_result_from_sidecar(jv doc, const char *sidecar_path, struct profile_result *result)
{
	jv progs = array_at(doc, "bpf_programs");
	const char *profile = json_str(doc, "profile");

	memset(result, 0, sizeof(*result));
	strings_at(doc, "active_flags", &result->flags);
	strings_at(doc, "scheduler_args", &result->args);
	if (profile) {
		result->profile = xstrdup(profile);
	} else if (result->flags.len == 0) {
		result->profile = xstrdup(PROFILE_DEFAULT);
	} else {
		/* Upstream sidecars have active_flags only. */
		result->profile = xstrdup(result->flags.items[0]);
		for (size_t i = 1; i < result->flags.len; i++) {
			char *longer = xasprintf("%s+%s", result->profile, result->flags.items[i]);
			free(result->profile);
			result->profile = longer;
		}
	}

	if (jv_array_length(jv_copy(progs)) == 0) {
		jv_free(progs);
		progs = array_at(doc, "verifier_stats");
	}
	progs_from(result, progs);
	jv_free(progs);

	result->log = sidecar_log(doc);
	result->sidecar = dup_or_null(sidecar_path);
	result->run_id = dup_or_null(json_str(doc, "run_id"));
	result->kernel_version = dup_or_null(json_str(doc, "kernel_version"));
	profile_result_scan_log(result);
	classify(doc, result);
}

void profile_result_release(struct profile_result *result)
{
	free(result->profile);
	strvec_release(&result->flags);
	strvec_release(&result->args);
	free(result->message);
	for (size_t i = 0; i < result->nr_progs; i++) {
		free(result->progs[i].name);
		free(result->progs[i].type);
	}
	free(result->progs);
	for (size_t i = 0; i < result->nr_failures; i++) {
		free(result->failures[i].program);
		free(result->failures[i].error);
		verifier_log_stats_release(&result->failures[i].stats);
	}
	free(result->failures);
	free(result->log);
	free(result->sidecar);
	free(result->run_id);
	free(result->kernel_version);
	memset(result, 0, sizeof(*result));
}

struct profile_result *verifier_result_add(struct verifier_result *result)
{
	result->profiles = xrealloc(result->profiles, (result->nr_profiles + 1) * sizeof(*result->profiles));
	memset(&result->profiles[result->nr_profiles], 0, sizeof(*result->profiles));
	return &result->profiles[result->nr_profiles++];
}

void verifier_result_release(struct verifier_result *result)
{
	for (size_t i = 0; i < result->nr_profiles; i++)
		profile_result_release(&result->profiles[i]);
	free(result->profiles);
	free(result->scheduler);
	free(result->scheduler_path);
	memset(result, 0, sizeof(*result));
}

long long profile_result_insns(const struct profile_result *result, const char *program)
{
	for (size_t i = 0; i < result->nr_progs; i++) {
		if (!strcmp(result->progs[i].name, program))
			return result->progs[i].verified_insns;
	}
	return -1;
}

bool verifier_result_failed(const struct verifier_result *result)
{
	for (size_t i = 0; i < result->nr_profiles; i++) {
		if (result->profiles[i].outcome != RUN_LOADED)
			return true;
	}
	return false;
}

/* ---- Loading saved results ---- */

static void set_scheduler(struct verifier_result *result, jv doc)
{
	if (!result->scheduler)
		result->scheduler = dup_or_null(json_str(doc, "scheduler"));
	if (!result->scheduler_path)
		result->scheduler_path = dup_or_null(json_str(doc, "scheduler_path"));
}

/* A ktstr-verifier --json document: the inverse of report_json(). */
static int load_verifier_doc(jv doc, const char *path, struct verifier_result *result)
{
	jv profiles = array_at(doc, "profiles");

	set_scheduler(result, doc);
	jv_array_foreach(profiles, i, item) {
		struct profile_result *profile = verifier_result_add(result);
		const char *outcome = json_str(item, "outcome");
		jv progs = array_at(item, "programs");

		profile->profile = xstrdup(json_str(item, "profile") ? json_str(item, "profile") : PROFILE_DEFAULT);
		strings_at(item, "active_flags", &profile->flags);
		strings_at(item, "scheduler_args", &profile->args);
		if (!outcome_from_name(outcome, &profile->outcome)) {
			jv_free(progs);
			jv_free(item);
			jv_free(profiles);
			return err_msg("invalid ktstr-verifier document '%s': profile %d has outcome '%s'", path, i + 1,
				       outcome ? outcome : "(missing)");
		}
		profile->message = dup_or_null(json_str(item, "message"));
		progs_from(profile, progs);
		profile->log = dup_or_null(json_str(item, "scheduler_log"));
		profile->sidecar = dup_or_null(json_str(item, "sidecar"));
		profile->run_id = dup_or_null(json_str(item, "run_id"));
		profile->kernel_version = dup_or_null(json_str(item, "kernel_version"));
		profile_result_scan_log(profile);
		jv_free(progs);
		jv_free(item);
	}
	jv_free(profiles);
	return 0;
}

static int load_sidecar(jv doc, const char *path, struct verifier_result *result)
{
	const char *cause = NULL;
	enum sidecar_kind kind = sidecar_classify(doc, &cause);

	if (kind == SIDECAR_FUTURE || kind == SIDECAR_FOREIGN)
		return err_msg("cannot read '%s': %s", path, cause ? cause : "not a sidecar");
	set_scheduler(result, doc);
	profile_result_from_sidecar(doc, path, verifier_result_add(result));
	return 0;
}

/* Cut libjq's copy of the input ("... (while parsing '...')"), which can
 * span lines, from a parse error. */
static void shorten_parse_error(char *why)
{
	char *quote = why ? strstr(why, " (while parsing") : NULL;

	if (quote)
		*quote = '\0';
}

static int load_file(const char *path, struct verifier_result *result)
{
	enum json_error kind;
	char *why = NULL;
	jv doc = json_read_file(path, &kind, &why);
	int rc;

	if (!jv_is_valid(doc)) {
		shorten_parse_error(why);
		rc = err_msg("cannot read '%s': %s", path, why ? why : json_error_name(kind));
		free(why);
		jv_free(doc);
		return rc;
	}
	if (jv_get_kind(doc) == JV_KIND_OBJECT && json_has(doc, "profiles"))
		rc = load_verifier_doc(doc, path, result);
	else if (jv_get_kind(doc) == JV_KIND_OBJECT && json_has(doc, "a") && json_has(doc, "b"))
		rc = err_msg("cannot read '%s': it is an A/B comparison; give the documents of each side", path);
	else
		rc = load_sidecar(doc, path, result);
	jv_free(doc);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs in the order they started; those without a run id keep file order. */
static int compare_run_ids(const void *a, const void *b)
{
	const struct profile_result *x = a, *y = b;

	if (x->run_id && y->run_id)
		return strcmp(x->run_id, y->run_id);
	return (x->run_id == NULL) - (y->run_id == NULL);
}

static int load_dir(const char *path, struct verifier_result *result)
{
	struct strvec names = STRVEC_INIT;
	struct dirent *entry;
	DIR *dir = opendir(path);
	int rc = 0;

	if (!dir)
		return err_errno("cannot open directory '%s'", path);
	while ((entry = readdir(dir)))
		if (sidecar_is_file_name(entry->d_name))
			strvec_push(&names, entry->d_name);
	closedir(dir);
	if (names.len == 0) {
		strvec_release(&names);
		return err_msg("no sidecar files (*%s) in '%s'", SIDECAR_SUFFIX, path);
	}

	qsort(names.items, names.len, sizeof(*names.items), compare_names);
	size_t first = result->nr_profiles;
	for (size_t i = 0; i < names.len && rc == 0; i++) {
		char *file = fs_path_join(path, names.items[i]);
		rc = load_file(file, result);
		free(file);
	}
	strvec_release(&names);
	if (rc == 0)
		qsort(result->profiles + first, result->nr_profiles - first, sizeof(*result->profiles),
		      compare_run_ids);
	return rc;
}

int verifier_result_load(const char *path, struct verifier_result *result)
{
	int rc;

	if (fs_is_dir(path))
		rc = load_dir(path, result);
	else if (!fs_exists(path))
		rc = err_msg("cannot read '%s': %s", path, strerror(ENOENT));
	else
		rc = load_file(path, result);
	if (rc == 0 && !result->scheduler)
		result->scheduler = xstrdup("unknown");
	return rc;
}
