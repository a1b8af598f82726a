#include "worktype.h"

#include <string.h>

static const struct {
	const char *name;
	const char *description;
	bool paired;
} work_types[WORK_TYPE_COUNT] = {
	[WORK_CPU_SPIN] = { "CpuSpin", "arithmetic in a tight loop, never sleeps", false },
	[WORK_YIELD_HEAVY] = { "YieldHeavy", "a short spin, then sched_yield(), over and over", false },
	[WORK_MIXED] = { "Mixed",
			 "spins, with a sched_yield() every 4th and a 200 us sleep every 16th round",
			 false },
	[WORK_IO_SYNC] = { "IoSync",
			   "4 KiB pwrite() and fdatasync() on a file in the guest's tmpfs (no block device)",
			   false },
	[WORK_BURSTY] = { "Bursty", "spins for burst_ms, then sleeps for sleep_ms", false },
	[WORK_PIPE_IO] = { "PipeIo", "pairs pass one byte back and forth through two pipes", true },
	[WORK_FUTEX_PING_PONG] = { "FutexPingPong", "pairs wake each other in turn through a futex",
				   true },
	[WORK_CACHE_PRESSURE] = { "CachePressure",
				  "reads and writes every cache line of a cache_kb buffer in turn",
				  false },
	[WORK_FORK_EXIT] = { "ForkExit", "forks a child that exits at once, and waits for it",
			     false },
	[WORK_AFFINITY_CHURN] = { "AffinityChurn",
				  "pins itself to the next allowed CPU after every short spin", false },
};

const char *work_type_name(enum work_type type)
{
	return type < WORK_TYPE_COUNT ? work_types[type].name : "unknown";
}

const char *work_type_description(enum work_type type)
{
	return type < WORK_TYPE_COUNT ? work_types[type].description : "";
}

int work_type_parse(const char *name, enum work_type *out)
{
	for (int i = 0; i < WORK_TYPE_COUNT; i++) {
		if (!strcmp(work_types[i].name, name)) {
			*out = (enum work_type)i;
			return 0;
		}
	}
	return -1;
}

bool work_type_paired(enum work_type type)
{
	return type < WORK_TYPE_COUNT && work_types[type].paired;
}
