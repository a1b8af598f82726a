/* ktstr-guest: PID 1 of every ktstr VM.
 *
 * It mounts the kernel file systems, installs the busybox applets, reads
 * /ktstr/config and runs the requested mode:
 *   exec      /bin/sh -c CMD with stdout and stderr on their virtio ports
 *   shell     an interactive busybox sh on the virtio console (hvc0)
 *   scenario  scenario_run() from scenario.c
 * It then sends an "exit" record with the status on the result channel and
 * powers the guest off.  PID 1 must never return: the kernel panics when it
 * does, so every path ends in power_off().
 */
#include "guest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define BUSYBOX "/bin/busybox"
#define SHELL_TTY "/dev/hvc0"
#define DEFAULT_PATH "/bin:/sbin:/usr/bin:/usr/sbin"

struct mount_point {
	const char *source;
	const char *target;
	const char *type;
	unsigned long flags;
	const char *data;
	bool required;
};

static const struct mount_point mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", true },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666", false },
	{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", false },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", true },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", false },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
	{ "debugfs", "/sys/kernel/debug", "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false },
	{ "tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false },
	{ "bpf", "/sys/fs/bpf", "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700", false },
};

/* init's own messages go to the kernel console, which the host logs. */
static int console_fd = STDERR_FILENO;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(text) - 2)
		n = sizeof(text) - 2;
	text[n++] = '\n';
	dprintf(console_fd, "ktstr-guest: %.*s", n, text);
}

static void __attribute__((noreturn)) power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* Only reached when the power-off failed: the host's timeout ends the run. */
	say("power off failed: %s", strerror(errno));
	for (;;)
		pause();
}

/* Report an init failure on the console and, when it is open, on the result
 * channel, then power off.  step names what failed ("mount /proc"); errnum,
 * when not 0, adds its cause. */
static void __attribute__((noreturn)) init_failed(const char *step, int errnum)
{
	char text[512];

	if (errnum)
		snprintf(text, sizeof(text), "%s: %s", step, strerror(errnum));
	else
		snprintf(text, sizeof(text), "%s", step);
	say("init failed: %s", text);
	if (guest_channel_fd() >= 0)
		guest_send("init-error", text, strlen(text));
	power_off();
}

static bool dir_is_empty(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *ent;
	bool empty = true;

	if (!dir)
		return true;
	while (empty && (ent = readdir(dir)))
		empty = !strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..");
	closedir(dir);
	return empty;
}

static void mount_filesystems(void)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mount_point *m = &mounts[i];

		mkdir(m->target, 0755);
		/* Files packed under /tmp or /run (a library found there on the
		 * host) must stay visible, and the rootfs is writable anyway. */
		if (!strcmp(m->type, "tmpfs") && !dir_is_empty(m->target))
			continue;
		if (mount(m->source, m->target, m->type, m->flags, m->data) == 0 || errno == EBUSY)
			continue;
		/* A kernel without the file system (no tracefs, no bpffs) is not an error. */
		if (!m->required)
			continue;
		char step[128];
		snprintf(step, sizeof(step), "mount %s on %s", m->type, m->target);
		init_failed(step, errno);
	}
}

/* Give a child the default signal actions that init changed: an ignored
 * signal stays ignored across exec, and a command must die of SIGPIPE. */
static void reset_child_signals(void)
{
	signal(SIGPIPE, SIG_DFL);
}

/* Run argv and wait for it, reaping any other child that exits meanwhile;
 * returns its wait status, or -1 when it could not be started. */
static int run_and_wait(const char *const *argv)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		reset_child_signals();
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		pid_t done = waitpid(-1, &status, 0);
		if (done == pid)
			return status;
		if (done < 0 && errno != EINTR)
			return -1;
	}
}

static void install_busybox(void)
{
	static const char *const argv[] = { BUSYBOX, "--install", "-s", "/bin", NULL };
	int status = run_and_wait(argv);

	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		init_failed("busybox --install -s /bin", status < 0 ? errno : 0);
}

/* The shell-style status of a child: its exit code, or 128+N for signal N. */
static int shell_status(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return 125;
}

