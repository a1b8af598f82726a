/* Completion script generators for the completions command.
 *
 * Each generator prints one shell's script for the command tree that
 * cmd_completions.c flattened from cli_table.c into struct gen.
 */
#ifndef KTSTR_COMPLETION_H
#define KTSTR_COMPLETION_H

#include "cli_table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MAX_NODES 64

/* One node of the tree with its path from the root, "" for the root. */
struct path_node {
	char *path;
	const struct cli_node *node;
};

struct gen {
	FILE *out;
	const char *binary; /* the command the shell completes: "cargo" or NAME */
	bool cargo;         /* the first argument must be "ktstr" */
	char *ident;        /* binary reduced to [A-Za-z0-9_], for function names */
	struct path_node nodes[MAX_NODES];
	size_t count;
};

const char *completion_value_kind(enum cli_value value);
/* The value kind as the walkers read it: "file", or "choice:a b c".  Malloc'd. */
char *completion_kind(enum cli_value value, const char *const *choices);
/* Print s in single quotes for bash, zsh and fish. */
void completion_put_sh_quoted(FILE *out, const char *s);
/* Print s in single quotes for elvish and PowerShell, which double a quote. */
void completion_put_doubled_quoted(FILE *out, const char *s);
/* The flag spellings of a node, space-separated: "--json --help -h".  Malloc'd. */
char *completion_flag_words(const struct cli_node *node);
/* The subcommand names of a node, space-separated.  Malloc'd. */
char *completion_command_words(const struct cli_node *node);
/* Print the case-statement functions that bash and zsh share; they set REPLY. */
void completion_sh_tables(struct gen *g);

void completion_bash(struct gen *g);
void completion_zsh(struct gen *g);
void completion_fish(struct gen *g);
void completion_elvish(struct gen *g);
void completion_powershell(struct gen *g);

#endif
