/* A scheduler or scenario run in the guest (mode=scenario).
 *
 * The host resolved the scenario completely; /ktstr/config carries it as
 *
 *   scenario.name=NAME
 *   scenario.duration_ms=MS
 *   scenario.cgroup=name=N work_type=T workers=K [cpuset=LIST] [weight=W]
 *                   [nice=N] [cache_kb=KB] [burst_ms=MS] [sleep_ms=MS]
 *   scenario.step=at_ms=MS op=kill-scheduler|set-cpuset [cgroup=N cpus=LIST]
 *   sched.path=/ktstr/sched/BINARY     (absent for the kernel's own scheduler)
 *   sched.arg=ARG                      (repeated, in order)
 *   sched.enable_timeout_ms=MS
 *
 * The agent starts the scheduler and waits until the kernel enables it.
 * Then it sets up the cgroups, runs the workers and watches the scheduler
 * and the steps.  At the end it sends the "sched" record (the scheduler's
 * lifecycle and output, only with a scheduler) and the "result" record
 * (measurements, BPF program statistics, events).  The host judges the
 * measurements and writes the sidecar.  The return value is 0 when the scenario ran, 1 when the
 * scheduler failed, 2 when the scenario could not be set up.
 */
#include "guest.h"

#include "bpf_stats.h"
#include "cgroup.h"
#include "json_out.h"
#include "sched.h"
#include "work.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

/* Time the workers get to join their cgroups and report ready. */
#define READY_TIMEOUT_MS 30000
/* Time past the planned end before workers that did not finish are killed. */
#define FINISH_GRACE_MS 10000
/* How often the agent checks the scheduler, the steps and the workers. */
#define MONITOR_MS 50
#define DEFAULT_ENABLE_TIMEOUT_MS 20000

enum scenario_status {
	SCENARIO_RAN = 0,
	SCENARIO_SCHEDULER_FAILED = 1,
	SCENARIO_SETUP_FAILED = 2,
};

struct event {
	uint64_t elapsed_ms;
	char *label;
	char *op_kind;
	char *detail;
	uint64_t total_iterations;
	bool has_iterations;
};

struct run {
	struct scenario scen;
	struct sched_run sched;
	bool has_sched;
	struct work_shared *shared;
	struct strvec errors;
	struct strvec sysctls;
	struct event *events;
	size_t nr_events;
	uint64_t start_ns;
	uint64_t finish_ns;
	bool stopped_early;
	struct bpf_prog_list bpf_before;
	struct bpf_prog_list bpf_after;
	bool have_bpf;
};

/* Record why the scenario could not be set up or run as planned. */
__attribute__((format(printf, 2, 3))) static void run_error(struct run *run, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text)
		return;
	/* The host prints these from the result record, with the summary. */
	strvec_push(&run->errors, text);
	free(text);
}

static uint64_t total_iterations(const struct run *run)
{
	uint64_t sum = 0;

	for (size_t i = 0; run->shared && i < run->shared->nr_workers; i++)
		sum += __atomic_load_n(&run->shared->slots[i].iterations, __ATOMIC_RELAXED);
	return sum;
}

static void add_event(struct run *run, const char *label, const char *op_kind, const char *detail)
{
	struct event *ev;

	run->events = xrealloc(run->events, (run->nr_events + 1) * sizeof(*run->events));
	ev = &run->events[run->nr_events++];
	ev->elapsed_ms = run->start_ns ? (work_now_ns() - run->start_ns) / 1000000 : 0;
	ev->label = xstrdup(label);
	ev->op_kind = op_kind ? xstrdup(op_kind) : NULL;
	ev->detail = detail ? xstrdup(detail) : NULL;
	ev->has_iterations = run->shared != NULL && run->start_ns != 0;
	ev->total_iterations = ev->has_iterations ? total_iterations(run) : 0;
}

/* Parse a decimal number that must fit below limit. */
static int parse_number(const char *text, unsigned long long limit, unsigned long long *out)
{
	char *end;

	if (!text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno || *end || value > limit)
		return -1;
	*out = value;
	return 0;
}

/* Split "k=v k=v ..." into a malloc'd array of words; the caller frees both. */
static char **split_fields(const char *line, size_t *count)
{
	char *copy = xstrdup(line);
	char **words = xcalloc(strlen(line) / 2 + 2, sizeof(*words));
	size_t n = 0;

	for (char *save = NULL, *word = strtok_r(copy, " ", &save); word;
	     word = strtok_r(NULL, " ", &save))
		words[n++] = xstrdup(word);
	free(copy);
	*count = n;
	return words;
}

