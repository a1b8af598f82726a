/* Scenario workers in the guest: the scenario as the host resolved it, the
 * worker processes, and what each one measures about itself.
 *
 * Every worker is a process forked by the agent.  It moves itself into its
 * cgroup, waits for the common start, runs its work type's loop until the
 * scenario's end (or an early stop), and leaves its measurements in a slot of
 * memory shared with the agent.
 */
#ifndef KTSTR_GUEST_WORK_H
#define KTSTR_GUEST_WORK_H

#include "cpulist.h"
#include "worktype.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Worker processes name themselves this (prctl PR_SET_NAME), so a scheduler
 * can pick them out by comm (scx_fixture --stall-comm ktstr-worker). */
#define WORKER_COMM "ktstr-worker"
/* The SCHED_EXT policy number of sched_setscheduler(2) (Linux 6.12 and
 * later; libc headers do not have it yet). */
#define WORKER_SCHED_EXT 7

/* One cgroup of a scenario, as given by the host's scenario.cgroup lines. */
struct cgroup_spec {
	char *name;
	enum work_type work;
	unsigned workers;
	bool has_cpuset;
	struct cpulist cpuset;
	unsigned weight;        /* cpu.weight, 0 leaves the kernel's default */
	int nice;
	unsigned cache_kb;      /* CachePressure buffer */
	unsigned burst_ms;      /* Bursty: time spinning */
	unsigned sleep_ms;      /* Bursty: time asleep */

	/* Filled in while the scenario runs. */
	char *path;             /* directory under /sys/fs/cgroup */
	struct cpulist effective;   /* cpuset.cpus.effective at the start */
	struct cpulist allowed;     /* every cpuset the cgroup had during the run */
	size_t first_worker;    /* index of its first slot */
};

enum step_op {
	STEP_KILL_SCHEDULER,  /* SIGKILL the scheduler process */
	STEP_SET_CPUSET,      /* write a new cpuset.cpus for one cgroup */
};

/* A timed step, "scenario.step=at_ms=N op=OP [cgroup=NAME cpus=LIST]". */
struct step {
	uint64_t at_ms;
	enum step_op op;
	char *cgroup;
	struct cpulist cpus;
	bool done;
};

struct scenario {
	char *name;
	uint64_t duration_ms;
	bool ext_policy;        /* workers switch to SCHED_EXT (a partial scheduler) */
	struct cgroup_spec *cgroups;
	size_t nr_cgroups;
	struct step *steps;
	size_t nr_steps;
};

/* Measurements of one worker.  The worker writes the running counters while
 * it works and the totals once at its end.  The agent reads them after the
 * worker exited, or while it hangs, so that it can report a worker that
 * never finished. */
struct worker_slot {
	pid_t pid;
	uint32_t cgroup;        /* index into scenario.cgroups */
	uint32_t state;         /* enum worker_state */

	uint64_t iterations;
	uint64_t last_ns;       /* last progress mark; 0 while sleeping on purpose */
	uint64_t max_gap_ns;    /* maximum time between marks while not asleep */
	uint64_t max_gap_at_ns; /* when that gap ended, from the scenario start */
	int32_t max_gap_cpu;    /* CPU the worker was on when that gap ended */
	int32_t last_cpu;
	uint64_t cpu_changes;   /* CPU changes seen between progress marks */
	struct cpulist cpus;    /* every CPU a progress mark ran on */

	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t cpu_time_ns;   /* /proc/<pid>/schedstat: time on a CPU */
	uint64_t run_delay_ns;  /* /proc/<pid>/schedstat: time runnable and waiting */
	uint64_t timeslices;    /* /proc/<pid>/schedstat: times it was scheduled in */
	uint64_t migrations;    /* /proc/<pid>/sched se.nr_migrations */
	bool migrations_known;
	uint64_t voluntary_switches;
	uint64_t involuntary_switches;
	uint64_t policy;        /* /proc/<pid>/sched policy: 0 normal, 7 SCHED_EXT, ... */
	bool policy_known;

	uint32_t futex;         /* FutexPingPong: the pair's turn word (first slot of a pair) */
	bool reaped;            /* the agent collected its exit status */
	int exit_status;        /* shell-style status once reaped */
	bool killed;            /* the agent killed it because it did not finish */
	char error[128];        /* why a worker failed to set up, empty otherwise */
};

enum worker_state {
	WORKER_STARTING,
	WORKER_READY,      /* in its cgroup, waiting for the start */
	WORKER_RUNNING,
	WORKER_DONE,       /* totals written */
	WORKER_FAILED,     /* setup failed: error contains the reason */
};

/* State shared by the agent and every worker (one MAP_SHARED mapping). */
struct work_shared {
	uint32_t go;            /* futex: 1 once the workers may start */
	uint32_t stop;          /* 1 ends every loop at its next progress mark */
	uint64_t start_ns;      /* CLOCK_MONOTONIC of the common start */
	uint64_t end_ns;        /* planned end */
	size_t nr_workers;
	struct worker_slot slots[];
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t work_now_ns(void);

/* Map the shared area for nr_workers slots; NULL after a message. */
struct work_shared *work_shared_new(size_t nr_workers);
void work_shared_free(struct work_shared *shared);

/* Fork every worker of the scenario (after cgroup setup).  Returns 0, or -1
 * after a message; workers already started are then killed by work_stop(). */
int work_start(struct scenario *scen, struct work_shared *shared);
/* Release the workers once all are ready or failed; false when one failed
 * or none became ready within timeout_ms. */
bool work_release(struct work_shared *shared, uint64_t duration_ms, uint64_t timeout_ms);
/* Reap workers that exited; true when every one has. */
bool work_reap(struct work_shared *shared);
/* Read the kernel's counters of workers still alive (before killing them),
 * then SIGKILL and reap them. */
void work_stop(struct work_shared *shared);

/* /proc/<pid>/schedstat and /proc/<pid>/sched into the slot's totals
 * ("self" for pid 0); 0 or -1. */
int work_read_proc(pid_t pid, struct worker_slot *slot);

struct json_out;
/* The "stats" object: every worker, sums per cgroup and over the run. */
void work_stats_to_json(const struct scenario *scen, const struct work_shared *shared,
			struct json_out *out);

#endif
