/* Lifecycle of the sched_ext scheduler under test; see sched.h. */
#include "sched.h"

#include "cgroup.h"
#include "fsutil.h"
#include "spawn.h"
#include "work.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How often the state file is read while waiting for the scheduler. */
#define POLL_MS 20
/* After a failure, how long the scheduler gets to print its exit message and
 * exit, and the kernel to log its reason. */
#define FAILURE_GRACE_MS 3000
/* At the end, how long the scheduler gets to unregister after SIGINT. */
#define STOP_GRACE_MS 5000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A sysfs file's first line without its newline, malloc'd, or NULL. */
static char *read_line(const char *path)
{
	char *text = fs_read_file(path, NULL);

	if (text)
		text[strcspn(text, "\n")] = '\0';
	return text;
}

char *sched_state(void)
{
	char *state = read_line(SCHED_EXT_DIR "/state");

	return state ? state : xstrdup("unavailable");
}

static bool state_is(const char *want)
{
	char *state = sched_state();
	bool same = !strcmp(state, want);

	free(state);
	return same;
}

/* Take the text of one /dev/kmsg record ("prio,seq,usec,flags;text\n...")
 * when it is about sched_ext, and pick the reason and message of a disable
 * out of it. */
static void take_kmsg_record(struct sched_run *run, const char *record)
{
	const char *text = strchr(record, ';');

	if (!text)
		return;
	text++;
	size_t len = strcspn(text, "\n");
	if (!memmem(text, len, "sched_ext", 9))
		return;
	char *line = xstrndup(text, len);
	strvec_push(&run->kernel_log, line);

	/* sched_ext: BPF scheduler "NAME" disabled (REASON) */
	const char *disabled = strstr(line, "\" disabled (");
	char **slot = run->stopping && !run->failed ? &run->stop_reason : &run->exit_reason;
	if (disabled && !*slot) {
		const char *reason = disabled + strlen("\" disabled (");
		size_t reason_len = strlen(reason);
		if (reason_len && reason[reason_len - 1] == ')')
			reason_len--;
		*slot = xstrndup(reason, reason_len);
	} else if (run->exit_reason && !run->exit_message && run->ops) {
		/* sched_ext: NAME: MESSAGE, right after an error disable */
		char *prefix = xasprintf("sched_ext: %s: ", run->ops);
		if (!strncmp(line, prefix, strlen(prefix)))
			run->exit_message = xstrdup(line + strlen(prefix));
		free(prefix);
	}
	free(line);
}

