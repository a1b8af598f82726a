/* Parsing one sidecar and extracting what the report needs from it. */
#include "summary.h"

#include "fsutil.h"
#include "json.h"
#include "prune.h"
#include "sidecar.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Failure messages are kept per failed run, so cap them. */
#define MESSAGE_MAX 240

static const char *const kvm_key_names[KVM_KEY_COUNT] = {
	[KVM_EXITS] = "exits",
	[KVM_HALT_EXITS] = "halt_exits",
	[KVM_HALT_WAIT_NS] = "halt_wait_ns",
	[KVM_PREEMPTION_REPORTED] = "preemption_reported",
	[KVM_SIGNAL_EXITS] = "signal_exits",
	[KVM_HYPERCALLS] = "hypercalls",
};

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

/* A number field of obj (borrowed) that is finite and not negative, or 0. */
static double count_field(jv obj, const char *key)
{
	double number;

	if (!json_num(obj, key, &number) || !isfinite(number) || number < 0)
		return 0;
	return number;
}

/* The array at key of obj, borrowed, or null when missing or of another type. */
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

static char *dup_or(jv obj, const char *key, const char *fallback)
{
	const char *value = json_str(obj, key);

	return xstrdup(value && *value ? value : fallback);
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

/* Read one metric into summary->metric[m], leaving out (as NAN) a value
 * that is negative, not finite or beyond METRIC_MAX. */
static void read_metric(jv doc, enum metric_id m, struct run_summary *summary)
{
	jv value = lookup(doc, metric_defs[m].path);
	double number = NAN;

	if (jv_get_kind(value) == JV_KIND_NUMBER) {
		number = jv_number_value(value);
		if (!isfinite(number) || number < 0 || number > METRIC_MAX) {
			if (summary->nr_invalid++ == 0) {
				summary->first_invalid = m;
				summary->first_invalid_value = number;
			}
			number = NAN;
		}
	}
	jv_free(value);
	summary->metric[m] = number;
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
	struct strvec names = STRVEC_INIT;

	if (profile && *profile)
		return xstrdup(profile);
	for (int i = 0; i < count; i++) {
		jv flag = array_item(flags, i);
		if (jv_get_kind(flag) == JV_KIND_STRING)
			strvec_push(&names, jv_string_value(flag));
	}
	if (!names.len)
		return xstrdup("default");

	size_t len = 0;
	for (size_t i = 0; i < names.len; i++)
		len += strlen(names.items[i]) + 1;
	char *joined = xcalloc(1, len);
	for (size_t i = 0; i < names.len; i++) {
		if (i)
			strcat(joined, "+");
		strcat(joined, names.items[i]);
	}
	strvec_release(&names);
	return joined;
}

static void read_failure(jv doc, struct run_summary *summary)
{
	jv failures = array_field(doc, "failures");

	if (array_length(failures) > 0) {
		jv first = array_item(failures, 0);
		const char *check = json_str(first, "check");
		const char *message = json_str(first, "message");

		summary->check = check ? xstrdup(check) : NULL;
		summary->failure_message = message ? one_line(message) : NULL;
		return;
	}
	/* A scheduler that was kicked out has no failed check, only the reason. */
	jv sched_ext = lookup(doc, "sched_ext");
	const char *reason = json_str(sched_ext, "exit_reason");
	if (reason) {
		summary->check = xstrdup("scheduler");
		summary->failure_message = one_line(reason);
		jv_free(sched_ext);
		return;
	}
	jv_free(sched_ext);
	/* A run whose VM failed (panic, timeout, QEMU) has the reason in error. */
	const char *error = json_str(doc, "error");
	if (error) {
		summary->check = xstrdup("run");
		summary->failure_message = one_line(error);
	}
}

static void read_stimuli(jv doc, struct run_summary *summary)
{
	jv events = array_field(doc, "stimulus_events");
	int count = array_length(events);

	for (int i = 0; i < count; i++) {
		jv event = array_item(events, i);
		const char *name = json_str(event, "op_kind");
		bool repeated = false;

		if (!name || !*name)
			name = json_str(event, "label");
		if (!name || !*name)
			continue;
		for (size_t j = 0; j < summary->nr_stimuli; j++)
			repeated |= !strcmp(summary->stimuli[j], name);
		if (repeated)
			continue;
		summary->stimuli = xrealloc(summary->stimuli, (summary->nr_stimuli + 1) * sizeof(*summary->stimuli));
		summary->stimuli[summary->nr_stimuli++] = xstrdup(name);
	}
}

static struct program_sample *add_sample(struct program_sample **samples, size_t *count, const char *name)
{
	*samples = xrealloc(*samples, (*count + 1) * sizeof(**samples));
	struct program_sample *sample = &(*samples)[(*count)++];
	*sample = (struct program_sample){ .name = xstrdup(name) };
	return sample;
}

static void read_verifier(jv doc, struct run_summary *summary)
{
	jv programs = array_field(doc, "verifier_stats");

	/* Our bpf_programs list carries the same counts when verifier_stats is empty. */
	if (array_length(programs) == 0)
		programs = array_field(doc, "bpf_programs");
	for (int i = 0, count = array_length(programs); i < count; i++) {
		jv prog = array_item(programs, i);
		const char *name = json_str(prog, "name");
		double insns = count_field(prog, "verified_insns");

		if (name && insns > 0)
			add_sample(&summary->verifier, &summary->nr_verifier, name)->verified_insns = insns;
	}
}

static void read_callbacks(jv doc, struct run_summary *summary)
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
		struct program_sample *sample = add_sample(&summary->callbacks, &summary->nr_callbacks, name);
		sample->cnt = cnt;
		sample->nsecs = count_field(prog, nsecs_key);
	}
	jv_free(monitor);
}

