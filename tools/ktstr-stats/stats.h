/* ktstr-stats: the analysis of a set of sidecar files, shared by its parts.
 *
 * summary.c parses one sidecar into a plain struct run_summary on a worker
 * thread, after prune.c has cut out the values the report never reads.
 * load.c folds the summaries into struct report in file order, and at most
 * a ring of summaries is alive at a time.  What is kept per run is a
 * fixed-size struct run_row (metric values, group ids, outcome) plus its
 * path, and for a failed run its first failure.  Everything else is a
 * per-group aggregate.  analyze.c computes medians and outliers from the
 * rows, and text.c and output_json.c print the result.
 */
#ifndef KTSTR_STATS_H
#define KTSTR_STATS_H

#include <jv.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The metrics of the gauntlet analysis: medians per group and outliers. */
enum metric_id {
	METRIC_SPREAD,
	METRIC_GAP_MS,
	METRIC_MIGRATIONS,
	METRIC_MIGRATION_RATIO,
	METRIC_RUN_DELAY_US,
	METRIC_MAX_RUN_DELAY_US,
	METRIC_ITERATIONS,
	METRIC_IMBALANCE,
	METRIC_DSQ_DEPTH,
	METRIC_FALLBACK,
	METRIC_COUNT
};

struct metric_def {
	const char *name;       /* key in --json output and in outlier lines */
	const char *path;       /* dotted key path in the sidecar */
	const char *header;     /* column header in the text tables */
	const char *doc;        /* one line for the man page and --json */
	int decimals;           /* digits after the point in text output */
	bool higher_is_better;  /* outliers are reported on the worse side only */
	bool in_table;          /* shown in the text dimension tables */
};
extern const struct metric_def metric_defs[METRIC_COUNT];
/* The largest metric value read: 2^53, beyond which a double no longer
 * counts whole numbers exactly.  Larger values are left out as invalid. */
#define METRIC_MAX 9007199254740992.0

/* The dimensions that runs are grouped by. */
enum dimension_id {
	DIM_SCENARIO,
	DIM_PROFILE,
	DIM_TOPOLOGY,
	DIM_SCHEDULER,
	DIM_WORK_TYPE,
	DIM_COUNT
};

struct dimension_def {
	const char *name;     /* key in --json output */
	const char *title;    /* text heading */
	const char *column;   /* text column header of the group names */
	bool when_several;    /* printed only when more than one group exists */
};
extern const struct dimension_def dimension_defs[DIM_COUNT];

/* The outcome of a run.  Upstream sidecars have no "outcome" key, so theirs is
 * derived from "passed" and "skipped". */
enum outcome {
	OUTCOME_PASS,
	OUTCOME_FAIL,
	OUTCOME_SCHEDULER_FAILED,
	OUTCOME_TIMEOUT,
	OUTCOME_PANIC,
	OUTCOME_ERROR,
	OUTCOME_SKIPPED,
	OUTCOME_INTERRUPTED,   /* stopped by a signal before it ended */
	OUTCOME_COUNT
};
extern const char *const outcome_names[OUTCOME_COUNT];

static inline bool outcome_failed(enum outcome outcome)
{
	return outcome != OUTCOME_PASS && outcome != OUTCOME_SKIPPED && outcome != OUTCOME_INTERRUPTED;
}

/* Modified z-score screening (Iglewicz and Hoaglin): a value is an outlier
 * when 0.6745 * |x - median| / MAD exceeds OUTLIER_THRESHOLD, among the runs
 * of one scenario that have the metric. */
#define OUTLIER_THRESHOLD 3.5
#define OUTLIER_MIN_RUNS 5

/* The BPF verifier's limit on processed instructions per program
 * (BPF_COMPLEXITY_LIMIT_INSNS in include/linux/bpf.h). */
#define VERIFIER_INSN_LIMIT 1000000
#define VERIFIER_WARN_PCT 75

/* Strings mapped to dense ids, for group names and program keys. */
struct strmap {
	char **keys;      /* keys[id], owned */
	size_t len;
	size_t cap;
	uint32_t *slots;  /* open addressing: id + 1, 0 when empty */
	size_t nr_slots;
};
#define STRMAP_INIT { NULL, 0, 0, NULL, 0 }

/* The id of key, adding it when new.  *added (optional) is set to whether it was. */
uint32_t strmap_intern(struct strmap *map, const char *key, bool *added);
void strmap_release(struct strmap *map);

struct run_row {
	uint32_t path;                   /* offset of the file path in report.paths */
	uint32_t group[DIM_COUNT];       /* group id within each dimension */
	enum outcome outcome;
	double metric[METRIC_COUNT];     /* NAN when the sidecar lacks the value */
};

struct group {
	unsigned runs;
	unsigned outcomes[OUTCOME_COUNT];
	unsigned stalls;                 /* runs whose monitor saw a stall */
	uint32_t *rows;                  /* indexes into report.rows */
	size_t nr_rows;
	size_t cap_rows;
	double median[METRIC_COUNT];     /* NAN when no run has the metric */
};

