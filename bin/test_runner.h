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

struct test_run {
	const char *command;   /* "test" or "coverage", for messages */
	const char *kernel;    /* --kernel, or NULL */
	char **args;           /* passed to the runner unchanged */
	int nr_args;
	char *cargo;           /* the cargo program that runs the runner */
	char *kernel_dir;      /* exported as KTSTR_KERNEL */
	char *kernel_image;    /* exported as KTSTR_TEST_KERNEL */
};
#define TEST_RUN_INIT(name) { name, NULL, NULL, 0, NULL, NULL, NULL }

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
/* Resolve --kernel (a source tree is configured and built first) into
 * run->kernel_dir and run->kernel_image.  Exits 125 when it cannot. */
void test_run_resolve_kernel(struct test_run *run);
/* Export the kernel, print the status lines and become
 * `cargo RUNNER... ARGS...`.  RUNNER is NULL-terminated. */
noreturn void test_run_exec(const struct test_run *run, const char *const *runner,
			    const char *activity);

#endif
