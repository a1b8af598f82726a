/* Child processes: one place for fork/exec, waiting and status mapping.
 * Nothing here goes through a shell.  KTSTR_TRACE=1 prints each argv on stderr.
 */
#ifndef KTSTR_SPAWN_H
#define KTSTR_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <sys/types.h>

struct spawn {
	const char *const *argv;  /* NULL-terminated; argv[0] is looked up on PATH */
	const char *const *env;   /* "NAME=value" entries added to the environment, or NULL */
	const char *cwd;          /* working directory, or NULL */
	int stdin_fd;             /* -1 inherits, SPAWN_DEVNULL is /dev/null; the child gets a dup */
	int stdout_fd;
	int stderr_fd;
	bool new_session;         /* setsid() in the child */
	pid_t pid;                /* set by spawn_start */
	bool die_with_parent;     /* SIGKILL the child when this process dies (PR_SET_PDEATHSIG) */
};
#define SPAWN_INIT { NULL, NULL, NULL, -1, -1, -1, false, -1, false }
/* A stdin_fd, stdout_fd or stderr_fd value: the child opens /dev/null. */
#define SPAWN_DEVNULL (-2)

/* Start the child.  Returns 0, or -1 after printing why it could not start. */
int spawn_start(struct spawn *child);
/* Wait for it and return its shell-style status: the exit code, or 128+N for
 * death by signal N.  An exec failure in the child shows as 126 or 127. */
int spawn_wait(struct spawn *child);
/* spawn_start then spawn_wait; -1 if it could not start. */
int spawn_run(struct spawn *child);

/* Run argv with stdout captured into a malloc'd NUL-terminated buffer.
 * Returns the child's status as spawn_wait does, or -1. */
int spawn_capture(const char *const *argv, char **out, size_t *len);
/* spawn_capture for a prepared child: its env, cwd, stdin and stderr are used
 * as set (e.g. stderr_fd on /dev/null for a quiet probe); stdout is captured. */
int spawn_capture_child(struct spawn *child, char **out, size_t *len);

/* Map a waitpid() status to the shell-style number. */
int spawn_status(int wait_status);

/* Replace this process with argv; on failure print why and exit 126 or 127. */
noreturn void spawn_exec(const char *const *argv);

/* Run stages connected by pipes, the last writing to this process's stdout.
 * Returns 0 when every stage exited 0; otherwise the status of the first stage
 * (in pipeline order) that failed, and its index in *failed_stage. */
int spawn_pipeline(const char *const *const *stages, size_t count, size_t *failed_stage);

/* Print argv on stderr when KTSTR_TRACE is set. */
void spawn_trace(const char *const *argv);

#endif
