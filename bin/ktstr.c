/* cargo-ktstr and ktstr: one dispatcher, two names.
 *
 * cargo runs a plugin as "cargo-ktstr ktstr ARGS...", so cargo-ktstr drops
 * that first "ktstr".  Each subcommand either execs one ktstr-* tool or runs
 * a short chain of them; the tools do the work.
 */
#include "commands.h"

#include "diag.h"
#include "paths.h"
#include "spawn.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dispatch_label = "ktstr";
bool dispatch_is_cargo;

const struct command commands[] = {
	{ "test", "build or find a kernel, then run the tests with cargo nextest", cmd_test, false },
	{ "coverage", "like test, under cargo llvm-cov nextest", cmd_coverage, false },
	{ "kernel", "manage cached kernel images: list, build, clean", cmd_kernel, false },
	{ "verifier", "BPF verifier statistics of a scheduler, per flag profile", cmd_verifier, false },
	{ "shell", "boot a kernel in a VM and open a shell or run a command", cmd_shell, false },
	{ "completions", "print a shell completion script", cmd_completions, false },
	{ "test-stats", "analyse the sidecar files of test runs", cmd_test_stats, false },
	{ "stats", "same as test-stats", cmd_test_stats, true },
	{ "build-kernel", "deprecated: use 'kernel build --source PATH'", cmd_build_kernel, true },
	{ NULL, NULL, NULL, false },
};

static void print_usage(FILE *out)
{
	fprintf(out, "Usage: %s [--help] [--version] COMMAND [ARGS...]\n\n", dispatch_label);
	fprintf(out, "Test Linux schedulers (sched_ext above all) in VMs with a chosen CPU topology.\n\n");
	fprintf(out, "Commands:\n");
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (!cmd->hidden)
			fprintf(out, "  %-12s %s\n", cmd->name, cmd->summary);
	}
	fprintf(out, "\nOptions:\n"
		     "  -h, --help     print this help and exit\n"
		     "  -V, --version  print the version and exit\n");
	fprintf(out, "\nRun '%s COMMAND --help' for the options of a command.\n", dispatch_label);
}

static const struct command *find_command(const char *name)
{
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (!strcmp(cmd->name, name))
			return cmd;
	}
	return NULL;
}

static void die_unknown_command(const char *name)
{
	fprintf(stderr, "%s: unknown command '%s'; valid commands:", dispatch_label, name);
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (!cmd->hidden)
			fprintf(stderr, " %s", cmd->name);
	}
	fputc('\n', stderr);
	exit(KTSTR_EXIT_ERROR);
}

int cmd_not_implemented(const char *name)
{
	fprintf(stderr, "%s: '%s' is not implemented yet\n", dispatch_label, name);
	return KTSTR_EXIT_NO;
}

void cmd_exec_tool(const char *tool, const char *const *fixed, int argc, char **argv)
{
	struct strvec args = STRVEC_INIT;
	char *path = paths_tool(tool);

	strvec_push(&args, path);
	for (size_t i = 0; fixed && fixed[i]; i++)
		strvec_push(&args, fixed[i]);
	for (int i = 1; i < argc; i++)
		strvec_push(&args, argv[i]);
	/* The tool names itself in messages, but status lines keep our label. */
	setenv("KTSTR_LABEL", dispatch_label, 1);
	spawn_exec((const char *const *)args.items);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	dispatch_is_cargo = !strcmp(self, "cargo-ktstr");
	dispatch_label = dispatch_is_cargo ? "cargo ktstr" : "ktstr";
	diag_init(dispatch_is_cargo ? "cargo ktstr" : "ktstr");
	if (dispatch_is_cargo && argc > 1 && !strcmp(argv[1], "ktstr")) {
		argv++;
		argc--;
	}

	if (argc < 2) {
		print_usage(stderr);
		return KTSTR_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return diag_close_stdout(KTSTR_EXIT_OK);
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", dispatch_label, KTSTR_VERSION);
		return diag_close_stdout(KTSTR_EXIT_OK);
	}
	if (argv[1][0] == '-')
		die_usage("unknown option '%s'", argv[1]);

	const struct command *cmd = find_command(argv[1]);
	if (!cmd)
		die_unknown_command(argv[1]);
	return cmd->run(argc - 1, argv + 1);
}
