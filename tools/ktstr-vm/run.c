/* The run loop: start QEMU, move bytes between its sockets and the host's
 * streams, parse the guest's records and decide how the run ended.
 *
 * Every channel is a unix socket in launch->sock_dir that this process
 * listens on before QEMU starts; QEMU connects to each as a client while it
 * starts up.  One poll() loop watches the sockets, QEMU's own output, the
 * terminal in shell mode, the signal pipe and the deadline.
 */
#include "vmrun.h"

#include "diag.h"
#include "fsutil.h"
#include "qmp.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONSOLE_TAIL_LINES 40
#define CONSOLE_LINE_MAX 512
#define QEMU_OUTPUT_MAX 8192
#define RECORD_MAX (64u << 20)
#define STDOUT_CAPTURE_MAX (64u << 20)
/* How long the guest may take to finish its output after its exit record. */
#define OUTPUT_GRACE_SEC 10.0
/* How often KVM statistics are read while the guest runs, and how long the
 * end of a run waits for the response to a final reading. */
#define STATS_INTERVAL_SEC 1.0
#define STATS_GRACE_SEC 2.0
/* Ctrl-A: the first key of the shell's escape sequence; Ctrl-A x quits. */
#define ESCAPE_KEY 0x01

enum channel_id { CH_CONSOLE, CH_STDOUT, CH_STDERR, CH_RESULT, CH_SHELL, CH_QMP, CH_COUNT };

static const char *const channel_names[CH_COUNT] = { "console", "stdout", "stderr", "result",
						     "shell",   "qmp" };

struct channel {
	int listen_fd;
	int fd;
};

/* Finds the end marker in an output stream that arrives in pieces: bytes
 * that might begin the marker wait in pending until the next piece. */
struct stream_end {
	char pending[128];
	size_t pending_len;
	bool ended;
};

struct run_state {
	const struct vm_launch *launch;
	struct vm_result *result;
	struct channel channels[CH_COUNT];
	int signal_fd;
	int qemu_output_fd;
	struct spawn qemu;
	bool qemu_running;
	int qemu_status;
	double start;
	double deadline;
	double exit_deadline;
	bool exit_seen;
	struct stream_end stream_ends[2]; /* stdout, stderr */
	int stop_signal;
	bool timed_out;
	bool escaped;
	bool escape_armed;
	bool stdin_open;

	FILE *console_log;
	char console_line[CONSOLE_LINE_MAX];
	size_t console_line_len;
	int console_escape;      /* 0 text, 1 after ESC, 2 inside ESC [ */
	char *tail[CONSOLE_TAIL_LINES];
	size_t tail_next;
	char *panic_line;        /* the first "Kernel panic" message, or NULL */

	char *records;
	size_t records_len;
	size_t records_cap;

	char qemu_output[QEMU_OUTPUT_MAX];
	size_t qemu_output_len;

	char *captured;
	size_t captured_len;
	size_t captured_cap;

	struct qmp qmp;
	double next_sample;      /* when to read KVM statistics next */
	double stats_deadline;   /* the last wait for a final reading ends here */
	bool guest_failed;       /* QEMU stopped the guest (KVM internal error) */
	bool connected;          /* QEMU connected to one of the sockets: it ran */
	int qemu_signal;         /* the signal that ended QEMU, or 0 */
	pid_t qemu_group;        /* QEMU's process group (its own pid) */
};

/* QEMU while it runs, for vm_qemu_kill_now(). */
static volatile pid_t running_qemu = -1;

/* QEMU runs in a session of its own, so its process group also contains
 * anything it started (a KTSTR_QEMU wrapper script that did not exec QEMU,
 * say).  Killing the group leaves no process with our pipes open. */
void vm_qemu_kill_now(void)
{
	if (running_qemu > 0)
		kill(-running_qemu, SIGKILL);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write data with every "\n" as "\r\n": the terminal is in raw mode during
 * the interactive shell, so a bare line feed would not return the cursor. */
static void write_crlf(int fd, const char *data, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n' || (i > 0 && data[i - 1] == '\r'))
			continue;
		fs_write_all(fd, data + start, i - start);
		fs_write_all(fd, "\r", 1);
		start = i;
	}
	fs_write_all(fd, data + start, len - start);
}

