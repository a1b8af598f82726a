/* Reading sidecar files and folding each into the report. */
#include "stats.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "sidecar.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Failure messages are kept per failed run, so cap them. */
#define MESSAGE_MAX 240

/* Grow an array of count elements to hold one more.  Zeroes new space. */
#define GROW(array, count, cap)                                                            \
	do {                                                                               \
		if ((count) == (cap)) {                                                    \
			size_t new_cap_ = (cap) ? (cap) * 2 : 16;                          \
			(array) = xrealloc((array), new_cap_ * sizeof(*(array)));           \
			memset((array) + (cap), 0, (new_cap_ - (cap)) * sizeof(*(array)));  \
			(cap) = new_cap_;                                                  \
		}                                                                          \
	} while (0)

/* The value at a dotted key path ("monitor.event_deltas.total_fallback"), a
 * new reference, or jv_invalid() when a key along the way is missing. */
static jv lookup(jv doc, const char *path)
{
	jv value = jv_copy(doc);

	while (*path) {
		size_t len = strcspn(path, ".");

		if (jv_get_kind(value) != JV_KIND_OBJECT) {
			jv_free(value);
			return jv_invalid();
		}
		value = jv_object_get(value, jv_string_sized(path, (int)len));
		if (!jv_is_valid(value))
			return value;
		path += len;
		if (*path == '.')
			path++;
	}
	return value;
}

/* A finite number at path, or NAN. */
static double lookup_number(jv doc, const char *path)
{
	jv value = lookup(doc, path);
	double number = NAN;

	if (jv_get_kind(value) == JV_KIND_NUMBER && isfinite(jv_number_value(value)))
		number = jv_number_value(value);
	jv_free(value);
	return number;
}

/* A number field of obj (borrowed) that is finite and not negative, or 0. */
static double count_field(jv obj, const char *key)
{
	double number;

	if (!json_num(obj, key, &number) || !isfinite(number) || number < 0)
		return 0;
	return number;
}

/* The borrowed array at key, or NULL-kind when missing or of another type. */
static jv array_field(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	jv value = jv_object_get(jv_copy(obj), jv_string(key));
	if (jv_get_kind(value) != JV_KIND_ARRAY) {
		jv_free(value);
		return jv_null();
	}
	/* obj keeps its own reference, so the borrowed value stays alive. */
	jv_free(value);
	return value;
}

static int array_length(jv array)
{
	return jv_get_kind(array) == JV_KIND_ARRAY ? jv_array_length(jv_copy(array)) : 0;
}

/* Element i of a borrowed array, itself borrowed. */
static jv array_item(jv array, int i)
{
	jv item = jv_array_get(jv_copy(array), i);

	jv_free(item);
	return item;
}

static const char *str_or(jv obj, const char *key, const char *fallback)
{
	const char *value = json_str(obj, key);

	return value && *value ? value : fallback;
}

static enum outcome read_outcome(jv doc)
{
	const char *name = json_str(doc, "outcome");
	bool flag = false;

	if (json_bool(doc, "skipped", &flag) && flag)
		return OUTCOME_SKIPPED;
	for (int i = 0; name && i < OUTCOME_COUNT; i++) {
		if (!strcmp(name, outcome_names[i]))
			return (enum outcome)i;
	}
	/* Upstream files, and outcomes newer than this reader, go by "passed". */
	json_bool(doc, "passed", &flag);
	return flag ? OUTCOME_PASS : OUTCOME_FAIL;
}

/* The flag profile: "profile" when present, else active_flags joined with
 * '+', else "default".  Malloc'd. */
