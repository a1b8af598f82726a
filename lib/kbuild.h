/* Running kbuild: `make -C <tree> [O=<dir>] [-jN] TARGET` with its output
 * kept in a log file, shown as one redrawn line on a terminal, and echoed
 * in full with -v. */
#ifndef KTSTR_KBUILD_H
#define KTSTR_KBUILD_H

#include <stdbool.h>
#include <stddef.h>

struct progress;

struct kbuild {
	const char *source_dir;
	const char *build_dir;    /* kbuild's O=, or NULL to build in the tree */
	const char *log_path;     /* make's output is appended here */
	unsigned jobs;            /* -jN, or 0 for none */
	const char *const *vars;  /* extra VAR=value arguments, or NULL */
	struct progress *bar;     /* optional: shows make's latest line */
};

/* Run make with one target, or the default one when target is NULL.  Returns make's status (0 on success), or -1
 * after a message when make could not be started or the log not written. */
int kbuild_make(const struct kbuild *build, const char *target);

/* The first line of a build log that explains a failure: a compiler or
 * linker "error:", else make's first "***" line, else the last line.
 * Malloc'd; NULL when the log is empty or unreadable. */
char *kbuild_log_cause(const char *log_path);

/* The tree's `make -s kernelversion` (e.g. "6.14.2"), malloc'd; NULL when
 * make fails or prints nothing. */
char *kbuild_kernelversion(const char *source_dir);

/* CPUs this process may run on, at least 1. */
unsigned kbuild_cpus(void);

/* The tree has a top-level Makefile and Kconfig, as every kernel tree does. */
bool kbuild_is_kernel_tree(const char *dir);

#endif