static void free_fields(char **words, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(words[i]);
	free(words);
}

static int parse_cgroup_field(struct cgroup_spec *cg, const char *key, const char *value)
{
	unsigned long long number;

	if (!strcmp(key, "name")) {
		cg->name = xstrdup(value);
		return 0;
	}
	if (!strcmp(key, "work_type"))
		return work_type_parse(value, &cg->work);
	if (!strcmp(key, "cpuset")) {
		cg->has_cpuset = true;
		return cpulist_parse(value, &cg->cpuset, NULL);
	}
	if (!strcmp(key, "nice")) {
		char *end;
		long nice = strtol(value, &end, 10);
		if (*value == '\0' || *end || nice < -20 || nice > 19)
			return -1;
		cg->nice = (int)nice;
		return 0;
	}
	if (parse_number(value, 0xffffffffull, &number) != 0)
		return -1;
	if (!strcmp(key, "workers"))
		cg->workers = (unsigned)number;
	else if (!strcmp(key, "weight"))
		cg->weight = (unsigned)number;
	else if (!strcmp(key, "cache_kb"))
		cg->cache_kb = (unsigned)number;
	else if (!strcmp(key, "burst_ms"))
		cg->burst_ms = (unsigned)number;
	else if (!strcmp(key, "sleep_ms"))
		cg->sleep_ms = (unsigned)number;
	else
		return -1;
	return 0;
}

static int parse_cgroup(struct run *run, const char *line)
{
	struct scenario *scen = &run->scen;
	struct cgroup_spec *cg;
	size_t count;
	char **words = split_fields(line, &count);
	int status = 0;

	scen->cgroups = xrealloc(scen->cgroups, (scen->nr_cgroups + 1) * sizeof(*scen->cgroups));
	cg = &scen->cgroups[scen->nr_cgroups++];
	memset(cg, 0, sizeof(*cg));
	cg->work = WORK_CPU_SPIN;
	cg->cache_kb = 4096;
	cg->burst_ms = 10;
	cg->sleep_ms = 20;
	for (size_t i = 0; i < count && status == 0; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq) {
			status = -1;
			break;
		}
		*eq = '\0';
		status = parse_cgroup_field(cg, words[i], eq + 1);
		if (status != 0)
			run_error(run, "invalid field '%s=%s' in scenario.cgroup", words[i], eq + 1);
	}
	free_fields(words, count);
	if (status == 0 && !cg->name) {
		run_error(run, "scenario.cgroup without a name: '%s'", line);
		status = -1;
	}
	if (status == 0 && cg->work == WORK_CACHE_PRESSURE && cg->cache_kb == 0) {
		run_error(run, "cgroup '%s': cache_kb must be at least 1", cg->name);
		status = -1;
	}
	if (status == 0 && work_type_paired(cg->work) && cg->workers % 2) {
		run_error(run, "cgroup '%s': %s needs an even number of workers", cg->name,
			  work_type_name(cg->work));
		status = -1;
	}
	if (!cg->name)
		cg->name = xstrdup("unnamed");
	return status;
}

static int parse_step(struct run *run, const char *line)
{
	struct scenario *scen = &run->scen;
	struct step *step;
	size_t count;
	char **words = split_fields(line, &count);
	bool has_op = false, has_cpus = false;
	int status = 0;

	scen->steps = xrealloc(scen->steps, (scen->nr_steps + 1) * sizeof(*scen->steps));
	step = &scen->steps[scen->nr_steps++];
	memset(step, 0, sizeof(*step));
	for (size_t i = 0; i < count && status == 0; i++) {
		char *eq = strchr(words[i], '=');
		unsigned long long number;
		const char *key = words[i], *value = eq ? eq + 1 : "";

		if (eq)
			*eq = '\0';
		if (!strcmp(key, "at_ms") && parse_number(value, 1ull << 40, &number) == 0) {
			step->at_ms = number;
		} else if (!strcmp(key, "op") && !strcmp(value, "kill-scheduler")) {
			step->op = STEP_KILL_SCHEDULER;
			has_op = true;
		} else if (!strcmp(key, "op") && !strcmp(value, "set-cpuset")) {
			step->op = STEP_SET_CPUSET;
			has_op = true;
		} else if (!strcmp(key, "cgroup")) {
			step->cgroup = xstrdup(value);
		} else if (!strcmp(key, "cpus") && cpulist_parse(value, &step->cpus, NULL) == 0) {
			has_cpus = true;
		} else {
			run_error(run, "invalid field '%s=%s' in scenario.step", key, value);
			status = -1;
		}
	}
	free_fields(words, count);
	if (status == 0 && !has_op) {
		run_error(run, "scenario.step without an op: '%s'", line);
		status = -1;
	}
	if (status == 0 && step->op == STEP_SET_CPUSET && (!step->cgroup || !has_cpus)) {
		run_error(run, "set-cpuset step without cgroup= and cpus=: '%s'", line);
		status = -1;
	}
	return status;
}