static char *read_profile(jv doc)
{
	const char *profile = json_str(doc, "profile");
	jv flags = array_field(doc, "active_flags");
	int count = array_length(flags);

	if (profile && *profile)
		return xstrdup(profile);
	if (count == 0)
		return xstrdup("default");

	size_t len = 0;
	for (int i = 0; i < count; i++) {
		jv flag = array_item(flags, i);
		if (jv_get_kind(flag) == JV_KIND_STRING)
			len += strlen(jv_string_value(flag)) + 1;
	}
	char *joined = xcalloc(1, len + 1);
	for (int i = 0; i < count; i++) {
		jv flag = array_item(flags, i);
		if (jv_get_kind(flag) != JV_KIND_STRING)
			continue;
		if (*joined)
			strcat(joined, "+");
		strcat(joined, jv_string_value(flag));
	}
	if (!*joined) {
		free(joined);
		return xstrdup("default");
	}
	return joined;
}

static uint32_t add_to_group(struct report *report, enum dimension_id dim, const char *name,
			     uint32_t row_index, const struct run_row *row)
{
	struct dimension *dimension = &report->dims[dim];
	uint32_t id = strmap_intern(&dimension->names, name, NULL);

	GROW(dimension->groups, id, dimension->cap_groups);
	struct group *group = &dimension->groups[id];
	group->runs++;
	group->outcomes[row->outcome]++;
	GROW(group->rows, group->nr_rows, group->cap_rows);
	group->rows[group->nr_rows++] = row_index;
	return id;
}

static uint32_t add_path(struct report *report, const char *path)
{
	size_t len = strlen(path) + 1;
	uint32_t offset = (uint32_t)report->paths_len;

	while (report->paths_len + len > report->paths_cap) {
		report->paths_cap = report->paths_cap ? report->paths_cap * 2 : 4096;
		report->paths = xrealloc(report->paths, report->paths_cap);
	}
	memcpy(report->paths + report->paths_len, path, len);
	report->paths_len += len;
	return offset;
}

const char *report_path(const struct report *report, uint32_t row)
{
	return report->paths + report->rows[row].path;
}

