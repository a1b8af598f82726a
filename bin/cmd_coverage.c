#include "commands.h"
#include "test_runner.h"

#include "diag.h"
#include "exec_search.h"
#include "spawn.h"
#include "xalloc.h"

#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_coverage_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s coverage [--kernel ID] [--] [ARGS...]\n"
		"\n"
		"Like test, but run the tests under cargo llvm-cov nextest, which\n"
		"measures the code coverage of the project.  Needs cargo-llvm-cov and\n"
		"the rustup component llvm-tools-preview.  Without cargo-nextest, run\n"
		"cargo llvm-cov test instead.\n"
		"\n"
		"Options:\n"
		"  --kernel ID  kernel for the tests: a kernel source directory (configured\n"
		"               and built first), a version or cache key of the kernel\n"
		"               cache, or a boot image file; repeatable\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"ARGS, everything after the options or after \"--\", go to the runner\n"
		"unchanged.  The kernel is exported as for test.\n"
		"\n"
		"Exit status: the runner's own; 4 when no target of the project builds\n"
		"tests; 125 when %s fails before the run (bad option, no cargo project,\n"
		"kernel not cached or not built); 127 when cargo, cargo-llvm-cov or\n"
		"llvm-tools-preview is not installed.\n",
		dispatch_label, dispatch_label);
}

/* Run argv with stdin and stderr on /dev/null.  Returns its stdout, or NULL
 * when it could not run or failed. */
static char *probe_output(const char *const *argv)
{
	struct spawn child = SPAWN_INIT;
	char *out = NULL;

	child.argv = argv;
	child.stdin_fd = SPAWN_DEVNULL;
	child.stderr_fd = SPAWN_DEVNULL;
	int status = spawn_capture_child(&child, &out, NULL);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Look for llvm-tools-preview in rustup's list of installed components.
 * Where rustup does not manage the toolchain, look for llvm-profdata and
 * llvm-cov in the sysroot instead, which is where cargo-llvm-cov finds them. */
static bool have_llvm_tools(void)
{
	static const char *const list_components[] = {
		"rustup", "component", "list", "--installed", NULL,
	};
	const char *rustc = getenv("RUSTC");
	char *rustup = exec_search("rustup");
	char *components = rustup ? probe_output(list_components) : NULL;
	bool have = false;

	free(rustup);
	if (components) {
		/* The component is listed as llvm-tools-<host triple>, by older
		 * toolchains as llvm-tools-preview-<host triple>. */
		char *save = NULL;
		for (char *line = strtok_r(components, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "llvm-tools", strlen("llvm-tools")))
				have = true;
		}
		free(components);
		return have;
	}

	const char *const print_sysroot[] = { rustc && *rustc ? rustc : "rustc", "--print", "sysroot", NULL };
	char *sysroot = probe_output(print_sysroot);
	if (!sysroot)
		return false;
	sysroot[strcspn(sysroot, "\n")] = '\0';
	char *pattern = xasprintf("%s/lib/rustlib/*/bin/llvm-profdata", sysroot);
	glob_t matches;
	if (glob(pattern, 0, NULL, &matches) == 0) {
		for (size_t i = 0; i < matches.gl_pathc && !have; i++) {
			char *cov = xstrdup(matches.gl_pathv[i]);

			strcpy(strrchr(cov, '/') + 1, "llvm-cov");
			have = access(cov, X_OK) == 0;
			free(cov);
		}
		globfree(&matches);
	}
	free(pattern);
	free(sysroot);
	return have;
}

int cmd_coverage(int argc, char **argv)
{
	static const char *const llvm_cov_nextest[] = { "llvm-cov", "nextest", NULL };
	static const char *const llvm_cov_test[] = { "llvm-cov", "test", NULL };
	struct test_run run = TEST_RUN_INIT("coverage");
	const char *const *runner = llvm_cov_nextest;

	test_run_parse(&run, argc, argv, print_coverage_usage);
	test_run_find_cargo(&run);
	test_run_check_project(&run);

	bool have_llvm_cov = test_run_have_subcommand("llvm-cov");
	bool have_tools = have_llvm_tools();
	if (!have_llvm_cov || !have_tools) {
		const char *missing = !have_tools ? "the rustup component llvm-tools-preview is" :
				      "cargo-llvm-cov is";

		if (!have_llvm_cov && !have_tools)
			missing = "cargo-llvm-cov and the rustup component llvm-tools-preview are";
		die_status(KTSTR_EXIT_NOTFOUND, "cannot run coverage: %s not installed; install the "
			   "coverage tools with: cargo install cargo-llvm-cov --locked && rustup "
			   "component add llvm-tools-preview", missing);
	}

	bool have_nextest = test_run_have_subcommand("nextest");

	test_run_resolve_kernel(&run);
	if (!have_nextest) {
		info_msg("cargo-nextest is not installed (install it with: cargo install "
			 "cargo-nextest --locked); running cargo llvm-cov test instead");
		runner = llvm_cov_test;
	}
	test_run_exec(&run, runner, "coverage");
}
