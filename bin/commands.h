/* The subcommands of cargo-ktstr and ktstr.  Each handler gets argv with
 * argv[0] set to its own name and returns the process exit status. */
#ifndef KTSTR_COMMANDS_H
#define KTSTR_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	bool hidden;
};

/* "cargo ktstr" or "ktstr": the prefix of status lines and the name in help. */
extern const char *dispatch_label;
/* True when running as cargo-ktstr (cargo's plugin), false as plain ktstr. */
extern bool dispatch_is_cargo;

extern const struct command commands[];

/* Print "<label>: '<name>' is not implemented yet" and return 1. */
int cmd_not_implemented(const char *name);
/* Replace this process with the sibling tool name, passing args through. */
noreturn void cmd_exec_tool(const char *tool, const char *const *fixed, int argc,
			   char **argv);

int cmd_test(int argc, char **argv);
int cmd_coverage(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_kernel_build(int argc, char **argv);
int cmd_build_kernel(int argc, char **argv);
int cmd_verifier(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_completions(int argc, char **argv);
int cmd_test_stats(int argc, char **argv);

#endif
