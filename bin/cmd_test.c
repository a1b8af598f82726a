#include "commands.h"
#include "test_runner.h"

#include "diag.h"

#include <stdbool.h>
#include <stdio.h>

static void print_test_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s test [--kernel ID] [--] [ARGS...]\n"
		"\n"
		"Find or build a kernel, then run the tests of the cargo project in the\n"
		"working directory with cargo nextest run.  Without cargo-nextest, run\n"
		"cargo test instead.\n"
		"\n"
		"Options:\n"
		"  --kernel ID  kernel for the tests: a kernel source directory (configured\n"
		"               and built first), a version or cache key of the kernel\n"
		"               cache, or a boot image file; repeatable\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"ARGS, everything after the options or after \"--\", go to the runner\n"
		"unchanged.  With --kernel the tests get KTSTR_KERNEL (the cache entry,\n"
		"source directory or image file) and KTSTR_TEST_KERNEL (the boot image);\n"
		"without it nothing is exported and the tests find a kernel themselves.\n"
		"With several, KTSTR_KERNEL is the first and KTSTR_KERNEL_LIST and\n"
		"KTSTR_TEST_KERNEL_LIST list them all as label=path pairs joined by ';'.\n"
		"\n"
		"Exit status: the runner's own; 4 when no target of the project builds\n"
		"tests; 125 when %s fails before the run (bad option, no cargo project,\n"
		"kernel not cached or not built); 127 when cargo is not installed.\n",
		dispatch_label, dispatch_label);
}

int cmd_test(int argc, char **argv)
{
	static const char *const nextest[] = { "nextest", "run", NULL };
	static const char *const cargo_test[] = { "test", NULL };
	struct test_run run = TEST_RUN_INIT("test");
	const char *const *runner = nextest;

	test_run_parse(&run, argc, argv, print_test_usage);
	test_run_find_cargo(&run);
	test_run_check_project(&run);
	bool have_nextest = test_run_have_subcommand("nextest");

	test_run_resolve_kernel(&run);
	if (!have_nextest) {
		info_msg("cargo-nextest is not installed (install it with: cargo install "
			 "cargo-nextest --locked); running cargo test instead");
		runner = cargo_test;
	}
	test_run_exec(&run, runner, "tests");
}
