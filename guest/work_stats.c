/* The "stats" object of a scenario's result: each worker's measurements and
 * their sums per cgroup and over the run, under the upstream ScenarioStats
 * names (ktstr-sidecar(5)).  The host judges them against the thresholds. */
#include "work.h"

#include "json_out.h"

#include <string.h>

struct cgroup_sums {
	unsigned workers;
	struct cpulist cpus;
	double off_sum, off_min, off_max;
	double max_gap_ms;
	int max_gap_cpu;
	uint64_t migrations;
	uint64_t iterations;
	double run_delay_sum_us, run_delay_max_us;
};

static double worker_wall_ns(const struct worker_slot *slot)
{
	return slot->end_ns > slot->start_ns ? (double)(slot->end_ns - slot->start_ns) : 0.0;
}

/* Share of the worker's run it spent off a CPU, in percent: 100 * (1 - CPU
 * time / wall time), never below 0. */
static double off_cpu_pct(const struct worker_slot *slot)
{
	double wall = worker_wall_ns(slot);

	if (wall <= 0)
		return 100.0;
	double on = (double)slot->cpu_time_ns / wall;
	return on >= 1.0 ? 0.0 : 100.0 * (1.0 - on);
}

static uint64_t worker_migrations(const struct worker_slot *slot)
{
	return slot->migrations_known ? slot->migrations : slot->cpu_changes;
}

/* The name of a scheduling policy number, as sched(7) spells it. */
static const char *policy_name(uint64_t policy)
{
	/* 4 is unused in Linux. */
	static const char *const names[] = { "normal", "fifo", "rr", "batch", NULL, "idle", "deadline", "ext" };

	if (policy >= sizeof(names) / sizeof(names[0]) || !names[policy])
		return "unknown";
	return names[policy];
}

static void cpus_to_json(const struct cpulist *cpus, struct json_out *out)
{
	json_out_array_begin(out);
	for (unsigned cpu = 0; cpu < CPULIST_MAX; cpu++) {
		if (cpulist_has(cpus, cpu))
			json_out_uint(out, cpu);
	}
	json_out_array_end(out);
}

static void worker_to_json(const struct worker_slot *slot, struct json_out *out)
{
	json_out_object_begin(out);
	json_out_kv_int(out, "pid", slot->pid);
	json_out_kv_uint(out, "cpu_time_ns", slot->cpu_time_ns);
	json_out_kv_uint(out, "run_delay_ns", slot->run_delay_ns);
	json_out_kv_uint(out, "timeslices", slot->timeslices);
	json_out_kv_double(out, "wall_ms", worker_wall_ns(slot) / 1e6);
	json_out_kv_double(out, "off_cpu_pct", off_cpu_pct(slot));
	json_out_kv_double(out, "max_gap_ms", (double)slot->max_gap_ns / 1e6);
	json_out_kv_int(out, "max_gap_cpu", slot->max_gap_cpu);
	json_out_kv_double(out, "max_gap_at_ms", (double)slot->max_gap_at_ns / 1e6);
	json_out_kv_uint(out, "migrations", worker_migrations(slot));
	json_out_kv_string(out, "migrations_source", slot->migrations_known ? "kernel" : "observed");
	json_out_kv_uint(out, "cpu_changes", slot->cpu_changes);
	json_out_key(out, "cpus");
	cpus_to_json(&slot->cpus, out);
	json_out_kv_uint(out, "iterations", slot->iterations);
	json_out_kv_uint(out, "voluntary_switches", slot->voluntary_switches);
	json_out_kv_uint(out, "involuntary_switches", slot->involuntary_switches);
	json_out_kv_string(out, "policy", slot->policy_known ? policy_name(slot->policy) : NULL);
	json_out_kv_bool(out, "finished", slot->state == WORKER_DONE);
	json_out_kv_bool(out, "killed", slot->killed);
	json_out_kv_string(out, "error", slot->error[0] ? slot->error : NULL);
	json_out_object_end(out);
}

static void sum_cgroup(const struct work_shared *shared, const struct cgroup_spec *cg,
		       struct cgroup_sums *sums)
{
	memset(sums, 0, sizeof(*sums));
	sums->max_gap_cpu = -1;
	for (unsigned i = 0; i < cg->workers; i++) {
		const struct worker_slot *slot = &shared->slots[cg->first_worker + i];
		double off = off_cpu_pct(slot);
		double gap = (double)slot->max_gap_ns / 1e6;
		double delay_us = (double)slot->run_delay_ns / 1e3;

		sums->off_min = i == 0 || off < sums->off_min ? off : sums->off_min;
		sums->off_max = i == 0 || off > sums->off_max ? off : sums->off_max;
		sums->off_sum += off;
		if (gap > sums->max_gap_ms) {
			sums->max_gap_ms = gap;
			sums->max_gap_cpu = slot->max_gap_cpu;
		}
		sums->migrations += worker_migrations(slot);
		sums->iterations += slot->iterations;
		sums->run_delay_sum_us += delay_us;
		if (delay_us > sums->run_delay_max_us)
			sums->run_delay_max_us = delay_us;
		cpulist_union(&sums->cpus, &slot->cpus);
		sums->workers++;
	}
}

