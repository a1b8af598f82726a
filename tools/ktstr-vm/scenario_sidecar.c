/* The sidecar document of a scenario run, key by key as ktstr-sidecar(5)
 * lists them. */
#include "scenario_internal.h"

#include "fsutil.h"
#include "json.h"
#include "sidecar.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Lines of the scheduler's output kept in sched_ext.log_tail. */
#define LOG_TAIL_LINES 40

char *scenario_text_tail(const char *text, size_t max_lines)
{
	size_t len = strlen(text);
	size_t lines = 0;
	size_t start = len;

	/* A final newline ends the last line rather than starting another. */
	if (start > 0 && text[start - 1] == '\n')
		start--;
	while (start > 0) {
		if (text[start - 1] == '\n' && ++lines == max_lines)
			break;
		start--;
	}
	return xstrdup(text + start);
}

static jv strvec_to_json(const struct strvec *vec)
{
	jv array = jv_array();

	for (size_t i = 0; vec && i < vec->len; i++)
		array = jv_array_append(array, jv_string(vec->items[i]));
	return array;
}

/* Split text at blanks into a JSON array of strings; [] for NULL. */
static jv split_blanks(const char *text)
{
	jv words = jv_array();

	while (text && *text) {
		text += strspn(text, " \t\n");
		size_t len = strcspn(text, " \t\n");
		if (len)
			words = jv_array_append(words, jv_string_sized(text, (int)len));
		text += len;
	}
	return words;
}

/* A key of a record (borrowed), or fallback when the record lacks it. */
static jv record_get(jv record, const char *key, jv fallback)
{
	if (jv_get_kind(record) != JV_KIND_OBJECT || !json_has(record, key))
		return fallback;
	jv_free(fallback);
	return jv_object_get(jv_copy(record), jv_string(key));
}

/* The stats object when the guest sent none (the run failed before its
 * workers started): the same keys, all zero. */
static jv empty_stats(void)
{
	static const char *const numbers[] = { "total_workers", "total_cpus", "total_migrations",
					       "worst_spread", "worst_gap_ms", "worst_migration_ratio",
					       "total_iterations", "worst_mean_run_delay_us",
					       "worst_run_delay_us", NULL };
	jv stats = jv_object();

	stats = jv_object_set(stats, jv_string("cgroups"), jv_array());
	for (size_t i = 0; numbers[i]; i++)
		stats = jv_object_set(stats, jv_string(numbers[i]), jv_number(0));
	return jv_object_set(stats, jv_string("worst_gap_cpu"), jv_number(-1));
}

static jv sched_ext_object(jv sched)
{
	static const char *const copied[] = { "ops", "state_before", "state_after", "exit_kind",
					      "exit_reason", "exit_message", "stop_reason", "exit_status",
					      "enable_ms", "failed_at_ms", "partial", "kernel_log", NULL };
	jv obj = jv_object();

	for (size_t i = 0; copied[i]; i++)
		obj = jv_object_set(obj, jv_string(copied[i]), record_get(sched, copied[i], jv_null()));
	const char *log = json_str(sched, "log");
	char *tail = scenario_text_tail(log ? log : "", LOG_TAIL_LINES);
	obj = jv_object_set(obj, jv_string("log_tail"), jv_string(tail));
	free(tail);
	return obj;
}

/* Scheduler name: the ops name once loaded, else the binary's without the
 * "scx_" prefix (scx_simple loads as "simple"), so that runs where it never
 * enabled fall in the same group; else the kernel's own scheduler. */
static const char *scheduler_name(const struct sidecar_inputs *in)
{
	const char *ops = jv_get_kind(in->sched) == JV_KIND_OBJECT ? json_str(in->sched, "ops") : NULL;

	if (ops && *ops)
		return ops;
	if (in->scheduler_path) {
		const char *base = fs_basename(in->scheduler_path);
		if (!strncmp(base, "scx_", 4) && base[4])
			return base + 4;
		return base;
	}
	return "eevdf";
}