/* Whether obj (borrowed) has key as a finite number that is not negative,
 * which is then stored in *value. */
static bool counter_field(jv obj, const char *key, double *value)
{
	return json_num(obj, key, value) && isfinite(*value) && *value >= 0;
}

/* A vCPU whose statistic is missing, null, a string or negative is left out
 * of that statistic's average instead of counting as 0. */
static void read_kvm(jv doc, struct run_summary *summary)
{
	jv stats = lookup(doc, "kvm_stats");
	jv vcpus = array_field(stats, "per_vcpu");
	int count = array_length(vcpus);
	const char *accel = json_str(doc, "accel");
	double sums[KVM_KEY_COUNT] = { 0 };
	int reported[KVM_KEY_COUNT] = { 0 };

	if (count == 0) {
		summary->tcg = accel && !strcmp(accel, "tcg");
		jv_free(stats);
		return;
	}
	summary->has_kvm = true;
	for (int i = 0; i < count; i++) {
		jv vcpu = array_item(vcpus, i);
		double value;

		for (int k = 0; k < KVM_KEY_COUNT; k++) {
			if (counter_field(vcpu, kvm_key_names[k], &value)) {
				sums[k] += value;
				reported[k]++;
			}
		}
		summary->halt_successful_poll += count_field(vcpu, "halt_successful_poll");
		summary->halt_attempted_poll += count_field(vcpu, "halt_attempted_poll");
	}
	summary->preemptions = sums[KVM_PREEMPTION_REPORTED];
	for (int k = 0; k < KVM_KEY_COUNT; k++)
		summary->kvm_per_vcpu[k] = reported[k] ? sums[k] / reported[k] : NAN;
	jv_free(stats);
}

/* Whether the guest reported its workers' figures.  ktstr-vm writes stats
 * with every number 0 when the guest never reported (QEMU failed, or the VM
 * stopped on a KVM internal error, its --timeout or a panic first), and null
 * for an interrupted run.  A stats object without total_workers counts as
 * measured. */
static bool read_measured(jv doc)
{
	jv stats = lookup(doc, "stats");
	double workers;
	bool measured = jv_get_kind(stats) == JV_KIND_OBJECT;

	if (measured && json_num(stats, "total_workers", &workers) && workers == 0)
		measured = false;
	jv_free(stats);
	return measured;
}

static void read_run(jv doc, struct run_summary *summary)
{
	jv monitor = lookup(doc, "monitor");

	summary->group[DIM_SCENARIO] = dup_or(doc, "test_name", "unknown");
	summary->group[DIM_PROFILE] = read_profile(doc);
	summary->group[DIM_TOPOLOGY] = dup_or(doc, "topology", "unknown");
	summary->group[DIM_SCHEDULER] = dup_or(doc, "scheduler", "unknown");
	summary->group[DIM_WORK_TYPE] = dup_or(doc, "work_type", "unknown");
	summary->outcome = read_outcome(doc);
	summary->measured = read_measured(doc);

	/* Skipped runs did not run, interrupted runs did not finish, and the
	 * stats of a run whose guest never reported are zeros or null.  None of
	 * them has metric values, the monitor's included. */
	bool has_metrics = summary->measured && summary->outcome != OUTCOME_SKIPPED &&
			   summary->outcome != OUTCOME_INTERRUPTED;
	for (int m = 0; m < METRIC_COUNT; m++) {
		if (has_metrics)
			read_metric(doc, (enum metric_id)m, summary);
		else
			summary->metric[m] = NAN;
	}
	json_bool(monitor, "stall_detected", &summary->stalled);
	jv_free(monitor);

	if (outcome_failed(summary->outcome))
		read_failure(doc, summary);
	read_stimuli(doc, summary);
	read_verifier(doc, summary);
	read_callbacks(doc, summary);
	read_kvm(doc, summary);
}