static int parse_config(struct run *run, const struct guest_config *config)
{
	const char **values;
	size_t count;
	unsigned long long number;
	int status = 0;

	run->scen.name = xstrdup(guest_config_get(config, "scenario.name") ?
				 guest_config_get(config, "scenario.name") : "custom");
	if (parse_number(guest_config_get(config, "scenario.duration_ms"), 1ull << 40, &number) != 0) {
		run_error(run, "missing or invalid scenario.duration_ms");
		status = -1;
	}
	run->scen.duration_ms = number;

	count = guest_config_list(config, "scenario.cgroup", &values);
	for (size_t i = 0; i < count; i++)
		status |= parse_cgroup(run, values[i]);
	free(values);
	if (count == 0) {
		run_error(run, "the scenario has no scenario.cgroup");
		status = -1;
	}
	count = guest_config_list(config, "scenario.step", &values);
	for (size_t i = 0; i < count; i++)
		status |= parse_step(run, values[i]);
	free(values);

	const char *path = guest_config_get(config, "sched.path");
	run->sched.kmsg_fd = -1;
	run->sched.enable_timeout_ms = DEFAULT_ENABLE_TIMEOUT_MS;
	if (path) {
		struct strvec argv = STRVEC_INIT;
		run->has_sched = true;
		strvec_push(&argv, path);
		count = guest_config_list(config, "sched.arg", &values);
		for (size_t i = 0; i < count; i++)
			strvec_push(&argv, values[i]);
		free(values);
		run->sched.argv = argv.items;
		const char *timeout = guest_config_get(config, "sched.enable_timeout_ms");
		if (timeout && (parse_number(timeout, 1ull << 32, &number) != 0 || number == 0)) {
			run_error(run, "invalid sched.enable_timeout_ms '%s'", timeout);
			status = -1;
		} else if (timeout) {
			run->sched.enable_timeout_ms = number;
		}
	}
	return status;
}

static struct cgroup_spec *find_cgroup(struct scenario *scen, const char *name)
{
	for (size_t i = 0; i < scen->nr_cgroups; i++) {
		if (!strcmp(scen->cgroups[i].name, name))
			return &scen->cgroups[i];
	}
	return NULL;
}

static void apply_step(struct run *run, struct step *step)
{
	char list[4096];
	char *detail = NULL;
	char *error = NULL;

	step->done = true;
	switch (step->op) {
	case STEP_KILL_SCHEDULER:
		if (run->has_sched && run->sched.pid > 0)
			detail = xasprintf("SIGKILL to pid %d", (int)run->sched.pid);
		else
			detail = xstrdup("no scheduler to kill");
		add_event(run, "kill scheduler", "kill-scheduler", detail);
		if (run->has_sched)
			sched_kill(&run->sched);
		break;
	case STEP_SET_CPUSET: {
		struct cgroup_spec *cg = find_cgroup(&run->scen, step->cgroup);
		detail = xasprintf("cgroup %s cpus %s", step->cgroup,
				   cpulist_format(&step->cpus, list, sizeof(list)));
		add_event(run, "set cpuset", "set-cpuset", detail);
		if (!cg)
			run_error(run, "set-cpuset step names no cgroup of the scenario: '%s'", step->cgroup);
		else if (cgroup_set_cpuset(cg, &step->cpus, &error) != 0)
			run_error(run, "%s", error);
		break;
	}
	}
	free(error);
	free(detail);
}

/* Run the workers to their end, applying steps and watching the scheduler. */
static void monitor(struct run *run)
{
	struct work_shared *shared = run->shared;
	uint64_t give_up = shared->end_ns + FINISH_GRACE_MS * 1000000ull;
	struct timespec tick = { 0, MONITOR_MS * 1000000L };

	for (;;) {
		uint64_t now = work_now_ns();

		for (size_t i = 0; i < run->scen.nr_steps; i++) {
			struct step *step = &run->scen.steps[i];
			if (!step->done && now >= shared->start_ns + step->at_ms * 1000000ull)
				apply_step(run, step);
		}
		if (run->has_sched && !run->sched.failed && !sched_check(&run->sched)) {
			add_event(run, "scheduler failed", run->sched.exit_kind, run->sched.exit_reason);
			if (!__atomic_load_n(&shared->stop, __ATOMIC_RELAXED)) {
				__atomic_store_n(&shared->stop, 1, __ATOMIC_RELEASE);
				run->stopped_early = work_now_ns() < shared->end_ns;
			}
		}
		if (work_reap(shared))
			break;
		if (now >= give_up) {
			run_error(run, "workers still running %d ms after the planned end were killed",
				  FINISH_GRACE_MS);
			break;
		}
		nanosleep(&tick, NULL);
	}
	run->finish_ns = work_now_ns();
	work_stop(shared);
}

