/* Results and report functions shared by the parts of ktstr-verifier. */
#ifndef KTSTR_VERIFIER_H
#define KTSTR_VERIFIER_H

#include "profile.h"
#include "verifier_log.h"
#include "xalloc.h"

#include <jv.h>
#include <stdbool.h>
#include <stdio.h>

/* The schema_version of the --json documents. */
#define VERIFIER_SCHEMA_VERSION 1

/* One BPF program that the kernel loaded. */
struct prog_result {
	char *name;
	char *type;               /* "struct_ops", ...; NULL when unknown */
	long long verified_insns; /* -1 when unknown */
};

/* One program that the verifier rejected, from libbpf's load log. */
struct load_failure {
	char *program;
	char *error;              /* "-EACCES", or NULL */
	struct verifier_log_stats stats;
	bool has_stats;
};

/* The outcome of a profile's run. */
enum run_outcome {
	RUN_LOADED,      /* the scheduler's programs loaded */
	RUN_LOAD_FAILED, /* the verifier rejected a program */
	RUN_SCHED_FAILED,/* the scheduler exited or crashed before its programs loaded */
	RUN_ERROR,       /* the VM run itself failed, so the scheduler's fate is unknown */
};

struct profile_result {
	char *profile;          /* "default", "llc+steal" */
	struct strvec flags;    /* active flag names */
	struct strvec args;     /* scheduler arguments */
	enum run_outcome outcome;
	char *message;          /* why a run did not load, or NULL */
	struct prog_result *progs;
	size_t nr_progs;
	struct load_failure *failures;
	size_t nr_failures;
	char *log;              /* the scheduler's output, uncollapsed; NULL when unknown */
	char *sidecar;          /* path of the run's sidecar file, or NULL */
	char *run_id;           /* the sidecar's run id, which sorts in start order; or NULL */
	char *kernel_version;   /* NULL when unknown */
};

/* The profiles of one scheduler binary. */
struct verifier_result {
	char *scheduler;        /* name */
	char *scheduler_path;   /* NULL when unknown */
	struct profile_result *profiles;
	size_t nr_profiles;
};

/* Report settings. */
struct report_opts {
	bool raw;   /* the scheduler log as printed, without cycle collapse */
	bool json;
};

/* results.c */
const char *run_outcome_name(enum run_outcome outcome);
/* Fill a profile result from a sidecar document (borrowed). */
void profile_result_from_sidecar(jv doc, const char *sidecar_path, struct profile_result *result);
/* Find the verifier's rejections in result->log. */
void profile_result_scan_log(struct profile_result *result);
void profile_result_release(struct profile_result *result);
struct profile_result *verifier_result_add(struct verifier_result *result);
void verifier_result_release(struct verifier_result *result);
/* Load a saved result: a ktstr-verifier --json document, one sidecar file,
 * or a directory of sidecars.  Returns 0, or -1 after a message. */
int verifier_result_load(const char *path, struct verifier_result *result);
/* The program's verified_insns in a profile, or -1 when absent. */
long long profile_result_insns(const struct profile_result *result, const char *program);
bool verifier_result_failed(const struct verifier_result *result);

/* report.c */
void report_text(FILE *out, const struct verifier_result *result, const struct report_opts *opts);
jv report_json(const struct verifier_result *result, const struct report_opts *opts);
/* A/B comparison of two results, profile by profile: A's profiles paired
 * with B's of the same name, or the only profile of each side with the
 * other's.  report_diff_pairs() counts the pairs. */
size_t report_diff_pairs(const struct verifier_result *a, const struct verifier_result *b);
void report_diff_text(FILE *out, const struct verifier_result *a, const char *a_label,
		      const struct verifier_result *b, const char *b_label);
jv report_diff_json(const struct verifier_result *a, const char *a_label, const struct verifier_result *b,
		    const char *b_label, const struct report_opts *opts);

/* cargo.c */
/* Build PKG with "cargo build -p PKG --message-format=json" in the working
 * directory and return the path of its binary (malloc'd), or NULL after a
 * message. */
char *cargo_build_scheduler(const char *package);

/* vmrun.c */
struct vm_opts {
	const char *kernel;      /* --kernel, passed on to ktstr-vm; NULL to let it discover one */
	const char *topology;    /* NULL: ktstr-vm's default */
	const char *timeout;     /* NULL: ktstr-vm's default */
	const struct strvec *sched_args; /* --sched-args strings, before the profile's arguments */
	bool verbose;
};
/* Run the scheduler once per profile in a VM and collect the results.
 * Returns 0 when every VM ran (whatever the scheduler did), or -1 after a
 * message when ktstr-vm printed no report. */
int vm_run_profiles(const char *binary, const struct profile *profiles, size_t count,
		    const struct vm_opts *opts, struct verifier_result *result);

#endif
