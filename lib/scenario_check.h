/* The checks of a scenario run (ktstr-scenario(5)): starvation, cpuset
 * isolation, fairness and the scheduler's health, judged from the guest
 * agent's "result" and "sched" records. */
#ifndef KTSTR_SCENARIO_CHECK_H
#define KTSTR_SCENARIO_CHECK_H

#include <jv.h>
#include <stdbool.h>

/* Upstream ktstr's release defaults. */
#define DEFAULT_MAX_GAP_MS 2000.0
#define DEFAULT_MAX_SPREAD_PCT 15.0
/* Under TCG every vCPU is a host thread that the host preempts, so the
 * default thresholds are multiplied by this.  Thresholds given by an option
 * or a scenario file are used as they are.
 * NOTE: 2.5 is a judgement, not a measured bound: on a loaded 2-core host,
 * 2-vCPU runs of the built-in scenarios stayed below 17% spread and 900 ms
 * gaps. */
#define TCG_THRESHOLD_SCALE 2.5

struct scenario_limits {
	double max_gap_ms;      /* starvation: maximum time a worker may go without running */
	double max_spread_pct;  /* fairness: max minus min off-CPU percentage in a cgroup */
	double tcg_scale;       /* factor applied to the defaults, 1 when none */
	bool gap_scaled;
	bool spread_scaled;
};

/* Judge a result record and a scheduler record (null without a scheduler);
 * both are borrowed.  Returns the array of failures, each an object with
 * check, message, value, threshold, cgroup and worker. */
jv scenario_check_run(jv result, jv sched, const struct scenario_limits *limits);
/* The sidecar's thresholds object. */
jv scenario_check_limits_json(const struct scenario_limits *limits);

#endif
