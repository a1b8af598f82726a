/* The values one sidecar file contributes to the report, as plain C data.
 *
 * summary_read() parses a file and extracts these values.  It touches no
 * shared state, so worker threads call it in parallel.  No jv crosses
 * threads, because libjq counts references without atomics.  The main
 * thread then folds each summary into the report in file order.
 */
#ifndef KTSTR_STATS_SUMMARY_H
#define KTSTR_STATS_SUMMARY_H

#include "stats.h"

struct program_sample {
	char *name;
	double verified_insns;           /* 0 when not reported */
	double cnt;                      /* callback invocations, 0 when not reported */
	double nsecs;
};

struct run_summary {
	bool skipped_file;               /* not a readable sidecar: see reason and message */
	enum skip_reason reason;
	char *message;

	bool upstream;                   /* no schema_version: the upstream layout */
	char *group[DIM_COUNT];          /* scenario, profile, topology, scheduler, work type */
	enum outcome outcome;
	/* Whether the guest reported its workers' figures, which is when stats
	 * is an object whose total_workers is not 0.  Only such runs have
	 * metric values. */
	bool measured;
	double metric[METRIC_COUNT];     /* NAN when missing or invalid */
	unsigned nr_invalid;             /* metric values left out as invalid */
	enum metric_id first_invalid;    /* the first of them */
	double first_invalid_value;
	bool stalled;
	char *check;                     /* first failed check of a failed run, or NULL */
	char *failure_message;

	char **stimuli;                  /* distinct stimulus kinds */
	size_t nr_stimuli;

	struct program_sample *verifier;
	size_t nr_verifier;
	struct program_sample *callbacks;
	size_t nr_callbacks;

	bool has_kvm;                    /* kvm_stats.per_vcpu is not empty */
	bool tcg;                        /* accel is "tcg" and there are no KVM statistics */
	/* Averages over the vCPUs that report each statistic as a finite
	 * number that is not negative, or NAN when no vCPU does. */
	double kvm_per_vcpu[KVM_KEY_COUNT];
	double halt_successful_poll;     /* sums over vCPUs */
	double halt_attempted_poll;
	double preemptions;
};

/* Read and summarise one file.  An unreadable, invalid or foreign file
 * gives a summary with skipped_file set and the cause in message. */
void summary_read(const char *path, struct run_summary *summary);
void summary_release(struct run_summary *summary);

#endif