static double ratio(double part, double whole)
{
	return whole > 0 ? part / whole : 0.0;
}

void work_stats_to_json(const struct scenario *scen, const struct work_shared *shared,
			struct json_out *out)
{
	struct cpulist all_cpus;
	double worst_spread = 0, worst_gap = 0, worst_migration_ratio = 0;
	double worst_mean_delay = 0, worst_delay = 0;
	int worst_gap_cpu = -1;
	uint64_t migrations = 0, iterations = 0;
	char list[4096];

	cpulist_clear(&all_cpus);
	json_out_object_begin(out);
	json_out_key(out, "cgroups");
	json_out_array_begin(out);
	for (size_t c = 0; c < scen->nr_cgroups; c++) {
		const struct cgroup_spec *cg = &scen->cgroups[c];
		struct cgroup_sums sums;

		sum_cgroup(shared, cg, &sums);
		double spread = sums.workers >= 2 ? sums.off_max - sums.off_min : 0.0;
		double migration_ratio = ratio((double)sums.migrations, (double)sums.iterations);
		double mean_delay = ratio(sums.run_delay_sum_us, sums.workers);

		json_out_object_begin(out);
		json_out_kv_string(out, "name", cg->name);
		json_out_kv_string(out, "cpuset",
				   cg->has_cpuset ? cpulist_format(&cg->cpuset, list, sizeof(list)) : NULL);
		json_out_kv_string(out, "cpus_allowed", cpulist_format(&cg->allowed, list, sizeof(list)));
		json_out_kv_string(out, "work_type", work_type_name(cg->work));
		json_out_kv_uint(out, "weight", cg->weight);
		json_out_kv_int(out, "nice", cg->nice);
		json_out_kv_uint(out, "num_workers", sums.workers);
		json_out_kv_uint(out, "num_cpus", cpulist_count(&sums.cpus));
		json_out_kv_double(out, "avg_off_cpu_pct", ratio(sums.off_sum, sums.workers));
		json_out_kv_double(out, "min_off_cpu_pct", sums.off_min);
		json_out_kv_double(out, "max_off_cpu_pct", sums.off_max);
		json_out_kv_double(out, "spread", spread);
		json_out_kv_double(out, "max_gap_ms", sums.max_gap_ms);
		json_out_kv_int(out, "max_gap_cpu", sums.max_gap_cpu);
		json_out_kv_uint(out, "total_migrations", sums.migrations);
		json_out_kv_double(out, "migration_ratio", migration_ratio);
		json_out_kv_uint(out, "total_iterations", sums.iterations);
		json_out_kv_double(out, "iterations_per_worker", ratio((double)sums.iterations, sums.workers));
		json_out_kv_double(out, "mean_run_delay_us", mean_delay);
		json_out_kv_double(out, "worst_run_delay_us", sums.run_delay_max_us);
		json_out_key(out, "workers");
		json_out_array_begin(out);
		for (unsigned i = 0; i < cg->workers; i++)
			worker_to_json(&shared->slots[cg->first_worker + i], out);
		json_out_array_end(out);
		json_out_object_end(out);

		cpulist_union(&all_cpus, &sums.cpus);
		migrations += sums.migrations;
		iterations += sums.iterations;
		if (spread > worst_spread)
			worst_spread = spread;
		if (sums.max_gap_ms > worst_gap) {
			worst_gap = sums.max_gap_ms;
			worst_gap_cpu = sums.max_gap_cpu;
		}
		if (migration_ratio > worst_migration_ratio)
			worst_migration_ratio = migration_ratio;
		if (mean_delay > worst_mean_delay)
			worst_mean_delay = mean_delay;
		if (sums.run_delay_max_us > worst_delay)
			worst_delay = sums.run_delay_max_us;
	}
	json_out_array_end(out);
	json_out_kv_uint(out, "total_workers", shared->nr_workers);
	json_out_kv_uint(out, "total_cpus", cpulist_count(&all_cpus));
	json_out_kv_uint(out, "total_migrations", migrations);
	json_out_kv_double(out, "worst_spread", worst_spread);
	json_out_kv_double(out, "worst_gap_ms", worst_gap);
	json_out_kv_int(out, "worst_gap_cpu", worst_gap_cpu);
	json_out_kv_double(out, "worst_migration_ratio", worst_migration_ratio);
	json_out_kv_uint(out, "total_iterations", iterations);
	json_out_kv_double(out, "worst_mean_run_delay_us", worst_mean_delay);
	json_out_kv_double(out, "worst_run_delay_us", worst_delay);
	json_out_object_end(out);
}