static int listen_socket(const char *dir, const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, name) >=
	    sizeof(addr.sun_path))
		return err_msg("socket path '%s/%s' is too long", dir, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno("cannot create a socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 1) != 0) {
		err_errno("cannot listen on '%s'", addr.sun_path);
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the console: log file, live copy, last lines, panic detection ---- */

static void console_end_line(struct run_state *st)
{
	char *line;

	st->console_line[st->console_line_len] = '\0';
	const char *panic = strstr(st->console_line, "Kernel panic - not syncing");
	if (panic && !st->panic_line)
		st->panic_line = xstrdup(panic);
	line = xstrdup(st->console_line);
	free(st->tail[st->tail_next]);
	st->tail[st->tail_next] = line;
	st->tail_next = (st->tail_next + 1) % CONSOLE_TAIL_LINES;
	st->console_line_len = 0;
}

static void console_input(struct run_state *st, const char *data, size_t len)
{
	if (st->console_log)
		fwrite(data, 1, len, st->console_log);
	if (st->launch->dmesg && st->launch->mode == VM_MODE_SHELL)
		write_crlf(STDERR_FILENO, data, len);
	else if (st->launch->dmesg)
		fs_write_all(STDERR_FILENO, data, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		/* Keep printable text only: the firmware writes terminal escapes
		 * (ESC c, ESC [ ... letter), which a state machine skips. */
		if (st->console_escape == 1) {
			st->console_escape = c == '[' ? 2 : 0;
			continue;
		}
		if (st->console_escape == 2) {
			if (c >= 0x40 && c <= 0x7e)
				st->console_escape = 0;
			continue;
		}
		if (c == 0x1b) {
			st->console_escape = 1;
			continue;
		}
		if (c == '\n') {
			console_end_line(st);
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		if (st->console_line_len < CONSOLE_LINE_MAX - 1)
			st->console_line[st->console_line_len++] = (char)c;
	}
}

static char *console_tail_text(struct run_state *st)
{
	size_t cap = 1, used = 0;
	char *text;

	if (st->console_line_len)
		console_end_line(st);
	for (size_t i = 0; i < CONSOLE_TAIL_LINES; i++) {
		if (st->tail[i])
			cap += strlen(st->tail[i]) + 1;
	}
	text = xmalloc(cap);
	for (size_t i = 0; i < CONSOLE_TAIL_LINES; i++) {
		const char *line = st->tail[(st->tail_next + i) % CONSOLE_TAIL_LINES];
		if (!line)
			continue;
		size_t n = strlen(line);
		memcpy(text + used, line, n);
		used += n;
		text[used++] = '\n';
	}
	text[used] = '\0';
	return text;
}

/* ---- the result channel: "KTSTR <kind> <length>\n<payload>\n" ---- */

static void add_record(struct run_state *st, const char *kind, size_t kind_len, const char *payload,
		       size_t len)
{
	struct vm_result *result = st->result;
	struct vm_record *rec;

	result->records = xrealloc(result->records, (result->nr_records + 1) * sizeof(*rec));
	rec = &result->records[result->nr_records++];
	rec->kind = xstrndup(kind, kind_len);
	rec->payload = xmalloc(len + 1);
	memcpy(rec->payload, payload, len);
	rec->payload[len] = '\0';
	rec->len = len;

	if (result->nr_records == 1)
		result->boot_seconds = now_seconds() - st->start;
	if (!strcmp(rec->kind, "exit")) {
		char *end;
		long status = strtol(rec->payload, &end, 10);
		result->guest_status = (end != rec->payload && status >= 0 && status <= 255)
					       ? (int)status
					       : VM_EXIT_FAILED;
		st->exit_seen = true;
		st->exit_deadline = now_seconds() + OUTPUT_GRACE_SEC;
	}
	/* The counters as the workload ends; the guest powers off soon after
	 * its exit record, so this may be the last reading QEMU responds to.
	 * NOTE: the tests reach this under KVM only on a host whose KVM boots
	 * the kernel; PVM stops the guest before it sends any record. */
	if (!strcmp(rec->kind, "result") || !strcmp(rec->kind, "exit")) {
		qmp_sample(&st->qmp);
		st->stats_deadline = now_seconds() + STATS_GRACE_SEC;
	}
}

/* Parse every whole record in the buffer.  Garbage before a header is
 * skipped line by line, so a stray write cannot swallow later records. */
static void parse_records(struct run_state *st)
{
	size_t pos = 0;

	while (pos < st->records_len) {
		char *start = st->records + pos;
		size_t avail = st->records_len - pos;
		char *newline = memchr(start, '\n', avail);

		if (!newline)
			break;
		size_t header_len = (size_t)(newline - start);
		char *kind = start + 6;
		char *space = header_len > 6 ? memchr(kind, ' ', header_len - 6) : NULL;
		if (header_len < 8 || memcmp(start, "KTSTR ", 6) != 0 || !space || space == kind) {
			pos += header_len + 1;
			continue;
		}
		char *end;
		unsigned long len = strtoul(space + 1, &end, 10);
		if (end != newline || len > RECORD_MAX) {
			pos += header_len + 1;
			continue;
		}
		if (avail < header_len + 1 + len + 1)
			break;
		add_record(st, kind, (size_t)(space - kind), newline + 1, len);
		pos += header_len + 1 + len + 1;
	}
	memmove(st->records, st->records + pos, st->records_len - pos);
	st->records_len -= pos;
}

static void result_input(struct run_state *st, const char *data, size_t len)
{
	if (st->records_len + len > st->records_cap) {
		st->records_cap = (st->records_len + len) * 2;
		st->records = xrealloc(st->records, st->records_cap);
	}
	memcpy(st->records + st->records_len, data, len);
	st->records_len += len;
	parse_records(st);
}

static void capture_stdout(struct run_state *st, const char *data, size_t len)
{
	if (st->captured_len + len > STDOUT_CAPTURE_MAX)
		len = STDOUT_CAPTURE_MAX - st->captured_len;
	if (st->captured_len + len > st->captured_cap) {
		st->captured_cap = (st->captured_len + len) * 2;
		st->captured = xrealloc(st->captured, st->captured_cap);
	}
	memcpy(st->captured + st->captured_len, data, len);
	st->captured_len += len;
}

/* ---- the guest's stdout and stderr ---- */

static void output_forward(struct run_state *st, enum channel_id id, const char *data, size_t len)
{
	if (id == CH_STDOUT && st->launch->capture_stdout)
		capture_stdout(st, data, len);
	else
		fs_write_all(id == CH_STDOUT ? STDOUT_FILENO : STDERR_FILENO, data, len);
}

/* Forward output up to the end marker.  Bytes after the marker cannot come
 * from the guest's processes, which init ended before writing it. */
static void output_input(struct run_state *st, enum channel_id id, const char *data, size_t len)
{
	struct stream_end *end = &st->stream_ends[id == CH_STDOUT ? 0 : 1];
	const char *marker = st->launch->end_marker;
	size_t marker_len = marker ? strlen(marker) : 0;

	if (end->ended)
		return;
	if (!marker_len || marker_len > sizeof(end->pending)) {
		output_forward(st, id, data, len);
		return;
	}
	while (len > 0) {
		/* Fill pending, then forward what can no longer start the marker. */
		size_t take = sizeof(end->pending) - end->pending_len;
		if (take > len)
			take = len;
		memcpy(end->pending + end->pending_len, data, take);
		end->pending_len += take;
		data += take;
		len -= take;

		char *found = memmem(end->pending, end->pending_len, marker, marker_len);
		if (found) {
			output_forward(st, id, end->pending, (size_t)(found - end->pending));
			end->pending_len = 0;
			end->ended = true;
			return;
		}
		size_t keep = marker_len - 1 < end->pending_len ? marker_len - 1 : end->pending_len;
		while (keep > 0 && memcmp(end->pending + end->pending_len - keep, marker, keep) != 0)
			keep--;
		size_t forward = end->pending_len - keep;
		output_forward(st, id, end->pending, forward);
		memmove(end->pending, end->pending + forward, keep);
		end->pending_len = keep;
	}
}

/* Flush bytes held back as a possible marker start once the stream is over. */
static void output_flush(struct run_state *st)
{
	for (int i = 0; i < 2; i++) {
		struct stream_end *end = &st->stream_ends[i];

		if (!end->ended && end->pending_len)
			output_forward(st, i == 0 ? CH_STDOUT : CH_STDERR, end->pending, end->pending_len);
		end->pending_len = 0;
	}
}

/* The run is over once the guest sent its exit record and, with an end
 * marker, both output streams reached it: nothing is left in flight. */
static bool guest_done(const struct run_state *st)
{
	if (!st->exit_seen)
		return false;
	if (!st->launch->end_marker)
		return false;
	return st->stream_ends[0].ended && st->stream_ends[1].ended;
}

/* Return whether the run may end as far as KVM statistics go: no reading
 * is waiting for its response, or the wait for it is over. */
static bool final_reading_done(const struct run_state *st, double now)
{
	return !st->qmp.stats_pending || st->qmp.fd < 0 || now >= st->stats_deadline;
}

/* ---- the interactive shell's input ---- */

static void shell_key_input(struct run_state *st, const char *data, size_t len)
{
	char out[8192 + 2];
	size_t used = 0;
	int fd = st->channels[CH_SHELL].fd;

	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (st->escape_armed) {
			st->escape_armed = false;
			if (c == 'x' || c == 'X') {
				st->escaped = true;
				return;
			}
			/* Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A and another key send both. */
			if (c != ESCAPE_KEY)
				out[used++] = ESCAPE_KEY;
			out[used++] = c;
		} else if (c == ESCAPE_KEY) {
			st->escape_armed = true;
		} else {
			out[used++] = c;
		}
	}
	if (used && fd >= 0)
		fs_write_all(fd, out, used);
}

/* ---- channels and QEMU ---- */

static void channel_input(struct run_state *st, enum channel_id id, const char *data, size_t len)
{
	switch (id) {
	case CH_CONSOLE:
		console_input(st, data, len);
		break;
	case CH_STDOUT:
	case CH_STDERR:
		output_input(st, id, data, len);
		break;
	case CH_RESULT:
		result_input(st, data, len);
		break;
	case CH_SHELL:
		fs_write_all(STDOUT_FILENO, data, len);
		break;
	case CH_QMP:
		qmp_input(&st->qmp, data, len);
		break;
	case CH_COUNT:
		break;
	}
}

/* Read what is available on a connected channel: 1 after data, 0 when
 * nothing is available now, -1 at end of file (the channel is closed). */
static int channel_read(struct run_state *st, enum channel_id id)
{
	char buf[65536];
	ssize_t n = read(st->channels[id].fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(st->channels[id].fd);
		st->channels[id].fd = -1;
		if (id == CH_QMP)
			qmp_detach(&st->qmp);
		return -1;
	}
	channel_input(st, id, buf, (size_t)n);
	return 1;
}

static void channel_accept(struct run_state *st, enum channel_id id)
{
	struct channel *ch = &st->channels[id];
	int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	close(ch->listen_fd);
	ch->listen_fd = -1;
	ch->fd = fd;
	st->connected = true;
	if (id == CH_QMP)
		qmp_init(&st->qmp, fd);
}

/* Read QEMU's output: 1 after data, 0 when nothing is available now, -1
 * at end of file (the pipe is closed). */
static int qemu_output_read(struct run_state *st)
{
	char buf[4096];
	ssize_t n = read(st->qemu_output_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(st->qemu_output_fd);
		st->qemu_output_fd = -1;
		return -1;
	}
	if (diag_verbose > 0)
		fs_write_all(STDERR_FILENO, buf, (size_t)n);
	/* Keep the last QEMU_OUTPUT_MAX bytes (more than one read): QEMU's
	 * error comes last. */
	if (st->qemu_output_len + (size_t)n > QEMU_OUTPUT_MAX) {
		size_t drop = st->qemu_output_len + (size_t)n - QEMU_OUTPUT_MAX;
		memmove(st->qemu_output, st->qemu_output + drop, st->qemu_output_len - drop);
		st->qemu_output_len -= drop;
	}
	memcpy(st->qemu_output + st->qemu_output_len, buf, (size_t)n);
	st->qemu_output_len += (size_t)n;
	return 1;
}

static void qemu_reap(struct run_state *st, bool block)
{
	int wait_status;
	pid_t pid;

	if (!st->qemu_running)
		return;
	do
		pid = waitpid(st->qemu.pid, &wait_status, block ? 0 : WNOHANG);
	while (pid < 0 && errno == EINTR);
	if (pid != st->qemu.pid)
		return;
	st->qemu_running = false;
	st->qemu_status = spawn_status(wait_status);
	st->qemu_signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
	st->qemu.pid = -1;
	running_qemu = -1;
}

static void qemu_kill(struct run_state *st)
{
	if (st->qemu_group > 0)
		kill(-st->qemu_group, SIGKILL);
	if (st->qemu_running)
		qemu_reap(st, true);
}

static void set_nonblocking(int fd)
{
	int flags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* After QEMU is gone: take in everything still buffered in the sockets and
 * QEMU's output pipe.  Nothing blocks here: a process that still holds a
 * pipe open must not keep ktstr-vm waiting. */
static void drain_channels(struct run_state *st)
{
	for (int id = 0; id < CH_COUNT; id++) {
		struct channel *ch = &st->channels[id];
		struct pollfd pfd = { ch->listen_fd, POLLIN, 0 };

		if (ch->listen_fd >= 0 && poll(&pfd, 1, 0) == 1)
			channel_accept(st, (enum channel_id)id);
		set_nonblocking(ch->fd);
		while (ch->fd >= 0 && channel_read(st, (enum channel_id)id) > 0)
			;
	}
	set_nonblocking(st->qemu_output_fd);
	while (st->qemu_output_fd >= 0 && qemu_output_read(st) > 0)
		;
}

/* Tell the guest the terminal's new size: "winsize ROWS COLS\n" on the
 * result channel, which init applies to the shell's terminal. */
static void send_window_size(struct run_state *st)
{
	unsigned rows, cols;
	char line[64];
	int fd = st->channels[CH_RESULT].fd;

	term_size(STDIN_FILENO, &rows, &cols);
	if (fd < 0 || !rows || !cols)
		return;
	int len = snprintf(line, sizeof(line), "winsize %u %u\n", rows, cols);
	fs_write_all(fd, line, (size_t)len);
}

static void handle_signals(struct run_state *st)
{
	unsigned char sigs[64];
	ssize_t n = read(st->signal_fd, sigs, sizeof(sigs));

	for (ssize_t i = 0; i < n; i++) {
		if (sigs[i] == SIGCHLD)
			qemu_reap(st, false);
		else if (sigs[i] == SIGINT || sigs[i] == SIGTERM || sigs[i] == SIGHUP)
			st->stop_signal = sigs[i];
		else if (sigs[i] == SIGWINCH && st->launch->mode == VM_MODE_SHELL)
			send_window_size(st);
	}
}

static int poll_timeout_ms(struct run_state *st)
{
	double deadline = st->deadline;
	double left;

	if (st->exit_deadline > 0 && st->exit_deadline < deadline)
		deadline = st->exit_deadline;
	if (st->qmp.ready && !st->qmp.stats_off && st->next_sample < deadline)
		deadline = st->next_sample;
	if (st->stats_deadline > 0 && st->stats_deadline < deadline)
		deadline = st->stats_deadline;
	left = deadline - now_seconds();
	if (left <= 0)
		return 0;
	return (int)(left * 1000.0) + 1;
}

/* One pass of the loop: wait for input and handle it. */
static void run_once(struct run_state *st)
{
	struct pollfd pfds[CH_COUNT + 3];
	int owner[CH_COUNT + 3];
	nfds_t count = 0;

	pfds[count] = (struct pollfd){ st->signal_fd, POLLIN, 0 };
	owner[count++] = -1;
	if (st->qemu_output_fd >= 0) {
		pfds[count] = (struct pollfd){ st->qemu_output_fd, POLLIN, 0 };
		owner[count++] = -2;
	}
	if (st->stdin_open) {
		pfds[count] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		owner[count++] = -3;
	}
	for (int id = 0; id < CH_COUNT; id++) {
		struct channel *ch = &st->channels[id];
		int fd = ch->fd >= 0 ? ch->fd : ch->listen_fd;

		if (fd < 0)
			continue;
		pfds[count] = (struct pollfd){ fd, POLLIN, 0 };
		owner[count++] = id;
	}

	int ready = poll(pfds, count, poll_timeout_ms(st));
	if (ready < 0 && errno != EINTR)
		die_errno("poll");
	for (nfds_t i = 0; ready > 0 && i < count; i++) {
		if (!pfds[i].revents)
			continue;
		if (owner[i] == -1) {
			handle_signals(st);
		} else if (owner[i] == -2) {
			qemu_output_read(st);
		} else if (owner[i] == -3) {
			char buf[8192];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0)
				shell_key_input(st, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				st->stdin_open = false;
		} else {
			enum channel_id id = (enum channel_id)owner[i];
			if (st->channels[id].fd >= 0)
				channel_read(st, id);
			else
				channel_accept(st, id);
		}
	}
}

static void classify(struct run_state *st)
{
	struct vm_result *result = st->result;

	if (st->stop_signal || st->escaped)
		result->outcome = VM_OUTCOME_INTERRUPTED;
	else if (st->guest_failed)
		result->outcome = VM_OUTCOME_QEMU_FAILED;
	else if (st->timed_out)
		result->outcome = VM_OUTCOME_TIMEOUT;
	else if (vm_result_record(result, "exit"))
		result->outcome = VM_OUTCOME_EXITED;
	else if (st->panic_line)
		result->outcome = VM_OUTCOME_PANIC;
	else if (st->qemu_status != 0 || !st->connected)
		/* A program that never connected to a socket did not start a VM. */
		result->outcome = VM_OUTCOME_QEMU_FAILED;
	else
		result->outcome = VM_OUTCOME_INIT_FAILED;
}

static int start_qemu(struct run_state *st)
{
	const struct vm_launch *launch = st->launch;
	struct strvec argv = STRVEC_INIT;
	int output[2];

	for (int id = 0; id < CH_COUNT; id++) {
		st->channels[id].listen_fd = -1;
		st->channels[id].fd = -1;
		if (id == CH_SHELL && launch->mode != VM_MODE_SHELL)
			continue;
		st->channels[id].listen_fd = listen_socket(launch->sock_dir, channel_names[id]);
		if (st->channels[id].listen_fd < 0)
			return -1;
	}
	if (pipe2(output, O_CLOEXEC) != 0)
		return err_errno("cannot create a pipe for QEMU's output");
	vm_qemu_argv(launch, &argv);
	st->qemu = (struct spawn)SPAWN_INIT;
	st->qemu.argv = (const char *const *)argv.items;
	st->qemu.stdin_fd = SPAWN_DEVNULL;
	st->qemu.stdout_fd = output[1];
	st->qemu.stderr_fd = output[1];
	/* Its own session: a Ctrl-C on the terminal reaches ktstr-vm only, which
	 * then stops QEMU itself. */
	st->qemu.new_session = true;
	/* A ktstr-vm killed with SIGKILL must not leave a guest running. */
	st->qemu.die_with_parent = true;
	st->start = now_seconds();
	int started = spawn_start(&st->qemu);
	close(output[1]);
	strvec_release(&argv);
	if (started != 0) {
		close(output[0]);
		return -1;
	}
	st->qemu_running = true;
	st->qemu_group = st->qemu.pid;
	running_qemu = st->qemu.pid;
	st->qemu_output_fd = output[0];
	st->deadline = st->start + launch->timeout_sec;
	return 0;
}

char *vm_end_marker_new(void)
{
	unsigned char bytes[16];
	char *marker = xmalloc(sizeof("KTSTR-END-") + 2 * sizeof(bytes));
	size_t got = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("cannot read random bytes");
		got += (size_t)n;
	}
	char *p = marker + sprintf(marker, "KTSTR-END-");
	for (size_t i = 0; i < sizeof(bytes); i++)
		p += sprintf(p, "%02x", bytes[i]);
	return marker;
}

int vm_run(const struct vm_launch *launch, struct vm_result *result, struct vm_run_extra *extra)
{
	struct run_state st = { .launch = launch, .result = result, .qemu_output_fd = -1 };
	int ret = 0;

	qmp_init(&st.qmp, -1);
	result->guest_status = -1;
	st.signal_fd = vm_signals_install();
	st.stdin_open = launch->mode == VM_MODE_SHELL;
	if (launch->console_log) {
		st.console_log = fopen(launch->console_log, "we");
		if (!st.console_log)
			return err_errno("cannot create the console log '%s'", launch->console_log);
	}
	static bool registered;
	if (!registered) {
		/* A die() in the loop must not leave QEMU behind. */
		atexit(vm_qemu_kill_now);
		registered = true;
	}
	if (start_qemu(&st) != 0) {
		ret = -1;
		goto out_close;
	}

	while (st.qemu_running) {
		st.stop_signal = st.stop_signal ? st.stop_signal : vm_signals_pending();
		if (st.stop_signal || st.escaped)
			break;
		double now = now_seconds();
		if (now >= st.deadline) {
			st.timed_out = true;
			break;
		}
		if (!st.guest_failed && qmp_guest_failed(&st.qmp)) {
			/* QEMU keeps the stopped guest around; read the counters
			 * once more, then end the run. */
			st.guest_failed = true;
			st.stats_deadline = now + STATS_GRACE_SEC;
			qmp_sample(&st.qmp);
		}
		if (final_reading_done(&st, now) &&
		    (st.guest_failed || guest_done(&st) || (st.exit_deadline > 0 && now >= st.exit_deadline)))
			break;
		if (st.qmp.ready && now >= st.next_sample) {
			qmp_sample(&st.qmp);
			st.next_sample = now + STATS_INTERVAL_SEC;
		}
		run_once(&st);
	}
	qemu_kill(&st);
	result->run_seconds = now_seconds() - st.start;
	drain_channels(&st);
	output_flush(&st);
	if (st.records_len)
		parse_records(&st);
	classify(&st);
	result->qemu_status = st.qemu_status;
	result->qemu_signal = st.qemu_signal;
	if (st.panic_line)
		result->panic_line = xstrdup(st.panic_line);
	result->console_tail = console_tail_text(&st);
	if (st.guest_failed)
		result->qemu_run_state = xstrdup(st.qmp.run_state);
	if (jv_get_kind(st.qmp.kvm_stats) == JV_KIND_OBJECT) {
		jv_free(result->kvm_stats);
		result->kvm_stats = jv_copy(st.qmp.kvm_stats);
	}
	if (result->outcome == VM_OUTCOME_QEMU_FAILED && st.qemu_output_len) {
		/* QEMU's own words explain a failed start better than the console. */
		char *text = xasprintf("%.*s%s", (int)st.qemu_output_len, st.qemu_output,
				       result->console_tail);
		free(result->console_tail);
		result->console_tail = text;
	}
	if (result->outcome == VM_OUTCOME_PANIC && st.panic_line &&
	    !strstr(result->console_tail, st.panic_line)) {
		/* A long call trace can push the panic message out of the last
		 * lines; the tail still has to say why the guest died. */
		char *text = xasprintf("%s\n[...]\n%s", st.panic_line, result->console_tail);
		free(result->console_tail);
		result->console_tail = text;
	}
	if (st.stop_signal)
		result->guest_status = -1;

out_close:
	for (int id = 0; id < CH_COUNT; id++) {
		if (st.channels[id].listen_fd >= 0)
			close(st.channels[id].listen_fd);
		if (st.channels[id].fd >= 0)
			close(st.channels[id].fd);
	}
	if (st.qemu_output_fd >= 0)
		close(st.qemu_output_fd);
	if (st.console_log && fclose(st.console_log) != 0)
		warn_errno("cannot write the console log '%s'", launch->console_log);
	for (size_t i = 0; i < CONSOLE_TAIL_LINES; i++)
		free(st.tail[i]);
	free(st.records);
	qmp_release(&st.qmp);
	extra->guest_stdout = st.captured;
	extra->guest_stdout_len = st.captured_len;
	extra->stop_signal = st.stop_signal;
	extra->panic_line = st.panic_line;
	extra->escaped = st.escaped;
	return ret;
}
