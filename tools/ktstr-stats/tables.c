/* The metric, dimension and outcome tables, and the string map. */
#include "stats.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

const struct metric_def metric_defs[METRIC_COUNT] = {
	[METRIC_SPREAD] = {
		.name = "spread", .path = "stats.worst_spread", .header = "spread%",
		.doc = "widest off-CPU percentage gap between workers of one cgroup",
		.decimals = 1, .in_table = true,
	},
	[METRIC_GAP_MS] = {
		.name = "gap_ms", .path = "stats.worst_gap_ms", .header = "gap_ms",
		.doc = "longest time a worker was runnable without running, in ms",
		.decimals = 0, .in_table = true,
	},
	[METRIC_MIGRATIONS] = {
		.name = "migrations", .path = "stats.total_migrations", .header = "migrations",
		.doc = "CPU migrations of all workers",
		.decimals = 0,
	},
	[METRIC_MIGRATION_RATIO] = {
		.name = "migration_ratio", .path = "stats.worst_migration_ratio", .header = "migr_ratio",
		.doc = "migrations per iteration in the worst cgroup",
		.decimals = 3,
	},
	[METRIC_RUN_DELAY_US] = {
		.name = "run_delay_us", .path = "stats.worst_mean_run_delay_us", .header = "delay_us",
		.doc = "mean run-queue delay of the worst cgroup, in microseconds",
		.decimals = 1, .in_table = true,
	},
	[METRIC_MAX_RUN_DELAY_US] = {
		.name = "max_run_delay_us", .path = "stats.worst_run_delay_us", .header = "max_delay_us",
		.doc = "longest single run-queue delay, in microseconds",
		.decimals = 1,
	},
	[METRIC_ITERATIONS] = {
		.name = "iterations", .path = "stats.total_iterations", .header = "iterations",
		.doc = "work loop iterations of all workers (throughput)",
		.decimals = 0, .higher_is_better = true, .in_table = true,
	},
	[METRIC_IMBALANCE] = {
		.name = "imbalance", .path = "monitor.max_imbalance_ratio", .header = "imbalance",
		.doc = "largest ratio of the longest to the shortest CPU run queue",
		.decimals = 2,
	},
	[METRIC_DSQ_DEPTH] = {
		.name = "dsq_depth", .path = "monitor.max_local_dsq_depth", .header = "dsq_depth",
		.doc = "deepest local dispatch queue seen",
		.decimals = 0,
	},
	[METRIC_FALLBACK] = {
		.name = "fallback", .path = "monitor.event_deltas.total_fallback", .header = "fallback",
		.doc = "tasks the kernel dispatched to a fallback queue",
		.decimals = 0,
	},
};

const struct dimension_def dimension_defs[DIM_COUNT] = {
	[DIM_SCENARIO] = { .name = "scenario", .title = "By scenario", .column = "scenario" },
	[DIM_PROFILE] = { .name = "profile", .title = "By flag profile", .column = "profile" },
	[DIM_TOPOLOGY] = { .name = "topology", .title = "By topology", .column = "topology" },
	[DIM_SCHEDULER] = {
		.name = "scheduler", .title = "By scheduler", .column = "scheduler", .when_several = true,
	},
	[DIM_WORK_TYPE] = {
		.name = "work_type", .title = "By work type", .column = "work_type", .when_several = true,
	},
};

const char *const outcome_names[OUTCOME_COUNT] = {
	[OUTCOME_PASS] = "pass",
	[OUTCOME_FAIL] = "fail",
	[OUTCOME_SCHEDULER_FAILED] = "scheduler-failed",
	[OUTCOME_TIMEOUT] = "timeout",
	[OUTCOME_PANIC] = "panic",
	[OUTCOME_ERROR] = "error",
	[OUTCOME_SKIPPED] = "skipped",
	[OUTCOME_INTERRUPTED] = "interrupted",
};

const char *const skip_reason_names[SKIP_COUNT] = {
	[SKIP_UNREADABLE] = "unreadable",
	[SKIP_TRUNCATED] = "truncated",
	[SKIP_MALFORMED] = "malformed",
	[SKIP_FOREIGN] = "foreign",
	[SKIP_FUTURE] = "future",
};

/* FNV-1a: short keys, no adversary. */
static uint32_t hash_string(const char *key)
{
	uint32_t hash = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		hash ^= *p;
		hash *= 16777619u;
	}
	return hash;
}

static void strmap_grow(struct strmap *map)
{
	size_t nr_slots = map->nr_slots ? map->nr_slots * 2 : 64;
	uint32_t *slots = xcalloc(nr_slots, sizeof(*slots));

	for (size_t id = 0; id < map->len; id++) {
		size_t slot = hash_string(map->keys[id]) & (nr_slots - 1);
		while (slots[slot])
			slot = (slot + 1) & (nr_slots - 1);
		slots[slot] = (uint32_t)id + 1;
	}
	free(map->slots);
	map->slots = slots;
	map->nr_slots = nr_slots;
}

uint32_t strmap_intern(struct strmap *map, const char *key, bool *added)
{
	if ((map->len + 1) * 2 > map->nr_slots)
		strmap_grow(map);

	size_t slot = hash_string(key) & (map->nr_slots - 1);
	while (map->slots[slot]) {
		uint32_t id = map->slots[slot] - 1;
		if (!strcmp(map->keys[id], key)) {
			if (added)
				*added = false;
			return id;
		}
		slot = (slot + 1) & (map->nr_slots - 1);
	}

	if (map->len == map->cap) {
		map->cap = map->cap ? map->cap * 2 : 16;
		map->keys = xrealloc(map->keys, map->cap * sizeof(*map->keys));
	}
	map->keys[map->len] = xstrdup(key);
	map->slots[slot] = (uint32_t)map->len + 1;
	if (added)
		*added = true;
	return (uint32_t)map->len++;
}

void strmap_release(struct strmap *map)
{
	for (size_t id = 0; id < map->len; id++)
		free(map->keys[id]);
	free(map->keys);
	free(map->slots);
	*map = (struct strmap)STRMAP_INIT;
}