/* A copy of text capped at MESSAGE_MAX bytes, on one line. */
static char *one_line(const char *text)
{
	char *copy = xstrndup(text, MESSAGE_MAX);

	for (char *p = copy; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	return copy;
}

static void add_failure(struct report *report, jv doc, uint32_t row_index)
{
	jv failures = array_field(doc, "failures");
	struct failed_run *failed;

	GROW(report->failed, report->nr_failed, report->cap_failed);
	failed = &report->failed[report->nr_failed++];
	failed->row = row_index;
	if (array_length(failures) > 0) {
		jv first = array_item(failures, 0);
		const char *check = json_str(first, "check");
		const char *message = json_str(first, "message");

		failed->check = check ? xstrdup(check) : NULL;
		failed->message = message ? one_line(message) : NULL;
		return;
	}
	jv sched_ext = lookup(doc, "sched_ext");
	const char *reason = json_str(sched_ext, "exit_reason");
	if (reason) {
		failed->check = xstrdup("scheduler");
		failed->message = one_line(reason);
	}
	jv_free(sched_ext);
}

static void add_stimuli(struct report *report, jv doc, enum outcome outcome)
{
	jv events = array_field(doc, "stimulus_events");
	int count = array_length(events);
	uint32_t seen[16];
	size_t nr_seen = 0;

	for (int i = 0; i < count; i++) {
		jv event = array_item(events, i);
		const char *name = json_str(event, "op_kind");

		if (!name || !*name)
			name = json_str(event, "label");
		if (!name || !*name)
			continue;

		uint32_t id = strmap_intern(&report->stimuli, name, NULL);
		bool repeated = false;
		for (size_t j = 0; j < nr_seen; j++)
			repeated |= seen[j] == id;
		if (repeated)
			continue;
		/* NOTE: a run with more than 16 distinct stimulus kinds may count a
		 * kind beyond the 16th more than once. */
		if (nr_seen < sizeof(seen) / sizeof(seen[0]))
			seen[nr_seen++] = id;

		GROW(report->stimulus_rows, id, report->cap_stimulus_rows);
		report->stimulus_rows[id].runs++;
		report->stimulus_rows[id].outcomes[outcome]++;
	}
	if (nr_seen > 0) {
		report->runs_with_stimuli++;
	} else {
		report->no_stimulus.runs++;
		report->no_stimulus.outcomes[outcome]++;
	}
}

static struct program_stat *program(struct report *report, const char *scheduler, const char *name)
{
	char *key = xasprintf("%s\t%s", scheduler, name);
	uint32_t id = strmap_intern(&report->programs, key, NULL);

	free(key);
	GROW(report->program_stats, id, report->cap_program_stats);
	return &report->program_stats[id];
}

static void add_verifier_counts(struct report *report, jv doc, const char *scheduler)
{
	jv programs = array_field(doc, "verifier_stats");

	/* Our bpf_programs list carries the same counts when verifier_stats is empty. */
	if (array_length(programs) == 0)
		programs = array_field(doc, "bpf_programs");
	for (int i = 0, count = array_length(programs); i < count; i++) {
		jv prog = array_item(programs, i);
		const char *name = json_str(prog, "name");
		long long insns;

		if (!name || !json_int(prog, "verified_insns", &insns) || insns <= 0)
			continue;
		struct program_stat *stat = program(report, scheduler, name);
		stat->verifier_runs++;
		if (insns > stat->verified_insns)
			stat->verified_insns = insns;
	}
}

static void add_callback_profile(struct report *report, jv doc, const char *scheduler)
{
	jv monitor = lookup(doc, "monitor");
	jv deltas = array_field(monitor, "prog_stats_deltas");
	const char *cnt_key = "cnt", *nsecs_key = "nsecs";

	if (array_length(deltas) == 0) {
		deltas = array_field(doc, "bpf_programs");
		cnt_key = "run_cnt";
		nsecs_key = "run_time_ns";
	}
	for (int i = 0, count = array_length(deltas); i < count; i++) {
		jv prog = array_item(deltas, i);
		const char *name = json_str(prog, "name");
		double cnt = count_field(prog, cnt_key);

		if (!name || cnt <= 0)
			continue;
		struct program_stat *stat = program(report, scheduler, name);
		stat->profile_runs++;
		stat->cnt += (unsigned long long)cnt;
		stat->nsecs += (unsigned long long)count_field(prog, nsecs_key);
	}
	jv_free(monitor);
}

static void add_kvm(struct report *report, jv doc)
{
	struct kvm_totals *kvm = &report->kvm;
	jv stats = lookup(doc, "kvm_stats");
	jv vcpus = array_field(stats, "per_vcpu");
	int count = array_length(vcpus);
	const char *accel = json_str(doc, "accel");

	if (count == 0) {
		if (accel && !strcmp(accel, "tcg"))
			kvm->tcg_runs++;
		jv_free(stats);
		return;
	}

	double exits = 0, halt_exits = 0, halt_wait_ns = 0, preemptions = 0;
	double signal_exits = 0, hypercalls = 0;
	for (int i = 0; i < count; i++) {
		jv vcpu = array_item(vcpus, i);

		exits += count_field(vcpu, "exits");
		halt_exits += count_field(vcpu, "halt_exits");
		halt_wait_ns += count_field(vcpu, "halt_wait_ns");
		preemptions += count_field(vcpu, "preemption_reported");
		signal_exits += count_field(vcpu, "signal_exits");
		hypercalls += count_field(vcpu, "hypercalls");
		kvm->halt_successful_poll += count_field(vcpu, "halt_successful_poll");
		kvm->halt_attempted_poll += count_field(vcpu, "halt_attempted_poll");
	}
	kvm->vms++;
	kvm->exits += exits / count;
	kvm->halt_exits += halt_exits / count;
	kvm->halt_wait_ns += halt_wait_ns / count;
	kvm->preemptions += preemptions / count;
	kvm->signal_exits += signal_exits / count;
	kvm->hypercalls += hypercalls / count;
	kvm->preemptions_total += preemptions;
	jv_free(stats);
}

static void add_run(struct report *report, const char *path, jv doc, bool upstream)
{
	uint32_t row_index = (uint32_t)report->nr_rows;
	struct run_row *row;
	char *profile = read_profile(doc);
	const char *scheduler = str_or(doc, "scheduler", "unknown");
	bool stalled = false;

	GROW(report->rows, report->nr_rows, report->cap_rows);
	row = &report->rows[report->nr_rows++];
	row->path = add_path(report, path);
	row->outcome = read_outcome(doc);
	for (int m = 0; m < METRIC_COUNT; m++)
		row->metric[m] = lookup_number(doc, metric_defs[m].path);

	/* Skipped runs did not run, so they carry no measurements. */
	if (row->outcome == OUTCOME_SKIPPED) {
		for (int m = 0; m < METRIC_COUNT; m++)
			row->metric[m] = NAN;
	}

	row->group[DIM_SCENARIO] = add_to_group(report, DIM_SCENARIO, json_str(doc, "test_name"), row_index, row);
	row->group[DIM_PROFILE] = add_to_group(report, DIM_PROFILE, profile, row_index, row);
	row->group[DIM_TOPOLOGY] = add_to_group(report, DIM_TOPOLOGY, json_str(doc, "topology"), row_index, row);
	row->group[DIM_SCHEDULER] = add_to_group(report, DIM_SCHEDULER, scheduler, row_index, row);
	row->group[DIM_WORK_TYPE] = add_to_group(report, DIM_WORK_TYPE, str_or(doc, "work_type", "unknown"),
						 row_index, row);

	jv monitor = lookup(doc, "monitor");
	if (json_bool(monitor, "stall_detected", &stalled) && stalled) {
		for (int d = 0; d < DIM_COUNT; d++)
			report->dims[d].groups[row->group[d]].stalls++;
	}
	jv_free(monitor);

	report->outcomes[row->outcome]++;
	if (upstream)
		report->upstream_rows++;
	if (outcome_failed(row->outcome))
		add_failure(report, doc, row_index);
	add_stimuli(report, doc, row->outcome);
	add_verifier_counts(report, doc, scheduler);
	add_callback_profile(report, doc, scheduler);
	add_kvm(report, doc);
	free(profile);
}

static void skip_file(struct report *report, const char *path, enum skip_reason reason, const char *message)
{
	struct skipped_file *skipped;

	GROW(report->skipped, report->nr_skipped, report->cap_skipped);
	skipped = &report->skipped[report->nr_skipped++];
	skipped->path = xstrdup(path);
	skipped->reason = reason;
	skipped->message = xstrdup(message);
	warn_msg("skipping '%s': %s", path, message);
}

static void load_file(struct report *report, const char *path)
{
	enum json_error error;
	char *why = NULL;
	const char *cause;
	jv doc = json_read_file(path, &error, &why);

	switch (error) {
	case JSON_OK:
		break;
	case JSON_MISSING:
	case JSON_UNREADABLE: {
		char *message = xasprintf("cannot read it: %s", why);
		skip_file(report, path, SKIP_UNREADABLE, message);
		free(message);
		goto free_why;
	}
	case JSON_TRUNCATED:
	case JSON_MALFORMED: {
		bool truncated = error == JSON_TRUNCATED;
		/* libjq quotes the whole input after this; the warning is one line. */
		char *quote = strstr(why, " (while parsing");
		if (quote)
			*quote = '\0';
		char *message = xasprintf("%s JSON: %s", truncated ? "truncated" : "invalid", why);
		skip_file(report, path, truncated ? SKIP_TRUNCATED : SKIP_MALFORMED, message);
		free(message);
		goto free_why;
	}
	}

	enum sidecar_kind kind = sidecar_classify(doc, &cause);
	if (kind == SIDECAR_FOREIGN) {
		char *message = xasprintf("not a ktstr sidecar: %s", cause);
		skip_file(report, path, SKIP_FOREIGN, message);
		free(message);
	} else if (kind == SIDECAR_FUTURE) {
		long long version = 0;
		json_int(doc, "schema_version", &version);
		char *message = xasprintf("schema_version %lld is newer than this ktstr reads (%d): "
					  "upgrade ktstr to analyse it",
					  version, SIDECAR_SCHEMA_VERSION);
		skip_file(report, path, SKIP_FUTURE, message);
		free(message);
	} else {
		add_run(report, path, doc, kind == SIDECAR_UPSTREAM);
	}
	jv_free(doc);
free_why:
	free(why);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool entry_is_dir(int dir_fd, const struct dirent *entry)
{
	struct stat st;

	if (entry->d_type == DT_DIR)
		return true;
	if (entry->d_type != DT_UNKNOWN && entry->d_type != DT_LNK)
		return false;
	return fstatat(dir_fd, entry->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Read the sidecars of dir in name order; depth 0 also descends one level. */
static int load_tree(struct report *report, const char *dir, int depth)
{
	struct strvec files = STRVEC_INIT, subdirs = STRVEC_INIT;
	DIR *stream = opendir(dir);
	struct dirent *entry;

	if (!stream) {
		if (depth == 0)
			return err_errno("open sidecar directory '%s'", dir);
		warn_errno("skipping directory '%s'", dir);
		return 0;
	}
	errno = 0;
	while ((entry = readdir(stream))) {
		if (sidecar_is_file_name(entry->d_name))
			strvec_push(&files, entry->d_name);
		else if (depth == 0 && entry->d_name[0] != '.' && entry_is_dir(dirfd(stream), entry))
			strvec_push(&subdirs, entry->d_name);
		errno = 0;
	}
	int read_errno = errno;
	closedir(stream);
	if (read_errno) {
		errno = read_errno;
		strvec_release(&files);
		strvec_release(&subdirs);
		if (depth == 0)
			return err_errno("read sidecar directory '%s'", dir);
		warn_errno("skipping directory '%s'", dir);
		return 0;
	}

	qsort(files.items, files.len, sizeof(*files.items), compare_names);
	qsort(subdirs.items, subdirs.len, sizeof(*subdirs.items), compare_names);
	for (size_t i = 0; i < files.len; i++) {
		char *path = fs_path_join(dir, files.items[i]);
		load_file(report, path);
		free(path);
	}
	for (size_t i = 0; i < subdirs.len; i++) {
		char *path = fs_path_join(dir, subdirs.items[i]);
		load_tree(report, path, depth + 1);
		free(path);
	}
	strvec_release(&files);
	strvec_release(&subdirs);
	return 0;
}

int load_dir(struct report *report, const char *dir)
{
	if (load_tree(report, dir, 0) != 0)
		return -1;
	report->dirs = xrealloc(report->dirs, (report->nr_dirs + 1) * sizeof(*report->dirs));
	report->dirs[report->nr_dirs++] = xstrdup(dir);
	return 0;
}

void report_release(struct report *report)
{
	for (size_t i = 0; i < report->nr_dirs; i++)
		free(report->dirs[i]);
	free(report->dirs);
	free(report->paths);
	free(report->rows);
	for (int d = 0; d < DIM_COUNT; d++) {
		struct dimension *dimension = &report->dims[d];
		for (size_t g = 0; g < dimension->names.len; g++)
			free(dimension->groups[g].rows);
		free(dimension->groups);
		free(dimension->order);
		strmap_release(&dimension->names);
	}
	for (size_t i = 0; i < report->nr_failed; i++) {
		free(report->failed[i].check);
		free(report->failed[i].message);
	}
	free(report->failed);
	free(report->outliers);
	strmap_release(&report->stimuli);
	free(report->stimulus_rows);
	strmap_release(&report->programs);
	free(report->program_stats);
	free(report->verifier_order);
	free(report->profile_order);
	for (size_t i = 0; i < report->nr_skipped; i++) {
		free(report->skipped[i].path);
		free(report->skipped[i].message);
	}
	free(report->skipped);
}
