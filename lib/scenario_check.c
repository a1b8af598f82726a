/* The checks of a scenario run, judged on the host from the guest's
 * measurements; see scenario_check.h. */
#include "scenario_check.h"

#include "cpulist.h"
#include "json.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 7, 8))) static jv add_failure(jv failures, const char *check, jv value,
							     jv threshold, const char *cgroup,
							     long long worker, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	jv item = jv_object();

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	item = jv_object_set(item, jv_string("check"), jv_string(check));
	item = jv_object_set(item, jv_string("message"), jv_string(text));
	item = jv_object_set(item, jv_string("value"), value);
	item = jv_object_set(item, jv_string("threshold"), threshold);
	item = jv_object_set(item, jv_string("cgroup"), json_string_or_null(cgroup));
	item = jv_object_set(item, jv_string("worker"), worker > 0 ? jv_number((double)worker) : jv_null());
	return jv_array_append(failures, item);
}

/* The CPUs of a worker's "cpus" array (borrowed). */
static void worker_cpus(jv worker, struct cpulist *out)
{
	jv cpus = jv_object_get(jv_copy(worker), jv_string("cpus"));

	cpulist_clear(out);
	if (jv_get_kind(cpus) == JV_KIND_ARRAY) {
		jv_array_foreach(cpus, i, cpu)
		{
			if (jv_get_kind(cpu) == JV_KIND_NUMBER && jv_number_value(cpu) >= 0)
				cpulist_add(out, (unsigned)jv_number_value(cpu));
			jv_free(cpu);
		}
	}
	jv_free(cpus);
}

static jv check_worker(jv failures, jv worker, const char *cgroup, const struct cpulist *allowed,
		       bool isolated, const struct scenario_limits *limits)
{
	long long pid = 0, iterations = 0;
	double gap = 0, gap_at = 0;
	long long gap_cpu = -1;
	bool finished = true, killed = false;
	char where[64] = "";

	json_int(worker, "pid", &pid);
	json_int(worker, "iterations", &iterations);
	json_num(worker, "max_gap_ms", &gap);
	json_num(worker, "max_gap_at_ms", &gap_at);
	json_int(worker, "max_gap_cpu", &gap_cpu);
	json_bool(worker, "finished", &finished);
	json_bool(worker, "killed", &killed);
	if (gap_cpu >= 0)
		snprintf(where, sizeof(where), " on CPU %lld", gap_cpu);

	if (killed && !finished) {
		failures = add_failure(failures, "starvation", jv_number(gap), jv_number(limits->max_gap_ms),
				       cgroup, pid,
				       "worker %lld in cgroup '%s' did not finish and was killed; it went %.0f ms without running",
				       pid, cgroup, gap);
	} else if (iterations == 0) {
		failures = add_failure(failures, "starvation", jv_number(gap), jv_number(limits->max_gap_ms),
				       cgroup, pid,
				       "worker %lld in cgroup '%s' made no progress: it went %.0f ms without running",
				       pid, cgroup, gap);
	} else if (gap > limits->max_gap_ms) {
		failures = add_failure(failures, "starvation", jv_number(gap), jv_number(limits->max_gap_ms),
				       cgroup, pid,
				       "worker %lld in cgroup '%s' went %.0f ms without running (until +%.0f ms%s), over the limit of %g ms",
				       pid, cgroup, gap, gap_at, where, limits->max_gap_ms);
	}

	struct cpulist ran, outside;
	char ran_text[4096], allowed_text[4096];
	worker_cpus(worker, &ran);
	if (isolated && !cpulist_subset(&ran, allowed)) {
		cpulist_clear(&outside);
		for (unsigned cpu = 0; cpu < CPULIST_MAX; cpu++) {
			if (cpulist_has(&ran, cpu) && !cpulist_has(allowed, cpu))
				cpulist_add(&outside, cpu);
		}
		failures = add_failure(failures, "cpuset", jv_number(cpulist_count(&outside)), jv_number(0),
				       cgroup, pid,
				       "worker %lld in cgroup '%s' ran on CPUs %s, outside its cpuset %s",
				       pid, cgroup, cpulist_format(&outside, ran_text, sizeof(ran_text)),
				       cpulist_format(allowed, allowed_text, sizeof(allowed_text)));
	}
	return failures;
}

static jv check_cgroup(jv failures, jv cg, const struct scenario_limits *limits)
{
	const char *name = json_str(cg, "name");
	const char *allowed_text = json_str(cg, "cpus_allowed");
	bool isolated = json_str(cg, "cpuset") != NULL;
	long long workers = 0;
	double spread = 0, low = 0, high = 0;
	struct cpulist allowed;

	if (!name)
		name = "?";
	cpulist_clear(&allowed);
	if (!allowed_text || cpulist_parse(allowed_text, &allowed, NULL) != 0)
		isolated = false;

	jv list = jv_object_get(jv_copy(cg), jv_string("workers"));
	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, worker)
		{
			failures = check_worker(failures, worker, name, &allowed, isolated, limits);
			jv_free(worker);
		}
	}
	jv_free(list);

	json_int(cg, "num_workers", &workers);
	json_num(cg, "spread", &spread);
	json_num(cg, "min_off_cpu_pct", &low);
	json_num(cg, "max_off_cpu_pct", &high);
	if (workers >= 2 && spread > limits->max_spread_pct)
		failures = add_failure(failures, "fairness", jv_number(spread), jv_number(limits->max_spread_pct),
				       name, 0,
				       "off-CPU time of the %lld workers in cgroup '%s' spreads %.1f%% (from %.1f%% to %.1f%%), over the limit of %g%%",
				       workers, name, spread, low, high, limits->max_spread_pct);
	return failures;
}

