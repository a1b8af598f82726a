/* The parts of ktstr-vm's scenario runs: the scenario definition (built-in,
 * file or options) and the sidecar document.  scenario.c puts them together
 * with the checks of lib/scenario_check.h behind scenario.h. */
#ifndef KTSTR_SCENARIO_INTERNAL_H
#define KTSTR_SCENARIO_INTERNAL_H

#include "cpulist.h"
#include "scenario_check.h"
#include "topology.h"
#include "vm.h"
#include "worktype.h"
#include "xalloc.h"

#include <jv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_DURATION_MS 5000
#define DEFAULT_WORKERS_PER_CPU 2
#define DEFAULT_ENABLE_TIMEOUT_MS 20000

enum step_kind { STEP_KIND_KILL_SCHEDULER, STEP_KIND_SET_CPUSET };

struct cgroup_def {
	char *name;
	enum work_type work;
	unsigned workers;          /* 0: workers_per_cpu decides */
	unsigned workers_per_cpu;
	char *cpuset_text;         /* as written, "split", or NULL */
	struct cpulist cpuset;     /* resolved against the topology */
	unsigned weight;           /* cpu.weight 1..10000, 0 for the default */
	int nice;
	unsigned cache_kb;
	unsigned burst_ms;
	unsigned sleep_ms;
};

struct step_def {
	uint64_t at_ms;
	enum step_kind kind;
	char *cgroup;
	char *cpus_text;
	struct cpulist cpus;
};

struct scenario_def {
	char *name;
	char *description;
	char *source;              /* the file it came from, or NULL for options */
	uint64_t duration_ms;
	struct cgroup_def *cgroups;
	size_t nr_cgroups;
	struct step_def *steps;
	size_t nr_steps;
	double max_gap_ms;         /* < 0: not given, use the default */
	double max_spread_pct;
};

/* scenario_def.c */
void scenario_def_init(struct scenario_def *def);
void scenario_def_release(struct scenario_def *def);
/* Add a cgroup with the defaults (CpuSpin, two workers per CPU). */
struct cgroup_def *scenario_def_add_cgroup(struct scenario_def *def, const char *name);
/* Read a scenario file: -1 after a message naming the file and the cause. */
int scenario_def_load(const char *path, struct scenario_def *def);
/* The path of built-in scenario name, malloc'd, or NULL when there is none. */
char *scenario_builtin_path(const char *name);
/* Print the built-in scenarios, one "NAME  DESCRIPTION" line each; 0 or -1. */
int scenario_list_builtin(FILE *out);
/* Resolve worker counts and cpusets against the topology and check every
 * value; -1 after a message. */
int scenario_def_resolve(struct scenario_def *def, const struct topology *topo);
/* The resolved scenario as JSON (for the sidecar). */
jv scenario_def_to_json(const struct scenario_def *def);


/* Everything a sidecar records about one run. */
struct sidecar_inputs {
	const struct scenario_def *def;
	const char *scheduler_path;     /* host path, NULL for the kernel's scheduler */
	const struct strvec *sched_args;
	const struct strvec *active_flags;
	const char *profile;
	const struct vm_result *vm;
	jv result;                      /* the guest's result record, or null (borrowed) */
	jv sched;                       /* the guest's sched record, or null (borrowed) */
	jv failures;                    /* borrowed */
	const struct scenario_limits *limits;
	const char *outcome;
	bool passed;
	int exit_status;
	const char *error;              /* what stopped an interrupted run, else NULL */
	const char *timestamp;
	const char *run_id;
	const char *project_branch;
	const char *project_commit;
};

/* scenario_sidecar.c: the sidecar document (ktstr-sidecar(5)). */
jv scenario_sidecar_build(const struct sidecar_inputs *in);
/* The last lines of a text, at most max_lines of them, malloc'd. */
char *scenario_text_tail(const char *text, size_t max_lines);

#endif
