#include "spawn.h"

#include "diag.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void spawn_trace(const char *const *argv)
{
	const char *trace = getenv("KTSTR_TRACE");

	if (!trace || !*trace || !strcmp(trace, "0"))
		return;
	fprintf(stderr, "%s: trace: exec:", diag_progname);
	for (size_t i = 0; argv[i]; i++)
		fprintf(stderr, " '%s'", argv[i]);
	fputc('\n', stderr);
}

int spawn_status(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return KTSTR_EXIT_TOOL;
}

/* In the child after fork: move fd to target unless it is -1 (inherit). */
static void child_redirect(int fd, int target)
{
	if (fd == SPAWN_DEVNULL) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			_exit(KTSTR_EXIT_NOEXEC);
		if (fd != target) {
			if (dup2(fd, target) < 0)
				_exit(KTSTR_EXIT_NOEXEC);
			close(fd);
		}
		return;
	}
	if (fd < 0 || fd == target)
		return;
	if (dup2(fd, target) < 0)
		_exit(KTSTR_EXIT_NOEXEC);
}

static void exec_or_exit(const char *const *argv)
{
	execvp(argv[0], (char *const *)argv);
	int status = errno == ENOENT ? KTSTR_EXIT_NOTFOUND : KTSTR_EXIT_NOEXEC;
	fprintf(stderr, "%s: cannot run '%s': %s\n", diag_progname, argv[0], strerror(errno));
	_exit(status);
}

int spawn_start(struct spawn *child)
{
	spawn_trace(child->argv);
	fflush(NULL);

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return err_errno("fork for '%s'", child->argv[0]);
	if (pid == 0) {
		/* The parent may have died between fork() and prctl(). */
		if (child->die_with_parent &&
		    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
			_exit(KTSTR_EXIT_NOEXEC);
		/* Undo a SIGPIPE or SIGCHLD disposition the parent may have set. */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (child->new_session)
			setsid();
		child_redirect(child->stdin_fd, STDIN_FILENO);
		child_redirect(child->stdout_fd, STDOUT_FILENO);
		child_redirect(child->stderr_fd, STDERR_FILENO);
		if (child->cwd && chdir(child->cwd) != 0) {
			fprintf(stderr, "%s: cannot enter '%s': %s\n", diag_progname, child->cwd,
				strerror(errno));
			_exit(KTSTR_EXIT_NOEXEC);
		}
		for (size_t i = 0; child->env && child->env[i]; i++)
			putenv((char *)child->env[i]);
		exec_or_exit(child->argv);
	}
	child->pid = pid;
	return 0;
}

int spawn_wait(struct spawn *child)
{
	int wait_status;

	while (waitpid(child->pid, &wait_status, 0) < 0) {
		if (errno != EINTR)
			return err_errno("wait for '%s'", child->argv[0]);
	}
	child->pid = -1;
	return spawn_status(wait_status);
}

int spawn_run(struct spawn *child)
{
	if (spawn_start(child) != 0)
		return -1;
	return spawn_wait(child);
}

int spawn_capture(const char *const *argv, char **out, size_t *len)
{
	struct spawn child = SPAWN_INIT;

	child.argv = argv;
	return spawn_capture_child(&child, out, len);
}

int spawn_capture_child(struct spawn *child, char **out, size_t *len)
{
	int fds[2];
	size_t cap = 4096, used = 0;
	char *buf;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return err_errno("create a pipe for '%s'", child->argv[0]);
	child->stdout_fd = fds[1];
	if (spawn_start(child) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);

	buf = xmalloc(cap);
	for (;;) {
		if (used + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fds[0], buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fds[0]);
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return spawn_wait(child);
}

void spawn_exec(const char *const *argv)
{
	spawn_trace(argv);
	fflush(NULL);
	execvp(argv[0], (char *const *)argv);
	int status = errno == ENOENT ? KTSTR_EXIT_NOTFOUND : KTSTR_EXIT_NOEXEC;
	die_status(status, "cannot run '%s': %s", argv[0], strerror(errno));
}

int spawn_pipeline(const char *const *const *stages, size_t count, size_t *failed_stage)
{
	struct spawn *children = xcalloc(count, sizeof(*children));
	int *status = xcalloc(count, sizeof(*status));
	int prev_read = -1, result = 0;
	size_t started = 0;

	for (size_t i = 0; i < count; i++) {
		int fds[2] = { -1, -1 };

		if (i + 1 < count && pipe2(fds, O_CLOEXEC) != 0) {
			err_errno("create a pipe for '%s'", stages[i][0]);
			status[i] = KTSTR_EXIT_TOOL;
			break;
		}
		children[i] = (struct spawn)SPAWN_INIT;
		children[i].argv = stages[i];
		children[i].stdin_fd = prev_read;
		children[i].stdout_fd = fds[1];
		int started_ok = spawn_start(&children[i]);
		if (prev_read >= 0)
			close(prev_read);
		if (fds[1] >= 0)
			close(fds[1]);
		prev_read = fds[0];
		if (started_ok != 0) {
			status[i] = KTSTR_EXIT_TOOL;
			break;
		}
		started++;
	}
	if (prev_read >= 0)
		close(prev_read);
	for (size_t i = 0; i < started; i++) {
		status[i] = spawn_wait(&children[i]);
		if (status[i] < 0)
			status[i] = KTSTR_EXIT_TOOL;
	}
	for (size_t i = 0; i < count; i++) {
		if (status[i] != 0 || i >= started) {
			result = status[i] ? status[i] : KTSTR_EXIT_TOOL;
			if (failed_stage)
				*failed_stage = i;
			break;
		}
	}
	free(children);
	free(status);
	return result;
}