/* Set the environment of every mode's child. */
static void setup_environment(const struct guest_config *config)
{
	const char *path = guest_config_get(config, "path");
	const char *term = guest_config_get(config, "term");
	const char *topology = guest_config_get(config, "topology");
	const char **extra;
	size_t count;

	setenv("PATH", path && *path ? path : DEFAULT_PATH, 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", term && *term ? term : "linux", 1);
	setenv("KTSTR_GUEST", "1", 1);
	if (topology)
		setenv("KTSTR_TOPOLOGY", topology, 1);
	count = guest_config_list(config, "env", &extra);
	for (size_t i = 0; i < count; i++) {
		const char *eq = strchr(extra[i], '=');
		if (!eq || eq == extra[i])
			continue;
		char *name = strndup(extra[i], (size_t)(eq - extra[i]));
		if (name)
			setenv(name, eq + 1, 1);
		free(name);
	}
	free(extra);
	mkdir("/root", 0700);
	if (chdir("/root") != 0)
		say("cannot enter /root: %s", strerror(errno));
}

/* Wait for pid while reaping orphans, as PID 1 must.  Then kill whatever the
 * child left behind, so that no process keeps the output ports open. */
static int wait_for_main_child(pid_t pid)
{
	int status = 0;

	for (;;) {
		int wait_status;
		pid_t done = waitpid(-1, &wait_status, 0);

		if (done == pid) {
			status = shell_status(wait_status);
			break;
		}
		if (done < 0 && errno != EINTR) {
			status = 125;
			break;
		}
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return status;
}

static int run_exec(const struct guest_config *config, int out, int err)
{
	const char *command = guest_config_get(config, "exec");

	if (!command)
		init_failed("no exec= in " GUEST_CONFIG_PATH, 0);

	pid_t pid = fork();
	if (pid < 0)
		init_failed("fork for exec", errno);
	if (pid == 0) {
		reset_child_signals();
		int null = open("/dev/null", O_RDONLY);

		setsid();
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
		    dup2(err, STDERR_FILENO) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		dprintf(STDERR_FILENO, "ktstr-guest: cannot run /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	return wait_for_main_child(pid);
}

static void set_window_size(int fd, const struct guest_config *config)
{
	const char *rows = guest_config_get(config, "rows");
	const char *cols = guest_config_get(config, "cols");
	struct winsize ws = { 0 };

	if (!rows || !cols)
		return;
	ws.ws_row = (unsigned short)atoi(rows);
	ws.ws_col = (unsigned short)atoi(cols);
	if (ws.ws_row && ws.ws_col)
		ioctl(fd, TIOCSWINSZ, &ws);
}

/* Apply the host's messages on the result channel: "winsize ROWS COLS\n"
 * when the host terminal was resized.  The kernel then sends SIGWINCH to
 * the shell's foreground process group. */
static void host_messages(int fd, int tty, char *buf, size_t *used, size_t cap)
{
	ssize_t n = read(fd, buf + *used, cap - *used - 1);
	char *line, *newline;

	if (n <= 0)
		return;
	*used += (size_t)n;
	buf[*used] = '\0';
	line = buf;
	while ((newline = strchr(line, '\n'))) {
		unsigned rows, cols;

		*newline = '\0';
		if (sscanf(line, "winsize %u %u", &rows, &cols) == 2 && rows && cols) {
			struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
			ioctl(tty, TIOCSWINSZ, &ws);
		}
		line = newline + 1;
	}
	*used = strlen(line);
	memmove(buf, line, *used);
	/* A line longer than the buffer is garbage: drop it. */
	if (*used >= cap - 1)
		*used = 0;
}

/* Wait for the shell like wait_for_main_child(), and meanwhile apply the
 * host's window size changes to tty. */
static int wait_for_shell(pid_t pid, int tty)
{
	int result_fd = guest_channel_fd();
	sigset_t mask;
	char buf[256];
	size_t used = 0;
	int status = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0) {
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
		return wait_for_main_child(pid);
	}
	while (status < 0) {
		int wait_status;
		pid_t done;

		/* Reap first: a SIGCHLD from before the mask went up is not queued. */
		while ((done = waitpid(-1, &wait_status, WNOHANG)) > 0) {
			if (done == pid)
				status = shell_status(wait_status);
		}
		if (status >= 0)
			break;
		struct pollfd pfds[2] = { { sig_fd, POLLIN, 0 }, { result_fd, POLLIN, 0 } };
		if (poll(pfds, result_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (pfds[0].revents) {
			struct signalfd_siginfo info;
			while (read(sig_fd, &info, sizeof(info)) > 0)
				;
		}
		if (result_fd >= 0 && pfds[1].revents)
			host_messages(result_fd, tty, buf, &used, sizeof(buf));
	}
	close(sig_fd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return status < 0 ? 125 : status;
}

static int run_shell(const struct guest_config *config)
{
	int tty = open(SHELL_TTY, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (tty < 0)
		init_failed("open " SHELL_TTY, errno);
	set_window_size(tty, config);

	pid_t pid = fork();
	if (pid < 0)
		init_failed("fork for the shell", errno);
	if (pid == 0) {
		reset_child_signals();
		setsid();
		if (ioctl(tty, TIOCSCTTY, 0) < 0 || dup2(tty, STDIN_FILENO) < 0 ||
		    dup2(tty, STDOUT_FILENO) < 0 || dup2(tty, STDERR_FILENO) < 0)
			_exit(126);
		const char *banner = guest_config_get(config, "banner");
		if (banner)
			dprintf(STDOUT_FILENO, "%s\n", banner);
		execl("/bin/sh", "-sh", (char *)NULL);
		dprintf(STDERR_FILENO, "ktstr-guest: cannot run /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	int status = wait_for_shell(pid, tty);
	/* Let the shell's last output leave the guest before the exit record. */
	tcdrain(tty);
	close(tty);
	return status;
}

static int run_scenario(const struct guest_config *config, int out, int err)
{
	/* The scenario's own output goes where an exec command's would; init's
	 * messages stay on the console through console_fd. */
	fflush(NULL);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	int status = scenario_run(config);
	fflush(NULL);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return status;
}

/* Write the end marker on an output port.  The host stops reading the
 * stream there, because no byte of it can still be in flight. */
static void write_end_marker(int fd, const char *marker)
{
	size_t len = strlen(marker), done = 0;

	while (done < len) {
		ssize_t n = write(fd, marker + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			say("cannot write the end of output: %s", strerror(errno));
			return;
		}
		done += (size_t)n;
	}
}

/* Rewrite the config file without the end marker, so that a command that
 * prints the file cannot end its own output early. */
static void hide_end_marker(const struct guest_config *config)
{
	FILE *file = fopen(GUEST_CONFIG_PATH, "we");

	if (!file)
		return;
	for (size_t i = 0; i < config->len; i++) {
		if (!strcmp(config->keys[i], "end_marker"))
			continue;
		fprintf(file, "%s=", config->keys[i]);
		for (const char *p = config->values[i]; *p; p++) {
			if (*p == '\n')
				fputs("\\n", file);
			else if (*p == '\\')
				fputs("\\\\", file);
			else
				fputc(*p, file);
		}
		fputc('\n', file);
	}
	fclose(file);
}

static void send_ready(void)
{
	struct utsname uts;
	const char *release = uname(&uts) == 0 ? uts.release : "";

	guest_send("ready", release, strlen(release));
}

int main(int argc, char **argv)
{
	struct guest_config config;
	char status_text[16];
	int status;

	if (getpid() != 1) {
		fprintf(stderr, "ktstr-guest: must run as PID 1 in a ktstr VM\n");
		return 2;
	}
	console_fd = dup(STDERR_FILENO);
	if (console_fd < 0)
		console_fd = STDERR_FILENO;
	/* A signal meant for a child must not reach PID 1's default action. */
	signal(SIGPIPE, SIG_IGN);

	mount_filesystems();
	install_busybox();
	if (guest_channel_open() != 0)
		init_failed("open port " GUEST_PORT_RESULT, errno);
	send_ready();
	if (guest_config_load(GUEST_CONFIG_PATH, &config) != 0)
		init_failed("read " GUEST_CONFIG_PATH, errno);
	setup_environment(&config);
	const char *end_marker = guest_config_get(&config, "end_marker");
	if (end_marker)
		hide_end_marker(&config);

	int out = guest_port_open(GUEST_PORT_STDOUT, O_WRONLY);
	if (out < 0)
		init_failed("open port " GUEST_PORT_STDOUT, errno);
	int err = guest_port_open(GUEST_PORT_STDERR, O_WRONLY);
	if (err < 0)
		init_failed("open port " GUEST_PORT_STDERR, errno);

	const char *mode = guest_config_get(&config, "mode");
	if (mode && !strcmp(mode, "exec"))
		status = run_exec(&config, out, err);
	else if (mode && !strcmp(mode, "shell"))
		status = run_shell(&config);
	else if (mode && !strcmp(mode, "scenario"))
		status = run_scenario(&config, out, err);
	else
		init_failed(mode ? "unknown mode= in " GUEST_CONFIG_PATH : "no mode= in " GUEST_CONFIG_PATH, 0);

	if (end_marker) {
		write_end_marker(out, end_marker);
		write_end_marker(err, end_marker);
	}

	snprintf(status_text, sizeof(status_text), "%d", status);
	if (guest_send("exit", status_text, strlen(status_text)) != 0)
		say("cannot send the exit status: %s", strerror(errno));
	power_off();
}
