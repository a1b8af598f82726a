/* The command and flag table of cargo-ktstr and ktstr.
 *
 * The dispatcher's commands[] names the subcommands and runs them; this
 * table adds what a shell needs to complete them: the nested commands
 * (kernel list|build|clean), every flag with the kind of value it takes,
 * and the kind of the positional arguments.  The completion scripts are
 * generated from it, and t/90*-help-man-*.t checks it against each
 * command's own --help, so neither can drift from the tools.
 */
#ifndef KTSTR_CLI_TABLE_H
#define KTSTR_CLI_TABLE_H

#include <stdbool.h>

enum cli_value {
	CLI_NONE,   /* a switch: takes no value */
	CLI_WORD,   /* free text: a number, a version, a list */
	CLI_FILE,   /* a path to a file (or a kernel ID, which may be a path) */
	CLI_DIR,    /* a path to a directory */
	CLI_CHOICE, /* one word of a fixed list */
};

struct cli_flag {
	const char *long_name; /* without the leading "--" */
	char short_name;       /* 0 when there is none */
	enum cli_value value;
	const char *const *choices; /* for CLI_CHOICE, NULL-terminated */
	const char *help;           /* one line, for the shells that show it */
};

struct cli_node {
	const char *name;
	const char *summary;
	const struct cli_flag *flags;        /* ends with a zeroed entry */
	const struct cli_node *subcommands;  /* ends with a NULL name; may be NULL */
	enum cli_value positional;           /* kind of the arguments after the flags */
	const char *const *positional_choices;
};

/* The root of the tree: the dispatcher itself, with its global flags and
 * one child per visible entry of commands[]. */
extern const struct cli_node cli_root;

/* Shell names that "completions" accepts, NULL-terminated. */
extern const char *const cli_shells[];

/* Check that every visible command of the dispatcher has an entry in the
 * table, and that the table names no command the dispatcher lacks.
 * Returns 0, or -1 after printing what is missing. */
int cli_table_check(void);

#endif
