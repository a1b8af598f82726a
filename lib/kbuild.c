#include "kbuild.h"

#include "diag.h"
#include "fsutil.h"
#include "progress.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned kbuild_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (unsigned)online : 1;
}

bool kbuild_is_kernel_tree(const char *dir)
{
	char *makefile = fs_path_join(dir, "Makefile");
	char *kconfig = fs_path_join(dir, "Kconfig");
	bool found = fs_is_file(makefile) && fs_is_file(kconfig);

	free(makefile);
	free(kconfig);
	return found;
}

/* Copy make's output to the log, and its last line to the progress bar. */
static int relay_output(const struct kbuild *build, int from, FILE *log)
{
	char chunk[16384];
	char line[256];
	size_t line_len = 0;
	int ret = 0;

	for (;;) {
		ssize_t n = read(from, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (ret == 0 && fwrite(chunk, 1, (size_t)n, log) != (size_t)n)
			ret = err_errno("write the build log '%s'", build->log_path);
		if (diag_verbose > 0) {
			if (build->bar)
				progress_clear(build->bar);
			fwrite(chunk, 1, (size_t)n, stderr);
		}
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				if (line_len + 1 < sizeof(line))
					line[line_len++] = chunk[i];
				continue;
			}
			line[line_len] = '\0';
			if (build->bar && line_len && diag_verbose <= 0)
				progress_text(build->bar, line + strspn(line, " "));
			line_len = 0;
		}
	}
	return ret;
}

int kbuild_make(const struct kbuild *build, const char *target)
{
	struct strvec argv = STRVEC_INIT;
	struct spawn child = SPAWN_INIT;
	int fds[2];
	int status = -1;
	FILE *log = fopen(build->log_path, "ae");

	if (!log)
		return err_errno("open the build log '%s'", build->log_path);
	strvec_push(&argv, "make");
	strvec_push(&argv, "--no-print-directory");
	strvec_pushf(&argv, "-C%s", build->source_dir);
	if (build->build_dir)
		strvec_pushf(&argv, "O=%s", build->build_dir);
	if (build->jobs)
		strvec_pushf(&argv, "-j%u", build->jobs);
	for (size_t i = 0; build->vars && build->vars[i]; i++)
		strvec_push(&argv, build->vars[i]);
	if (target)
		strvec_push(&argv, target);

	fprintf(log, "$");
	for (size_t i = 0; i < argv.len; i++)
		fprintf(log, " %s", argv.items[i]);
	fprintf(log, "\n");
	fflush(log);

	if (pipe2(fds, O_CLOEXEC) != 0) {
		err_errno("create a pipe for make");
		goto close_log;
	}
	child.argv = (const char *const *)argv.items;
	child.stdout_fd = fds[1];
	child.stderr_fd = fds[1];
	child.stdin_fd = SPAWN_DEVNULL;
	if (spawn_start(&child) != 0) {
		close(fds[0]);
		close(fds[1]);
		goto close_log;
	}
	close(fds[1]);
	int relayed = relay_output(build, fds[0], log);
	close(fds[0]);
	status = spawn_wait(&child);
	if (build->bar)
		progress_clear(build->bar);
	if (relayed != 0)
		status = -1;
	else if (status > 0)
		fprintf(log, "make %s: exit status %d\n", target ? target : "", status);

close_log:
	if (fclose(log) != 0 && status == 0)
		status = err_errno("write the build log '%s'", build->log_path);
	strvec_release(&argv);
	return status;
}

static char *trimmed_copy(const char *line, size_t len)
{
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	return xstrndup(line, len);
}

char *kbuild_log_cause(const char *log_path)
{
	size_t len;
	char *text = fs_read_file(log_path, &len);
	char *compiler = NULL, *make_line = NULL, *last = NULL;

	if (!text)
		return NULL;
	for (char *line = text; *line; ) {
		char *end = strchr(line, '\n');
		size_t line_len = end ? (size_t)(end - line) : strlen(line);
		char saved = line[line_len];

		line[line_len] = '\0';
		/* Lines the log itself adds: the command and the exit status. */
		bool ours = line[0] == '$' || !strncmp(line, "make ", 5);
		if (!compiler && (strstr(line, "error:") || strstr(line, "Error:")))
			compiler = trimmed_copy(line, line_len);
		else if (!make_line && strstr(line, "***"))
			make_line = trimmed_copy(line, line_len);
		if (!ours && line_len) {
			free(last);
			last = trimmed_copy(line, line_len);
		}
		line[line_len] = saved;
		line = end ? end + 1 : line + line_len;
	}
	free(text);
	if (compiler) {
		free(make_line);
		free(last);
		return compiler;
	}
	if (make_line) {
		free(last);
		return make_line;
	}
	return last;
}

char *kbuild_kernelversion(const char *source_dir)
{
	struct spawn child = SPAWN_INIT;
	char *dir_arg = xasprintf("-C%s", source_dir);
	const char *argv[] = { "make", "-s", "--no-print-directory", dir_arg, "kernelversion", NULL };
	char *out = NULL;

	child.argv = argv;
	child.stdin_fd = SPAWN_DEVNULL;
	child.stderr_fd = SPAWN_DEVNULL;
	int status = spawn_capture_child(&child, &out, NULL);
	free(dir_arg);
	if (status != 0 || !out) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}
