#include "json.h"
#include "scenario_check.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const struct scenario_limits limits = { 500, 20, 1, false, false };

/* One result record: a cgroup "cg" with cpuset 0-1 and the given workers. */
static jv result_with(const char *cpuset, double spread, const char *workers)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	fprintf(out,
		"{\"status\":\"ran\",\"stats\":{\"cgroups\":[{\"name\":\"cg\",\"cpuset\":%s,"
		"\"cpus_allowed\":\"0-1\",\"num_workers\":2,\"spread\":%g,\"min_off_cpu_pct\":10,"
		"\"max_off_cpu_pct\":%g,\"workers\":[%s]}]}}",
		cpuset, spread, 10 + spread, workers);
	fclose(out);
	jv value = json_parse(text, len, NULL, NULL);
	free(text);
	return value;
}

#define GOOD_WORKER(pid) \
	"{\"pid\":" #pid ",\"iterations\":100,\"max_gap_ms\":20,\"max_gap_cpu\":1," \
	"\"max_gap_at_ms\":900,\"cpus\":[0,1],\"finished\":true,\"killed\":false}"

static int count(jv failures)
{
	return jv_array_length(jv_copy(failures));
}

/* The check name and message of failure i, for is_str. */
static const char *field(jv failures, int i, const char *key)
{
	static char buf[512];
	jv item = jv_array_get(jv_copy(failures), i);
	const char *value = json_str(item, key);

	snprintf(buf, sizeof(buf), "%s", value ? value : "(null)");
	jv_free(item);
	return buf;
}

static double number(jv failures, int i, const char *key)
{
	double value = -1;
	jv item = jv_array_get(jv_copy(failures), i);

	json_num(item, key, &value);
	jv_free(item);
	return value;
}

static jv run(jv result, const char *sched_text)
{
	jv sched = sched_text ? json_parse(sched_text, strlen(sched_text), NULL, NULL) : jv_null();
	jv failures = scenario_check_run(result, sched, &limits);

	jv_free(result);
	jv_free(sched);
	return failures;
}

static void check_pass(void)
{
	jv failures = run(result_with("\"0-1\"", 5, GOOD_WORKER(10) "," GOOD_WORKER(11)), NULL);

	is_int(count(failures), 0, "healthy workers pass every check");
	jv_free(failures);
}

static void check_starvation(void)
{
	jv failures = run(result_with("null", 5,
				      GOOD_WORKER(10) ",{\"pid\":11,\"iterations\":50,\"max_gap_ms\":812.4,"
				      "\"max_gap_cpu\":0,\"max_gap_at_ms\":1500,\"cpus\":[0],"
				      "\"finished\":true,\"killed\":false}"),
			  NULL);

	is_int(count(failures), 1, "a long gap fails one check");
	is_str(field(failures, 0, "check"), "starvation", "long gap is a starvation failure");
	is_str(field(failures, 0, "message"),
	       "worker 11 in cgroup 'cg' went 812 ms without running (until +1500 ms on CPU 0), over the limit of 500 ms",
	       "starvation message gives the numbers");
	is_int((long long)number(failures, 0, "value"), 812, "starvation value is the gap");
	is_int((long long)number(failures, 0, "threshold"), 500, "starvation threshold is the limit");
	is_int((long long)number(failures, 0, "worker"), 11, "starvation names the worker");
	is_str(field(failures, 0, "cgroup"), "cg", "starvation names the cgroup");
	jv_free(failures);

	failures = run(result_with("null", 0,
				   "{\"pid\":12,\"iterations\":0,\"max_gap_ms\":3100,\"cpus\":[],"
				   "\"finished\":true,\"killed\":false}"),
		       NULL);
	is_str(field(failures, 0, "message"),
	       "worker 12 in cgroup 'cg' made no progress: it went 3100 ms without running",
	       "zero iterations is starvation");
	jv_free(failures);

	failures = run(result_with("null", 0,
				   "{\"pid\":13,\"iterations\":7,\"max_gap_ms\":9000,\"cpus\":[1],"
				   "\"finished\":false,\"killed\":true}"),
		       NULL);
	ok(strstr(field(failures, 0, "message"), "did not finish and was killed") != NULL,
	   "a killed worker is starvation");
	jv_free(failures);
}