/* The scheduler's failure in words, from its record (borrowed). */
static jv check_scheduler(jv failures, jv sched)
{
	bool failed = false;
	const char *kind = json_str(sched, "exit_kind");
	const char *reason = json_str(sched, "exit_reason");
	const char *message = json_str(sched, "exit_message");
	const char *ops = json_str(sched, "ops");
	const char *state = json_str(sched, "state_after");
	char *detail = message ? xasprintf("%s (%s)", reason ? reason : "", message) :
		xstrdup(reason ? reason : "no reason recorded");

	json_bool(sched, "failed", &failed);
	if (!ops && json_str(sched, "path")) {
		/* Until the kernel reports the ops name, the binary's name is used. */
		ops = strrchr(json_str(sched, "path"), '/');
		ops = ops ? ops + 1 : json_str(sched, "path");
	}
	if (!ops)
		ops = "?";
	if (!failed) {
		if (state && strcmp(state, "enabled") != 0)
			failures = add_failure(failures, "scheduler", json_string_or_null(state),
					       jv_string("enabled"), NULL, 0,
					       "scheduler '%s' was no longer enabled at the end: sched_ext state '%s'",
					       ops, state);
	} else if (kind && !strcmp(kind, "not-enabled")) {
		failures = add_failure(failures, "scheduler", jv_string(kind), jv_null(), NULL, 0,
				       "scheduler '%s' was not enabled: %s", ops, detail);
	} else if (kind && !strcmp(kind, "stall")) {
		failures = add_failure(failures, "scheduler", jv_string(kind), jv_null(), NULL, 0,
				       "the sched_ext watchdog disabled scheduler '%s': %s", ops, detail);
	} else if (kind && !strcmp(kind, "error")) {
		failures = add_failure(failures, "scheduler", jv_string(kind), jv_null(), NULL, 0,
				       "scheduler '%s' failed with an error: %s", ops, detail);
	} else if (kind && !strcmp(kind, "exited")) {
		long long status = -1;
		char *how = json_int(sched, "exit_status", &status) ?
			(status > 128 ? xasprintf("killed by signal %lld", status - 128) :
					xasprintf("exit status %lld", status)) :
			xstrdup("exited");
		failures = add_failure(failures, "scheduler", jv_string(kind), jv_null(), NULL, 0,
				       "scheduler '%s' exited during the run (%s); the kernel disabled it: %s",
				       ops, how, detail);
		free(how);
	} else {
		failures = add_failure(failures, "scheduler", json_string_or_null(kind), jv_null(), NULL, 0,
				       "the kernel disabled scheduler '%s' during the run: %s", ops, detail);
	}
	free(detail);
	return failures;
}

jv scenario_check_run(jv result, jv sched, const struct scenario_limits *limits)
{
	jv failures = jv_array();

	if (jv_get_kind(sched) == JV_KIND_OBJECT)
		failures = check_scheduler(failures, sched);

	jv stats = jv_object_get(jv_copy(result), jv_string("stats"));
	jv cgroups = jv_get_kind(stats) == JV_KIND_OBJECT ?
		jv_object_get(jv_copy(stats), jv_string("cgroups")) : jv_null();
	if (jv_get_kind(cgroups) == JV_KIND_ARRAY) {
		jv_array_foreach(cgroups, i, cg)
		{
			failures = check_cgroup(failures, cg, limits);
			jv_free(cg);
		}
	}
	jv_free(cgroups);
	jv_free(stats);
	return failures;
}

jv scenario_check_limits_json(const struct scenario_limits *limits)
{
	jv obj = jv_object();
	jv scaled = jv_array();

	if (limits->gap_scaled)
		scaled = jv_array_append(scaled, jv_string("max_gap_ms"));
	if (limits->spread_scaled)
		scaled = jv_array_append(scaled, jv_string("max_spread_pct"));
	obj = jv_object_set(obj, jv_string("max_gap_ms"), jv_number(limits->max_gap_ms));
	obj = jv_object_set(obj, jv_string("max_spread_pct"), jv_number(limits->max_spread_pct));
	obj = jv_object_set(obj, jv_string("tcg_scale"),
			    limits->gap_scaled || limits->spread_scaled ? jv_number(limits->tcg_scale) :
									  jv_null());
	obj = jv_object_set(obj, jv_string("scaled"), scaled);
	return obj;
}