struct dimension {
	struct strmap names;             /* group id -> name */
	struct group *groups;            /* indexed by group id */
	size_t cap_groups;
	uint32_t *order;                 /* group ids in report order */
};

struct failed_run {
	uint32_t row;
	char *check;                     /* first failed check, or NULL */
	char *message;                   /* its message, or the scheduler's exit reason */
};

struct outlier {
	uint32_t row;
	enum metric_id metric;
	double value;
	double median;
	double score;                    /* modified z-score, signed */
};

/* One program's figures summed over runs, keyed by "<scheduler>\t<program>". */
struct program_stat {
	unsigned verifier_runs;          /* runs that reported its verified_insns */
	long long verified_insns;        /* maximum over those runs */
	unsigned profile_runs;           /* runs that reported its callback counts */
	unsigned long long cnt;          /* callback invocations, summed */
	unsigned long long nsecs;        /* callback CPU time in ns, summed */
};

struct stimulus_row {
	unsigned runs;
	unsigned outcomes[OUTCOME_COUNT];
};

enum skip_reason {
	SKIP_UNREADABLE,
	SKIP_TRUNCATED,
	SKIP_MALFORMED,
	SKIP_FOREIGN,
	SKIP_FUTURE,
	SKIP_COUNT
};
extern const char *const skip_reason_names[SKIP_COUNT];

struct skipped_file {
	char *path;
	enum skip_reason reason;
	char *message;
};

/* The per-vCPU KVM statistics that are averaged, by index in the per_vcpu[] arrays. */
enum kvm_key {
	KVM_EXITS,
	KVM_HALT_EXITS,
	KVM_HALT_WAIT_NS,
	KVM_PREEMPTION_REPORTED,
	KVM_SIGNAL_EXITS,
	KVM_HYPERCALLS,
	KVM_KEY_COUNT
};

struct kvm_totals {
	unsigned vms;                    /* measured runs with KVM statistics */
	unsigned tcg_runs;               /* runs under TCG, which have none */
	double per_vcpu[KVM_KEY_COUNT];  /* sums over VMs of each VM's average over its vCPUs */
	unsigned per_vcpu_vms[KVM_KEY_COUNT]; /* VMs in each sum: those with a vCPU that reported it */
	double halt_successful_poll;     /* sums over every vCPU of every VM */
	double halt_attempted_poll;
	double preemptions_total;
};

/* The average over VMs of a per-vCPU statistic, or NAN when no VM reported it. */
static inline double kvm_average(const struct kvm_totals *kvm, enum kvm_key key)
{
	return kvm->per_vcpu_vms[key] ? kvm->per_vcpu[key] / kvm->per_vcpu_vms[key] : NAN;
}

struct report {
	char **dirs;
	size_t nr_dirs;

	char *paths;                     /* NUL-separated paths of the rows */
	size_t paths_len;
	size_t paths_cap;

	struct run_row *rows;
	size_t nr_rows;
	size_t cap_rows;
	unsigned upstream_rows;          /* rows read from upstream-format files */
	/* Runs that were neither skipped nor interrupted but whose guest never
	 * reported its workers' figures, so they have no metric values. */
	unsigned unmeasured_rows;

	unsigned outcomes[OUTCOME_COUNT];
	struct dimension dims[DIM_COUNT];

	struct failed_run *failed;
	size_t nr_failed;
	size_t cap_failed;

	struct outlier *outliers;
	size_t nr_outliers;
	size_t cap_outliers;

	struct strmap stimuli;
	struct stimulus_row *stimulus_rows;
	size_t cap_stimulus_rows;
	unsigned runs_with_stimuli;
	struct stimulus_row no_stimulus; /* measured runs without stimulus events */

	struct strmap programs;
	struct program_stat *program_stats;
	size_t cap_program_stats;
	uint32_t *verifier_order;        /* program ids with verifier counts, sorted */
	size_t nr_verifier;
	uint32_t *profile_order;         /* program ids with callback counts, sorted */
	size_t nr_profile;

	struct kvm_totals kvm;

	struct skipped_file *skipped;
	size_t nr_skipped;
	size_t cap_skipped;
};

/* load.c */
/* Read every sidecar in dir and in its direct subdirectories.  Returns 0, or
 * -1 after a message when dir itself cannot be read. */
int load_dir(struct report *report, const char *dir);
const char *report_path(const struct report *report, uint32_t row);
void report_release(struct report *report);

/* analyze.c */
/* Compute medians, outliers and the order of groups and programs. */
void analyze(struct report *report);
unsigned group_failed(const struct group *group);
/* Failed runs over runs that were neither skipped nor interrupted; NAN when
 * there are none. */
double failure_rate(const unsigned outcomes[OUTCOME_COUNT]);

/* text.c */
void print_text(FILE *out, const struct report *report, bool color);

/* output_json.c */
jv report_json(const struct report *report);

#endif