/* A JSON type with its article, for messages: "a string", "null". */
static const char *type_phrase(jv_kind kind)
{
	switch (kind) {
	case JV_KIND_NULL:
		return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		return "a boolean";
	case JV_KIND_NUMBER:
		return "a number";
	case JV_KIND_STRING:
		return "a string";
	case JV_KIND_ARRAY:
		return "an array";
	case JV_KIND_OBJECT:
		return "an object";
	default:
		return "invalid";
	}
}

/* Describe the first key that every sidecar has whose value is of the wrong
 * type, for a warning.  Returns a malloc'd message, or NULL when each such
 * key is missing or of the expected type. */
static char *describe_wrong_key_type(jv doc)
{
	static const struct {
		const char *key;
		const char *type;    /* type_phrase() of the expected type */
	} required[] = {
		{ "test_name", "a string" },
		{ "topology", "a string" },
		{ "passed", "a boolean" },
	};

	if (jv_get_kind(doc) != JV_KIND_OBJECT)
		return NULL;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		jv value = jv_object_get(jv_copy(doc), jv_string(required[i].key));
		char *message = NULL;

		if (jv_is_valid(value) && strcmp(type_phrase(jv_get_kind(value)), required[i].type))
			message = xasprintf("key '%s' is %s (expected %s)", required[i].key,
					    type_phrase(jv_get_kind(value)), required[i].type);
		jv_free(value);
		if (message)
			return message;
	}
	return NULL;
}

static void skip(struct run_summary *summary, enum skip_reason reason, char *message)
{
	summary->skipped_file = true;
	summary->reason = reason;
	summary->message = message;
}

/* Parse text, pruned first when it has the shape of a sidecar.  Pruning
 * replaces only values that passed the grammar check, so the copy parses
 * whenever the original does; if it failed anyway, the original decides. */
static jv parse_sidecar(const char *text, size_t len, enum json_error *error, char **why)
{
	size_t pruned_len;
	char *pruned = prune_sidecar(text, len, &pruned_len);

	if (pruned) {
		jv doc = json_parse(pruned, pruned_len, error, NULL);
		free(pruned);
		if (jv_is_valid(doc))
			return doc;
		jv_free(doc);
	}
	return json_parse(text, len, error, why);
}

void summary_read(const char *path, struct run_summary *summary)
{
	enum json_error error;
	char *why = NULL;
	const char *cause;
	size_t len;

	*summary = (struct run_summary){ .outcome = OUTCOME_PASS };
	char *text = fs_read_file(path, &len);
	if (!text) {
		skip(summary, SKIP_UNREADABLE, xasprintf("cannot read it: %s", strerror(errno)));
		return;
	}
	jv doc = parse_sidecar(text, len, &error, &why);
	free(text);
	switch (error) {
	case JSON_OK:
		break;
	case JSON_MISSING:
	case JSON_UNREADABLE:
		skip(summary, SKIP_UNREADABLE, xasprintf("cannot read it: %s", why));
		goto free_why;
	case JSON_TRUNCATED:
	case JSON_MALFORMED: {
		bool truncated = error == JSON_TRUNCATED;
		/* libjq quotes the whole input after this, and a warning is one line. */
		char *quote = strstr(why, " (while parsing");
		if (quote)
			*quote = '\0';
		skip(summary, truncated ? SKIP_TRUNCATED : SKIP_MALFORMED,
		     xasprintf("%s JSON: %s", truncated ? "truncated" : "invalid", why));
		goto free_why;
	}
	}

	enum sidecar_kind kind = sidecar_classify(doc, &cause);
	if (kind == SIDECAR_FOREIGN) {
		char *wrong_type = describe_wrong_key_type(doc);

		skip(summary, SKIP_FOREIGN, xasprintf("not a ktstr sidecar: %s", wrong_type ? wrong_type : cause));
		free(wrong_type);
	} else if (kind == SIDECAR_FUTURE) {
		long long version = 0;
		json_int(doc, "schema_version", &version);
		skip(summary, SKIP_FUTURE,
		     xasprintf("schema_version %lld is newer than this ktstr reads (%d): upgrade ktstr to analyse it",
			       version, SIDECAR_SCHEMA_VERSION));
	} else {
		summary->upstream = kind == SIDECAR_UPSTREAM;
		read_run(doc, summary);
	}
	jv_free(doc);
free_why:
	free(why);
}

static void release_samples(struct program_sample *samples, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(samples[i].name);
	free(samples);
}

void summary_release(struct run_summary *summary)
{
	free(summary->message);
	for (int d = 0; d < DIM_COUNT; d++)
		free(summary->group[d]);
	free(summary->check);
	free(summary->failure_message);
	for (size_t i = 0; i < summary->nr_stimuli; i++)
		free(summary->stimuli[i]);
	free(summary->stimuli);
	release_samples(summary->verifier, summary->nr_verifier);
	release_samples(summary->callbacks, summary->nr_callbacks);
	*summary = (struct run_summary){ .outcome = OUTCOME_PASS };
}
