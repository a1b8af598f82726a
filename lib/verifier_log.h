/* BPF verifier logs as libbpf prints them when a program fails to load:
 * the per-program load logs, the statistics line, and cycle collapse, which
 * folds the iterations of a loop that the verifier walked one at a time.
 */
#ifndef KTSTR_VERIFIER_LOG_H
#define KTSTR_VERIFIER_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* The kernel's BPF_COMPLEXITY_LIMIT_INSNS: the verifier gives up on a
 * program after processing this many instructions. */
#define VERIFIER_INSN_LIMIT 1000000LL
/* Programs at or above this share of the limit are flagged. */
#define VERIFIER_NEAR_LIMIT_PCT 75

/* Cycle collapse parameters (see ktstr-verifier(1), CYCLE COLLAPSE). */
#define VERIFIER_LOG_MIN_PERIOD 5 /* lines in one loop iteration */
#define VERIFIER_LOG_MIN_REPEAT 3 /* iterations in a row */
#define VERIFIER_LOG_MAX_PASSES 5 /* one per level of loop nesting */
#define VERIFIER_LOG_MIN_LINES 15 /* shorter logs are returned unchanged */

/* Percentage of VERIFIER_INSN_LIMIT that insns represents. */
double verifier_log_limit_pct(long long insns);
/* True when insns is at or above VERIFIER_NEAR_LIMIT_PCT of the limit. */
bool verifier_log_near_limit(long long insns);

/* Length of the part of a log line that cycle collapse compares: the line
 * without register-state annotations and trailing white space.  line need
 * not be NUL-terminated. */
size_t verifier_log_normalize(const char *line, size_t len);

/* Collapse repeated loop iterations in a verifier log.  Returns a malloc'd
 * NUL-terminated copy, equal to the input when nothing repeats; *out_len
 * (optional) gets its length.  Runs in time linear in the number of
 * lines, on any input. */
char *verifier_log_collapse(const char *text, size_t len, size_t *out_len);

/* The statistics the verifier prints at the end of a load log:
 * "processed N insns (limit L) max_states_per_insn M total_states T
 * peak_states P mark_read R", "verification time U usec", "stack depth S".
 * A field that was not found is -1 (stack_depth NULL). */
struct verifier_log_stats {
	long long processed_insns;
	long long insn_limit;
	long long max_states_per_insn;
	long long total_states;
	long long peak_states;
	long long mark_read;
	long long time_usec;
	char *stack_depth; /* "16" or, with subprograms, "16+0+32" */
};

/* Parse the last statistics of a log into stats.  Returns true when a
 * "processed N insns" line was found. */
bool verifier_log_parse_stats(const char *text, size_t len, struct verifier_log_stats *stats);
void verifier_log_stats_release(struct verifier_log_stats *stats);

/* One program's load log inside a scheduler's output, between libbpf's
 * "libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --" and
 * "-- END PROG LOAD LOG --" lines. */
struct verifier_log_prog {
	char *program;     /* NAME */
	char *error;       /* from "BPF program load failed: -EACCES", or NULL */
	const char *body;  /* points into the scanned text */
	size_t body_len;   /* through the last newline before the END line */
	struct verifier_log_stats stats;
	bool has_stats;
};

/* Find every program load log in a scheduler's output.  Returns the number
 * found and a malloc'd array in *progs (NULL when none). */
size_t verifier_log_find_progs(const char *text, size_t len, struct verifier_log_prog **progs);
void verifier_log_progs_free(struct verifier_log_prog *progs, size_t count);

#endif
