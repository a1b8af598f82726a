/* The steps shared by `test` and `coverage`: read the subcommand's own
 * options, check the project and the runner before any kernel is built,
 * resolve --kernel, export it and exec the runner under cargo.
 */
#ifndef KTSTR_TEST_RUNNER_H
#define KTSTR_TEST_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>

/* Exit status when the project has no tests to run: cargo-nextest's own. */
#define TEST_RUNNER_EXIT_NO_TESTS 4

/* One resolved --kernel. */
struct test_kernel {
	char *label;           /* its name in KTSTR_KERNEL_LIST, such as 6.14.2 */
	char *dir;             /* cache entry, source tree or image file */
	char *image;           /* the boot image */
};

struct test_run {
	const char *command;   /* "test" or "coverage", for messages */
	const char **kernel_ids; /* every non-blank --kernel, in order */
	size_t nr_kernel_ids;
	char **args;           /* passed to the runner unchanged */
	int nr_args;
	char *cargo;           /* the cargo program that runs the runner */
	struct test_kernel *kernels; /* resolved, duplicates dropped */
	size_t nr_kernels;
	bool kernel_given;     /* some --kernel was given, even a blank one */
};
#define TEST_RUN_INIT(name) { name, NULL, 0, NULL, 0, NULL, NULL, 0, false }

/* Read the options before the pass-through arguments; --help prints
 * print_usage(stdout) and exits 0, a bad option exits 125. */
void test_run_parse(struct test_run *run, int argc, char **argv, void (*print_usage)(FILE *));
/* Find cargo: $CARGO (cargo sets it for its plugins), then PATH.  Exits 127
 * when there is none. */
void test_run_find_cargo(struct test_run *run);
/* Check that the working directory (or --manifest-path) is a cargo project
 * and that some target of its workspace builds tests.  Exits 125 outside a
 * project and TEST_RUNNER_EXIT_NO_TESTS without tests. */
void test_run_check_project(const struct test_run *run);
/* True when cargo would find the subcommand `cargo NAME` as an executable
 * cargo-NAME in $CARGO_HOME/bin (default ~/.cargo/bin) or on PATH. */
bool test_run_have_subcommand(const char *name);
/* Resolve every --kernel (a source tree is configured and built first)
 * into run->kernels and label them.  A kernel named twice is tested once.
 * Exits 125 when one cannot be resolved, or when two kernels would get the
 * same label. */
void test_run_resolve_kernel(struct test_run *run);
/* Compute the label of a kernel for KTSTR_KERNEL_LIST: a version as it is,
 * a cache key up to "-tarball-", "-git-" or "-image-" (local_<hash> for local
 * builds), a source tree or image as path_<name>_<last 6 hex digits of the
 * CRC-32 of its path>, with _dirty for a source tree built outside the cache.
 * malloc'd. */
char *test_kernel_label(const char *id, const char *dir, bool dirty_tree);
/* Compute the name a label gets inside the tests, for collision checks:
 * "kernel_" and the label in lowercase, every run of other characters one
 * "_". */
char *test_kernel_label_sanitized(const char *label);
/* Export the kernels, print the status lines and become
 * `cargo RUNNER... ARGS...`.  RUNNER is NULL-terminated. */
noreturn void test_run_exec(const struct test_run *run, const char *const *runner,
			    const char *activity);

#endif
