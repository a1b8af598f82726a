/* completions: print a completion script for bash, zsh, fish, elvish or
 * PowerShell, generated from the command and flag table in cli_table.c.
 *
 * Every script carries the same data: for each command path ("",
 * "kernel", "kernel build", ...) its subcommands, its flags with the kind
 * of value each takes, and the kind of its positional arguments.  A small
 * walker in the shell's own language reads the words before the cursor,
 * follows subcommands, skips flag values and offers what fits next.
 *
 * With --binary cargo (the default of cargo-ktstr) the scripts complete
 * "cargo ktstr ..."; with any other name NAME they complete "NAME ...".
 */
#include "cli_table.h"
#include "commands.h"
#include "completion.h"

#include "diag.h"
#include "xalloc.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_completions_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s completions [--binary NAME] SHELL\n"
		"       %s completions --table\n"
		"\n"
		"Print a completion script for SHELL (bash, zsh, fish, elvish or\n"
		"powershell) on stdout.  The script completes subcommands, flags and\n"
		"flag values: files, directories and fixed choices.\n"
		"\n"
		"Options:\n"
		"      --binary NAME  complete the command NAME (default: %s); with\n"
		"                     'cargo' the script completes 'cargo ktstr ...'\n"
		"      --table        print the command and flag table the scripts are\n"
		"                     made from, one tab-separated line per entry\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Examples:\n",
		dispatch_label, dispatch_label, dispatch_is_cargo ? "cargo" : "ktstr");
	if (dispatch_is_cargo)
		fprintf(out,
			"  %s completions bash >> ~/.local/share/bash-completion/completions/cargo\n"
			"  %s completions zsh > ~/.zfunc/_cargo-ktstr\n"
			"  %s completions fish > ~/.config/fish/conf.d/cargo-ktstr.fish\n",
			dispatch_label, dispatch_label, dispatch_label);
	else
		fprintf(out,
			"  %s completions bash > ~/.local/share/bash-completion/completions/ktstr\n"
			"  %s completions zsh > ~/.zfunc/_ktstr\n"
			"  %s completions fish > ~/.config/fish/completions/ktstr.fish\n",
			dispatch_label, dispatch_label, dispatch_label);
}

static void collect_nodes(struct gen *g, const char *path, const struct cli_node *node)
{
	if (g->count == MAX_NODES)
		die("the command table has more than %d commands", MAX_NODES);
	g->nodes[g->count].path = xstrdup(path);
	g->nodes[g->count].node = node;
	g->count++;

	for (const struct cli_node *sub = node->subcommands; sub && sub->name; sub++) {
		char *sub_path = *path ? xasprintf("%s %s", path, sub->name) : xstrdup(sub->name);

		collect_nodes(g, sub_path, sub);
		free(sub_path);
	}
}

/* --table: "PATH<TAB>NAME<TAB>KIND" lines; NAME is a subcommand (KIND
 * "command"), a flag spelling (--long or -s) or ARGS for the positionals. */
static void print_table(struct gen *g)
{
	for (size_t i = 0; i < g->count; i++) {
		const struct path_node *pn = &g->nodes[i];

		for (const struct cli_node *sub = pn->node->subcommands; sub && sub->name; sub++)
			fprintf(g->out, "%s\t%s\tcommand\n", pn->path, sub->name);
		for (const struct cli_flag *f = pn->node->flags; f && f->long_name; f++) {
			char *kind = completion_kind(f->value, f->choices);

			fprintf(g->out, "%s\t--%s\t%s\n", pn->path, f->long_name, kind);
			if (f->short_name)
				fprintf(g->out, "%s\t-%c\t%s\n", pn->path, f->short_name, kind);
			free(kind);
		}
		if (pn->node->positional != CLI_NONE) {
			char *kind = completion_kind(pn->node->positional, pn->node->positional_choices);

			fprintf(g->out, "%s\tARGS\t%s\n", pn->path, kind);
			free(kind);
		}
	}
}

/* Accept a command name that can go into shell code unquoted. */
static bool valid_binary(const char *name)
{
	if (!*name || name[0] == '-')
		return false;
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("_.+-", *p))
			return false;
	}
	return true;
}

static char *identifier_of(const char *name)
{
	char *id = xstrdup(name);

	for (char *p = id; *p; p++) {
		if (!isalnum((unsigned char)*p))
			*p = '_';
	}
	return id;
}

int cmd_completions(int argc, char **argv)
{
	enum { OPT_BINARY = 256, OPT_TABLE };
	static const struct option options[] = {
		{ "binary", required_argument, NULL, OPT_BINARY },
		{ "table", no_argument, NULL, OPT_TABLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen g = { .out = stdout, .binary = dispatch_is_cargo ? "cargo" : "ktstr" };
	bool table = false;
	const char *shell = NULL;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_BINARY:
			g.binary = optarg;
			break;
		case OPT_TABLE:
			table = true;
			break;
		case 'h':
			print_completions_usage(stdout);
			return diag_close_stdout(KTSTR_EXIT_OK);
		default:
			if (optopt && optopt < 256 && optopt != '?')
				die_usage("invalid option '-%c' for completions", optopt);
			die_usage("invalid option '%s' for completions", argv[optind - 1]);
		}
	}

	if (!table) {
		if (optind >= argc)
			die_usage("missing SHELL for completions; one of bash, zsh, fish, elvish, "
				  "powershell");
		shell = argv[optind++];
	}
	if (optind < argc)
		die_usage("unexpected argument '%s' for completions", argv[optind]);
	if (!valid_binary(g.binary))
		die_usage("invalid --binary '%s': use letters, digits and _ . + - only", g.binary);
	if (cli_table_check() < 0)
		return KTSTR_EXIT_ERROR;

	g.cargo = !strcmp(g.binary, "cargo");
	g.ident = identifier_of(g.binary);
	collect_nodes(&g, "", &cli_root);

	if (table)
		print_table(&g);
	else if (!strcmp(shell, "bash"))
		completion_bash(&g);
	else if (!strcmp(shell, "zsh"))
		completion_zsh(&g);
	else if (!strcmp(shell, "fish"))
		completion_fish(&g);
	else if (!strcmp(shell, "elvish"))
		completion_elvish(&g);
	else if (!strcmp(shell, "powershell"))
		completion_powershell(&g);
	else
		die_usage("unknown shell '%s'; valid shells: bash zsh fish elvish powershell", shell);

	for (size_t i = 0; i < g.count; i++)
		free(g.nodes[i].path);
	free(g.ident);
	return diag_close_stdout(KTSTR_EXIT_OK);
}
