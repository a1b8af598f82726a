/* kernel list|build|clean: list and clean run ktstr-cache; build runs the
 * kernel chain (cmd_kernel_build.c). */
#include "commands.h"

#include "diag.h"

#include <stdio.h>
#include <string.h>

static void print_kernel_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s kernel COMMAND [ARGS...]\n"
		"\n"
		"Manage cached kernel images.\n"
		"\n"
		"Commands:\n"
		"  list [--json]        list cached kernel images, newest first (ktstr-cache list)\n"
		"  build [OPTIONS] [VERSION]\n"
		"                       download or take a source tree, configure, build and\n"
		"                       cache a kernel\n"
		"  clean [--keep N | --corrupt-only] [--force]\n"
		"                       remove cached kernel images (ktstr-cache clean)\n"
		"\n"
		"Options:\n"
		"  -h, --help           print this help and exit\n"
		"\n"
		"Run '%s kernel COMMAND --help' for the options of a command.\n",
		dispatch_label, dispatch_label);
}

int cmd_kernel(int argc, char **argv)
{
	static const char *const list_args[] = { "list", NULL };
	static const char *const clean_args[] = { "clean", NULL };

	if (argc < 2) {
		print_kernel_usage(stderr);
		return KTSTR_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		print_kernel_usage(stdout);
		return diag_close_stdout(KTSTR_EXIT_OK);
	}
	if (!strcmp(argv[1], "list"))
		cmd_exec_tool("ktstr-cache", list_args, argc - 1, argv + 1);
	if (!strcmp(argv[1], "clean"))
		cmd_exec_tool("ktstr-cache", clean_args, argc - 1, argv + 1);
	if (!strcmp(argv[1], "build"))
		return cmd_kernel_build(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown kernel command '%s'; valid commands: list build clean\n",
		dispatch_label, argv[1]);
	return KTSTR_EXIT_ERROR;
}