static size_t count_workers(const struct scenario *scen)
{
	size_t n = 0;

	for (size_t i = 0; i < scen->nr_cgroups; i++)
		n += scen->cgroups[i].workers;
	return n;
}

/* Scheduler, cgroups, workers; returns a scenario_status. */
static int run_scenario(struct run *run)
{
	char *error = NULL;
	size_t nr_workers = count_workers(&run->scen);

	if (cgroup_write_file("/proc/sys/kernel/bpf_stats_enabled", "1") == 0)
		strvec_push(&run->sysctls, "sysctl.kernel.bpf_stats_enabled=1");
	else
		run_error(run, "cannot enable kernel.bpf_stats_enabled: %s", strerror(errno));

	if (run->has_sched) {
		if (sched_start(&run->sched) != 0 || sched_wait_enabled(&run->sched) != 0)
			return SCENARIO_SCHEDULER_FAILED;
	}
	run->have_bpf = bpf_stats_collect(&run->bpf_before) == 0;
	/* A scheduler in partial mode (scx_qmap -p) takes only SCHED_EXT tasks. */
	run->scen.ext_policy = run->has_sched && run->sched.partial;

	if (cgroup_setup(&run->scen, &error) != 0) {
		run_error(run, "%s", error);
		free(error);
		return SCENARIO_SETUP_FAILED;
	}
	run->shared = work_shared_new(nr_workers);
	if (!run->shared) {
		run_error(run, "cannot allocate shared memory for %zu workers", nr_workers);
		return SCENARIO_SETUP_FAILED;
	}
	if (work_start(&run->scen, run->shared) != 0) {
		run_error(run, "cannot start the workers");
		work_stop(run->shared);
		return SCENARIO_SETUP_FAILED;
	}
	if (!work_release(run->shared, run->scen.duration_ms, READY_TIMEOUT_MS)) {
		for (size_t i = 0; i < nr_workers; i++) {
			if (run->shared->slots[i].error[0])
				run_error(run, "worker %zu: %s", i, run->shared->slots[i].error);
		}
		run_error(run, "the workers did not all become ready within %d ms", READY_TIMEOUT_MS);
		work_stop(run->shared);
		return SCENARIO_SETUP_FAILED;
	}
	run->start_ns = run->shared->start_ns;
	char *detail = xasprintf("%zu workers in %zu cgroups for %llu ms", nr_workers,
				 run->scen.nr_cgroups, (unsigned long long)run->scen.duration_ms);
	add_event(run, "start", "start", detail);
	free(detail);

	monitor(run);
	add_event(run, "end", "end", NULL);
	if (run->have_bpf)
		bpf_stats_collect(&run->bpf_after);
	return run->has_sched && run->sched.failed ? SCENARIO_SCHEDULER_FAILED : SCENARIO_RAN;
}

static void events_to_json(const struct run *run, struct json_out *out)
{
	json_out_array_begin(out);
	for (size_t i = 0; i < run->nr_events; i++) {
		const struct event *ev = &run->events[i];
		json_out_object_begin(out);
		json_out_kv_uint(out, "elapsed_ms", ev->elapsed_ms);
		json_out_kv_string(out, "label", ev->label);
		json_out_kv_string(out, "op_kind", ev->op_kind);
		json_out_kv_string(out, "detail", ev->detail);
		json_out_key(out, "total_iterations");
		if (ev->has_iterations)
			json_out_uint(out, ev->total_iterations);
		else
			json_out_null(out);
		json_out_object_end(out);
	}
	json_out_array_end(out);
}

static void strings_to_json(const struct strvec *vec, struct json_out *out)
{
	json_out_array_begin(out);
	for (size_t i = 0; i < vec->len; i++)
		json_out_string(out, vec->items[i]);
	json_out_array_end(out);
}