static void read_kmsg(struct sched_run *run)
{
	char record[8192];

	if (run->kmsg_fd < 0)
		return;
	for (;;) {
		ssize_t n = read(run->kmsg_fd, record, sizeof(record) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten; read on from the oldest left */
		if (n <= 0)
			break;
		record[n] = '\0';
		take_kmsg_record(run, record);
	}
}

static void collect_exit(struct sched_run *run, int wait_status)
{
	run->exited = true;
	run->exit_status = spawn_status(wait_status);
}

static bool reap(struct sched_run *run, bool block)
{
	int wait_status;

	if (run->exited || run->pid <= 0)
		return run->exited;
	pid_t got = waitpid(run->pid, &wait_status, block ? 0 : WNOHANG);
	if (got == run->pid)
		collect_exit(run, wait_status);
	return run->exited;
}

/* Description of a process status for messages, malloc'd. */
static char *describe_status(int status)
{
	if (status > 128)
		return xasprintf("killed by signal %d (%s)", status - 128, strsignal(status - 128));
	return xasprintf("exit status %d", status);
}

/* Name the kind of failure from the kernel's reason (the strings of the
 * kernel's scx_exit_reason()) and how the process ended. */
static const char *failure_kind(const struct sched_run *run)
{
	const char *reason = run->exit_reason;

	if (!run->enabled)
		return "not-enabled";
	if (reason && !strcmp(reason, "runnable task stall"))
		return "stall";
	if (reason && (!strcmp(reason, "scx_bpf_error") || !strcmp(reason, "runtime error") ||
		       !strcmp(reason, "reenqueue limit") || !strcmp(reason, "rescue bandwidth overload")))
		return "error";
	if (run->exited)
		return "exited";
	return "disabled";
}

/* Wait a little for the scheduler's exit and the kernel's reason, then
 * record the failure. */
static void record_failure(struct sched_run *run, const char *fallback_reason)
{
	uint64_t deadline = work_now_ns() + FAILURE_GRACE_MS * 1000000ull;

	run->failed = true;
	run->failed_ns = work_now_ns();
	while (work_now_ns() < deadline) {
		read_kmsg(run);
		reap(run, false);
		if (run->exited && (run->exit_reason || !run->enabled))
			break;
		sleep_ms(POLL_MS);
	}
	read_kmsg(run);
	free(run->state_after);
	run->state_after = sched_state();
	run->exit_kind = xstrdup(failure_kind(run));
	/* Without the kernel's reason: the caller's words before the enable,
	 * how the process ended after it. */
	if (!run->exit_reason) {
		run->exit_reason = run->exited && run->enabled ? describe_status(run->exit_status) :
			xstrdup(fallback_reason);
	}
}

int sched_start(struct sched_run *run)
{
	struct spawn child = SPAWN_INIT;
	int null_fd, log_fd;

	run->pid = -1;
	run->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (run->kmsg_fd >= 0)
		lseek(run->kmsg_fd, 0, SEEK_END);
	/* Statistics must be on before the programs load to count their runs. */
	if (cgroup_write_file("/proc/sys/kernel/bpf_stats_enabled", "1") != 0)
		fprintf(stderr, "ktstr-guest: warning: cannot enable kernel.bpf_stats_enabled: %s\n",
			strerror(errno));
	run->state_before = sched_state();
	if (!strcmp(run->state_before, "unavailable")) {
		run->failed = true;
		run->exit_kind = xstrdup("not-enabled");
		run->exit_reason = xstrdup("the guest kernel has no sched_ext (" SCHED_EXT_DIR
					   "/state is missing): use a kernel built with "
					   "CONFIG_SCHED_CLASS_EXT=y");
		return -1;
	}

	mkdir("/tmp", 01777);
	log_fd = open(SCHED_LOG_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	child.argv = (const char *const *)run->argv;
	child.stdin_fd = null_fd;
	child.stdout_fd = log_fd;
	child.stderr_fd = log_fd;
	run->started_ns = work_now_ns();
	int status = spawn_start(&child);
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	if (status != 0) {
		run->failed = true;
		run->exit_kind = xstrdup("not-enabled");
		run->exit_reason = xstrdup("the scheduler could not be started");
		return -1;
	}
	run->pid = child.pid;
	return 0;
}

int sched_wait_enabled(struct sched_run *run)
{
	uint64_t deadline = run->started_ns + run->enable_timeout_ms * 1000000ull;

	for (;;) {
		read_kmsg(run);
		if (state_is("enabled")) {
			run->enabled = true;
			run->enable_ns = work_now_ns() - run->started_ns;
			run->ops = read_line(SCHED_EXT_DIR "/root/ops");
			char *all = read_line(SCHED_EXT_DIR "/switch_all");
			run->partial = all && !strcmp(all, "0");
			free(all);
			return 0;
		}
		if (reap(run, false)) {
			char *how = describe_status(run->exit_status);
			char *reason = xasprintf("the scheduler exited before the kernel enabled it (%s)", how);
			record_failure(run, reason);
			free(reason);
			free(how);
			return -1;
		}
		if (work_now_ns() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}

	char *reason = xasprintf("the kernel did not enable the scheduler within %llu ms",
				 (unsigned long long)run->enable_timeout_ms);
	kill(run->pid, SIGKILL);
	reap(run, true);
	run->failed = true;
	run->failed_ns = work_now_ns();
	read_kmsg(run);
	run->state_after = sched_state();
	run->exit_kind = xstrdup("not-enabled");
	run->exit_reason = reason;
	return -1;
}

bool sched_check(struct sched_run *run)
{
	if (run->failed)
		return false;
	read_kmsg(run);
	if (reap(run, false)) {
		record_failure(run, "the scheduler process exited");
		return false;
	}
	if (!state_is("enabled")) {
		record_failure(run, "the kernel disabled the scheduler");
		return false;
	}
	return true;
}

void sched_kill(struct sched_run *run)
{
	if (run->pid > 0 && !run->exited)
		kill(run->pid, SIGKILL);
}

void sched_stop(struct sched_run *run)
{
	if (run->pid <= 0)
		return;
	if (!run->failed && sched_check(run)) {
		free(run->state_after);
		run->state_after = sched_state();
	}
	run->stopping = true;
	if (!run->exited) {
		uint64_t deadline = work_now_ns() + STOP_GRACE_MS * 1000000ull;
		kill(run->pid, SIGINT);
		while (!reap(run, false) && work_now_ns() < deadline)
			sleep_ms(POLL_MS);
		if (!run->exited) {
			kill(run->pid, SIGKILL);
			reap(run, true);
		}
	}
	read_kmsg(run);
}

/* The scheduler's output, the head and tail of it when larger than the cap. */
static void log_to_json(struct json_out *out)
{
	size_t len = 0;
	char *text = fs_read_file(SCHED_LOG_PATH, &len);

	json_out_kv_uint(out, "log_bytes", text ? len : 0);
	json_out_kv_bool(out, "log_truncated", text && len > SCHED_LOG_MAX);
	json_out_key(out, "log");
	if (!text) {
		json_out_string(out, "");
		return;
	}
	if (len <= SCHED_LOG_MAX) {
		json_out_string_len(out, text, len);
	} else {
		size_t half = SCHED_LOG_MAX / 2;
		char *marker = xasprintf("\n[... %zu bytes left out ...]\n", len - 2 * half);
		size_t marker_len = strlen(marker);
		char *joined = xmalloc(2 * half + marker_len);
		memcpy(joined, text, half);
		memcpy(joined + half, marker, marker_len);
		memcpy(joined + half + marker_len, text + len - half, half);
		json_out_string_len(out, joined, 2 * half + marker_len);
		free(joined);
		free(marker);
	}
	free(text);
}

void sched_to_json(const struct sched_run *run, uint64_t scenario_start_ns, struct json_out *out)
{
	json_out_object_begin(out);
	json_out_kv_string(out, "path", run->argv[0]);
	json_out_key(out, "args");
	json_out_array_begin(out);
	for (size_t i = 1; run->argv[i]; i++)
		json_out_string(out, run->argv[i]);
	json_out_array_end(out);
	json_out_kv_string(out, "ops", run->ops);
	json_out_kv_bool(out, "partial", run->partial);
	json_out_kv_string(out, "state_before", run->state_before);
	json_out_kv_string(out, "state_after", run->state_after);
	json_out_kv_bool(out, "enabled", run->enabled);
	json_out_key(out, "enable_ms");
	if (run->enabled)
		json_out_double(out, (double)run->enable_ns / 1e6);
	else
		json_out_null(out);
	json_out_kv_bool(out, "failed", run->failed);
	json_out_key(out, "failed_at_ms");
	if (run->failed && scenario_start_ns && run->failed_ns > scenario_start_ns)
		json_out_double(out, (double)(run->failed_ns - scenario_start_ns) / 1e6);
	else
		json_out_null(out);
	json_out_kv_string(out, "exit_kind", run->exit_kind);
	json_out_kv_string(out, "exit_reason", run->exit_reason);
	json_out_kv_string(out, "exit_message", run->exit_message);
	json_out_kv_string(out, "stop_reason", run->stop_reason);
	json_out_key(out, "exit_status");
	if (run->exited)
		json_out_int(out, run->exit_status);
	else
		json_out_null(out);
	json_out_key(out, "kernel_log");
	json_out_array_begin(out);
	for (size_t i = 0; i < run->kernel_log.len; i++)
		json_out_string(out, run->kernel_log.items[i]);
	json_out_array_end(out);
	log_to_json(out);
	json_out_object_end(out);
}

void sched_release(struct sched_run *run)
{
	if (run->kmsg_fd >= 0)
		close(run->kmsg_fd);
	run->kmsg_fd = -1;
	free(run->state_before);
	free(run->state_after);
	free(run->ops);
	free(run->exit_kind);
	free(run->exit_reason);
	free(run->exit_message);
	free(run->stop_reason);
	strvec_release(&run->kernel_log);
}