static void check_cpuset(void)
{
	jv failures = run(result_with("\"0-1\"", 0,
				      "{\"pid\":20,\"iterations\":9,\"max_gap_ms\":1,\"cpus\":[0,2,3],"
				      "\"finished\":true,\"killed\":false}"),
			  NULL);

	is_int(count(failures), 1, "running outside the cpuset fails once");
	is_str(field(failures, 0, "check"), "cpuset", "outside the cpuset is a cpuset failure");
	is_str(field(failures, 0, "message"),
	       "worker 20 in cgroup 'cg' ran on CPUs 2-3, outside its cpuset 0-1",
	       "cpuset message names the CPUs");
	is_int((long long)number(failures, 0, "value"), 2, "cpuset value counts the CPUs outside");
	jv_free(failures);

	failures = run(result_with("null", 0,
				   "{\"pid\":21,\"iterations\":9,\"max_gap_ms\":1,\"cpus\":[0,2,3],"
				   "\"finished\":true,\"killed\":false}"),
		       NULL);
	is_int(count(failures), 0, "a cgroup without a cpuset is not checked for isolation");
	jv_free(failures);
}

static void check_fairness(void)
{
	jv failures = run(result_with("null", 31.5, GOOD_WORKER(30) "," GOOD_WORKER(31)), NULL);

	is_int(count(failures), 1, "a wide spread fails once");
	is_str(field(failures, 0, "check"), "fairness", "wide spread is a fairness failure");
	is_str(field(failures, 0, "message"),
	       "off-CPU time of the 2 workers in cgroup 'cg' spreads 31.5% (from 10.0% to 41.5%), over the limit of 20%",
	       "fairness message gives the numbers");
	is_int((long long)(number(failures, 0, "value") * 10), 315, "fairness value is the spread");
	jv_free(failures);
}

static void check_scheduler(void)
{
	static const struct {
		const char *record;
		const char *message;
	} cases[] = {
		{ "{\"failed\":true,\"ops\":\"fixture\",\"exit_kind\":\"stall\","
		  "\"exit_reason\":\"runnable task stall\",\"exit_message\":\"w[5] failed to run for 3.9s\"}",
		  "the sched_ext watchdog disabled scheduler 'fixture': runnable task stall (w[5] failed to run for 3.9s)" },
		{ "{\"failed\":true,\"ops\":\"fixture\",\"exit_kind\":\"error\","
		  "\"exit_reason\":\"scx_bpf_error\",\"exit_message\":\"boom\"}",
		  "scheduler 'fixture' failed with an error: scx_bpf_error (boom)" },
		{ "{\"failed\":true,\"ops\":\"simple\",\"exit_kind\":\"exited\",\"exit_status\":137,"
		  "\"exit_reason\":\"unregistered from user space\"}",
		  "scheduler 'simple' exited during the run (killed by signal 9); the kernel disabled it: unregistered from user space" },
		{ "{\"failed\":true,\"ops\":null,\"path\":\"/ktstr/sched/x\",\"exit_kind\":\"not-enabled\","
		  "\"exit_reason\":\"the kernel did not enable the scheduler within 2000 ms\"}",
		  "scheduler 'x' was not enabled: the kernel did not enable the scheduler within 2000 ms" },
		{ "{\"failed\":false,\"ops\":\"simple\",\"state_after\":\"disabled\"}",
		  "scheduler 'simple' was no longer enabled at the end: sched_ext state 'disabled'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jv failures = run(result_with("null", 0, GOOD_WORKER(40)), cases[i].record);
		is_str(field(failures, 0, "check"), "scheduler", "scheduler case %zu is a scheduler failure", i);
		is_str(field(failures, 0, "message"), cases[i].message, "scheduler case %zu message", i);
		jv_free(failures);
	}

	jv failures = run(result_with("null", 0, GOOD_WORKER(41)),
			  "{\"failed\":false,\"ops\":\"simple\",\"state_after\":\"enabled\"}");
	is_int(count(failures), 0, "an enabled scheduler passes");
	jv_free(failures);
}

static void check_limits_json(void)
{
	struct scenario_limits scaled = { 5000, 37.5, 2.5, true, true };
	jv obj = scenario_check_limits_json(&scaled);
	double scale = 0;

	ok(json_num(obj, "tcg_scale", &scale) && scale == 2.5, "scaled limits record tcg_scale");
	jv_free(obj);
	obj = scenario_check_limits_json(&limits);
	jv value = jv_object_get(jv_copy(obj), jv_string("tcg_scale"));
	is_int(jv_get_kind(value), JV_KIND_NULL, "unscaled limits have a null tcg_scale");
	jv_free(value);
	jv_free(obj);
}

int main(void)
{
	check_pass();
	check_starvation();
	check_cpuset();
	check_fairness();
	check_scheduler();
	check_limits_json();
	return done_testing();
}