jv scenario_sidecar_build(const struct sidecar_inputs *in)
{
	char label[32];
	const char *kernel_version = in->vm->kernel_version;
	bool ci = (getenv("CI") && *getenv("CI")) || (getenv("KTSTR_CI") && *getenv("KTSTR_CI"));
	jv doc = jv_object();

	if (!kernel_version && jv_get_kind(in->result) == JV_KIND_OBJECT)
		kernel_version = json_str(in->result, "kernel_release");
	topology_label(&in->vm->topology, label, sizeof(label));

	doc = jv_object_set(doc, jv_string("schema_version"), jv_number(SIDECAR_SCHEMA_VERSION));
	doc = jv_object_set(doc, jv_string("ktstr_version"), jv_string(KTSTR_VERSION));
	doc = jv_object_set(doc, jv_string("test_name"), jv_string(in->def->name));
	doc = jv_object_set(doc, jv_string("topology"), jv_string(label));
	doc = jv_object_set(doc, jv_string("scheduler"), jv_string(scheduler_name(in)));
	doc = jv_object_set(doc, jv_string("scheduler_path"), json_string_or_null(in->scheduler_path));
	doc = jv_object_set(doc, jv_string("scheduler_args"), strvec_to_json(in->sched_args));
	doc = jv_object_set(doc, jv_string("active_flags"), strvec_to_json(in->active_flags));
	doc = jv_object_set(doc, jv_string("profile"), jv_string(in->profile));
	doc = jv_object_set(doc, jv_string("work_type"),
			    jv_string(in->def->nr_cgroups ? work_type_name(in->def->cgroups[0].work) : "CpuSpin"));
	doc = jv_object_set(doc, jv_string("kernel_version"), json_string_or_null(kernel_version));
	doc = jv_object_set(doc, jv_string("kernel_image"), json_string_or_null(in->vm->kernel_image));
	doc = jv_object_set(doc, jv_string("accel"), json_string_or_null(in->vm->accel));
	doc = jv_object_set(doc, jv_string("passed"), jv_bool(in->passed));
	doc = jv_object_set(doc, jv_string("skipped"), jv_false());
	doc = jv_object_set(doc, jv_string("outcome"), jv_string(in->outcome));
	doc = jv_object_set(doc, jv_string("failures"), jv_copy(in->failures));
	doc = jv_object_set(doc, jv_string("thresholds"), scenario_check_limits_json(in->limits));
	doc = jv_object_set(doc, jv_string("sched_ext"),
			    jv_get_kind(in->sched) == JV_KIND_OBJECT ? sched_ext_object(in->sched) : jv_null());
	/* An interrupted run's figures cover only part of it, so none are kept. */
	bool interrupted = !strcmp(in->outcome, "interrupted");
	jv stats = interrupted ? jv_null() : record_get(in->result, "stats", jv_null());
	if (!interrupted && jv_get_kind(stats) != JV_KIND_OBJECT) {
		jv_free(stats);
		stats = empty_stats();
	}
	doc = jv_object_set(doc, jv_string("stats"), stats);
	doc = jv_object_set(doc, jv_string("monitor"),
			    interrupted ? jv_null() : record_get(in->result, "monitor", jv_null()));
	doc = jv_object_set(doc, jv_string("bpf_programs"), record_get(in->result, "bpf_programs", jv_array()));
	doc = jv_object_set(doc, jv_string("verifier_stats"),
			    record_get(in->result, "verifier_stats", jv_array()));
	doc = jv_object_set(doc, jv_string("kvm_stats"), jv_get_kind(in->vm->kvm_stats) == JV_KIND_OBJECT
								 ? jv_copy(in->vm->kvm_stats)
								 : jv_null());
	doc = jv_object_set(doc, jv_string("stimulus_events"),
			    record_get(in->result, "stimulus_events", jv_array()));
	doc = jv_object_set(doc, jv_string("sysctls"), record_get(in->result, "sysctls", jv_array()));
	doc = jv_object_set(doc, jv_string("kargs"), split_blanks(in->vm->kernel_append));
	doc = jv_object_set(doc, jv_string("timestamp"), jv_string(in->timestamp));
	doc = jv_object_set(doc, jv_string("run_id"), jv_string(in->run_id));
	doc = jv_object_set(doc, jv_string("duration_ms"), jv_number((double)(long long)(in->vm->run_seconds * 1000)));
	doc = jv_object_set(doc, jv_string("project_branch"), json_string_or_null(in->project_branch));
	doc = jv_object_set(doc, jv_string("project_commit"), json_string_or_null(in->project_commit));
	doc = jv_object_set(doc, jv_string("run_source"), jv_string(ci ? "ci" : "local"));

	/* Keys of ours beyond the upstream set. */
	doc = jv_object_set(doc, jv_string("exit_status"), jv_number(in->exit_status));
	doc = jv_object_set(doc, jv_string("error"), json_string_or_null(in->error));
	doc = jv_object_set(doc, jv_string("boot_ms"),
			    in->vm->boot_seconds > 0 ? jv_number((double)(long long)(in->vm->boot_seconds * 1000)) :
						       jv_null());
	doc = jv_object_set(doc, jv_string("memory_mb"), jv_number(in->vm->memory_mb));
	doc = jv_object_set(doc, jv_string("scenario"), scenario_def_to_json(in->def));
	doc = jv_object_set(doc, jv_string("guest_errors"), record_get(in->result, "errors", jv_array()));
	doc = jv_object_set(doc, jv_string("scheduler_log"), record_get(in->sched, "log", jv_null()));
	doc = jv_object_set(doc, jv_string("scheduler_log_bytes"),
			    record_get(in->sched, "log_bytes", jv_null()));
	doc = jv_object_set(doc, jv_string("scheduler_log_truncated"),
			    record_get(in->sched, "log_truncated", jv_false()));
	return doc;
}
