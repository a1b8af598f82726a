/* The sched_ext scheduler under test, in the guest: start it, wait until the
 * kernel enables it, watch it during the scenario, stop it, and tell why it
 * ended when it ended early.
 */
#ifndef KTSTR_GUEST_SCHED_H
#define KTSTR_GUEST_SCHED_H

#include "json_out.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SCHED_EXT_DIR "/sys/kernel/sched_ext"
/* The scheduler's stdout and stderr, together, in the guest's RAM. */
#define SCHED_LOG_PATH "/tmp/ktstr-scheduler.log"
/* The record carries at most this much of the scheduler's output: the first
 * and the last half of it when there is more. */
#define SCHED_LOG_MAX (1024 * 1024)

struct sched_run {
	char **argv;                 /* the binary's guest path, then its arguments */
	uint64_t enable_timeout_ms;

	pid_t pid;
	bool exited;
	int exit_status;             /* shell-style, once exited */
	int kmsg_fd;                 /* /dev/kmsg, read from the scheduler's start */

	char *state_before;
	char *state_after;
	char *ops;                   /* /sys/kernel/sched_ext/root/ops */
	bool partial;                /* enabled without switching every task */
	uint64_t started_ns;
	uint64_t enable_ns;          /* time from start to "enabled"; 0 if never */
	bool enabled;

	bool failed;
	uint64_t failed_ns;          /* CLOCK_MONOTONIC when the failure was seen */
	char *exit_kind;             /* not-enabled, exited, stall, error, disabled */
	char *exit_reason;           /* the kernel's reason, or how the process ended */
	char *exit_message;          /* the kernel's message of an error exit */
	bool stopping;               /* sched_stop() asked it to stop */
	char *stop_reason;           /* the kernel's reason when it stopped as asked */
	struct strvec kernel_log;    /* kernel messages that mention sched_ext */
};

/* Enable BPF run-time statistics (kernel.bpf_stats_enabled=1) and start the
 * scheduler with its output to SCHED_LOG_PATH.  0, or -1 with the failure
 * recorded in run. */
int sched_start(struct sched_run *run);
/* Wait until /sys/kernel/sched_ext/state reads "enabled"; 0, or -1 when the
 * scheduler exited first or the timeout passed (then it is killed). */
int sched_wait_enabled(struct sched_run *run);
/* Check during the run that the scheduler process lives and the kernel still
 * has it enabled.  Returns false once it failed; the first failure seen is
 * recorded with the kernel's reason. */
bool sched_check(struct sched_run *run);
/* Record the state at the end, then stop the scheduler: SIGINT, and SIGKILL
 * if it has not exited after a few seconds. */
void sched_stop(struct sched_run *run);
/* SIGKILL the scheduler process (the kill-scheduler scenario step). */
void sched_kill(struct sched_run *run);
/* Read the current /sys/kernel/sched_ext/state, malloc'd ("unavailable"
 * when the kernel has no sched_ext). */
char *sched_state(void);

/* The "sched" record: everything above and the scheduler's output. */
void sched_to_json(const struct sched_run *run, uint64_t scenario_start_ns, struct json_out *out);
void sched_release(struct sched_run *run);

#endif