static void send_result(struct run *run, int status)
{
	struct json_out out = JSON_OUT_INIT;
	struct utsname uts;
	struct cpulist online;
	char list[4096];
	static const struct bpf_prog_list none = { NULL, 0 };

	cgroup_online_cpus(&online);
	json_out_object_begin(&out);
	json_out_kv_string(&out, "scenario", run->scen.name);
	json_out_kv_string(&out, "status",
			   status == SCENARIO_RAN ? "ran" :
			   status == SCENARIO_SCHEDULER_FAILED ? "scheduler-failed" : "error");
	json_out_kv_uint(&out, "duration_ms", run->scen.duration_ms);
	json_out_key(&out, "elapsed_ms");
	if (run->start_ns && run->finish_ns)
		json_out_uint(&out, (run->finish_ns - run->start_ns) / 1000000);
	else
		json_out_null(&out);
	json_out_kv_bool(&out, "stopped_early", run->stopped_early);
	json_out_kv_string(&out, "kernel_release", uname(&uts) == 0 ? uts.release : NULL);
	json_out_kv_string(&out, "online_cpus", cpulist_format(&online, list, sizeof(list)));
	json_out_kv_uint(&out, "nr_cpus", cpulist_count(&online));
	json_out_key(&out, "sysctls");
	strings_to_json(&run->sysctls, &out);
	json_out_key(&out, "errors");
	strings_to_json(&run->errors, &out);
	json_out_key(&out, "stats");
	if (run->shared && run->start_ns)
		work_stats_to_json(&run->scen, run->shared, &out);
	else
		json_out_null(&out);

	const struct bpf_prog_list *last = run->bpf_after.len ? &run->bpf_after : &run->bpf_before;
	json_out_key(&out, "bpf_programs");
	bpf_stats_to_json(last, &out);
	json_out_key(&out, "verifier_stats");
	bpf_verifier_stats_to_json(last, &out);
	json_out_key(&out, "monitor");
	json_out_object_begin(&out);
	json_out_key(&out, "prog_stats_deltas");
	bpf_stats_deltas_to_json(run->bpf_after.len ? &run->bpf_before : &none, &run->bpf_after, &out);
	json_out_object_end(&out);
	json_out_key(&out, "stimulus_events");
	events_to_json(run, &out);
	json_out_object_end(&out);

	const char *text = json_out_text(&out);
	if (guest_send("result", text, strlen(text)) != 0)
		fprintf(stderr, "ktstr-guest: cannot send the scenario result\n");
	json_out_release(&out);
}

static void send_sched(struct run *run)
{
	struct json_out out = JSON_OUT_INIT;

	sched_to_json(&run->sched, run->start_ns, &out);
	const char *text = json_out_text(&out);
	if (guest_send("sched", text, strlen(text)) != 0)
		fprintf(stderr, "ktstr-guest: cannot send the scheduler record\n");
	json_out_release(&out);
}

static void run_release(struct run *run)
{
	for (size_t i = 0; i < run->scen.nr_cgroups; i++) {
		free(run->scen.cgroups[i].name);
		free(run->scen.cgroups[i].path);
	}
	free(run->scen.cgroups);
	for (size_t i = 0; i < run->scen.nr_steps; i++)
		free(run->scen.steps[i].cgroup);
	free(run->scen.steps);
	free(run->scen.name);
	for (size_t i = 0; i < run->nr_events; i++) {
		free(run->events[i].label);
		free(run->events[i].op_kind);
		free(run->events[i].detail);
	}
	free(run->events);
	if (run->sched.argv) {
		struct strvec argv = { run->sched.argv, 0, 0 };
		while (argv.items[argv.len])
			argv.len++;
		strvec_release(&argv);
	}
	sched_release(&run->sched);
	bpf_stats_release(&run->bpf_before);
	bpf_stats_release(&run->bpf_after);
	work_shared_free(run->shared);
	strvec_release(&run->errors);
	strvec_release(&run->sysctls);
}

int scenario_run(const struct guest_config *config)
{
	struct run run;
	int status;

	memset(&run, 0, sizeof(run));
	/* The host times the boot up to the first record. */
	guest_send("scenario-start", "{}", 2);
	if (parse_config(&run, config) != 0)
		status = SCENARIO_SETUP_FAILED;
	else
		status = run_scenario(&run);

	if (run.bpf_after.len == 0 && run.has_sched && run.sched.enabled)
		bpf_stats_collect(&run.bpf_after);
	if (run.has_sched)
		sched_stop(&run.sched);
	cgroup_teardown(&run.scen);

	if (run.has_sched)
		send_sched(&run);
	send_result(&run, status);
	run_release(&run);
	return status;
}
