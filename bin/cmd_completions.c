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

#include "diag.h"
#include "xalloc.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *value_kind(enum cli_value value)
{
	switch (value) {
	case CLI_NONE:
		return "none";
	case CLI_WORD:
		return "word";
	case CLI_FILE:
		return "file";
	case CLI_DIR:
		return "dir";
	case CLI_CHOICE:
		return "choice";
	}
	return "none";
}

/* The value kind as the bash and zsh walkers read it: "choice:a b c". */
static char *kind_with_choices(enum cli_value value, const char *const *choices)
{
	char *kind;

	if (value != CLI_CHOICE)
		return xstrdup(value_kind(value));
	kind = xstrdup("choice:");
	for (size_t i = 0; choices && choices[i]; i++) {
		char *next = xasprintf("%s%s%s", kind, i ? " " : "", choices[i]);

		free(kind);
		kind = next;
	}
	return kind;
}

/* Print s in single quotes for bash, zsh and fish. */
static void put_sh_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

/* Print s in single quotes for elvish and PowerShell, which double a quote. */
static void put_doubled_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', out);
		fputc(*s, out);
	}
	fputc('\'', out);
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
			char *kind = kind_with_choices(f->value, f->choices);

			fprintf(g->out, "%s\t--%s\t%s\n", pn->path, f->long_name, kind);
			if (f->short_name)
				fprintf(g->out, "%s\t-%c\t%s\n", pn->path, f->short_name, kind);
			free(kind);
		}
		if (pn->node->positional != CLI_NONE) {
			char *kind = kind_with_choices(pn->node->positional, pn->node->positional_choices);

			fprintf(g->out, "%s\tARGS\t%s\n", pn->path, kind);
			free(kind);
		}
	}
}

/* The flag spellings of a node, space-separated: "--json --help -h". */
static char *flag_words(const struct cli_node *node)
{
	char *words = xstrdup("");

	for (const struct cli_flag *f = node->flags; f && f->long_name; f++) {
		char *next = f->short_name
			? xasprintf("%s%s--%s -%c", words, *words ? " " : "", f->long_name, f->short_name)
			: xasprintf("%s%s--%s", words, *words ? " " : "", f->long_name);

		free(words);
		words = next;
	}
	return words;
}

static char *command_words(const struct cli_node *node)
{
	char *words = xstrdup("");

	for (const struct cli_node *sub = node->subcommands; sub && sub->name; sub++) {
		char *next = xasprintf("%s%s%s", words, *words ? " " : "", sub->name);

		free(words);
		words = next;
	}
	return words;
}

/* The case-statement helpers that bash and zsh share: they set REPLY. */
static void print_sh_tables(struct gen *g)
{
	FILE *out = g->out;

	fprintf(out, "# Set REPLY to the subcommands of the command path $1.\n");
	fprintf(out, "_ktstr_%s_commands() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		char *words = command_words(g->nodes[i].node);

		if (*words) {
			fputc('\t', out);
			put_sh_quoted(out, g->nodes[i].path);
			fputs(") REPLY=", out);
			put_sh_quoted(out, words);
			fputs(" ;;\n", out);
		}
		free(words);
	}
	fprintf(out, "\t*) REPLY='' ;;\n\tesac\n}\n\n");

	fprintf(out, "# Set REPLY to the flags of the command path $1.\n");
	fprintf(out, "_ktstr_%s_flags() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		char *words = flag_words(g->nodes[i].node);

		fputc('\t', out);
		put_sh_quoted(out, g->nodes[i].path);
		fputs(") REPLY=", out);
		put_sh_quoted(out, words);
		fputs(" ;;\n", out);
		free(words);
	}
	fprintf(out, "\t*) REPLY='' ;;\n\tesac\n}\n\n");

	fprintf(out, "# Set REPLY to the kind of value that flag $2 of command path $1 takes:\n"
		     "# none, word, file, dir or choice:WORDS.\n");
	fprintf(out, "_ktstr_%s_value() {\n\tcase \"$1|$2\" in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		for (const struct cli_flag *f = g->nodes[i].node->flags; f && f->long_name; f++) {
			char *kind, *pattern;

			if (f->value == CLI_NONE)
				continue;
			kind = kind_with_choices(f->value, f->choices);
			pattern = f->short_name
				? xasprintf("%s|--%s' | '%s|-%c", g->nodes[i].path, f->long_name,
					    g->nodes[i].path, f->short_name)
				: xasprintf("%s|--%s", g->nodes[i].path, f->long_name);
			fprintf(out, "\t'%s') REPLY=", pattern);
			put_sh_quoted(out, kind);
			fputs(" ;;\n", out);
			free(pattern);
			free(kind);
		}
	}
	fprintf(out, "\t*) REPLY=none ;;\n\tesac\n}\n\n");

	fprintf(out, "# Set REPLY to the kind of the positional arguments of command path $1.\n");
	fprintf(out, "_ktstr_%s_positional() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		const struct cli_node *node = g->nodes[i].node;
		char *kind;

		if (node->positional == CLI_NONE)
			continue;
		kind = kind_with_choices(node->positional, node->positional_choices);
		fputc('\t', out);
		put_sh_quoted(out, g->nodes[i].path);
		fputs(") REPLY=", out);
		put_sh_quoted(out, kind);
		fputs(" ;;\n", out);
		free(kind);
	}
	fprintf(out, "\t*) REPLY=none ;;\n\tesac\n}\n\n");
}

static void print_bash(struct gen *g)
{
	FILE *out = g->out;
	const char *id = g->ident;

	fprintf(out, "# bash completion for %s%s, generated by '%s completions bash'.\n\n",
		g->binary, g->cargo ? " ktstr" : "", dispatch_label);
	print_sh_tables(g);

	fprintf(out,
		"# Offer the values of kind $1 that start with $2.\n"
		"_ktstr_%s_offer() {\n"
		"\tcase $1 in\n"
		"\tfile)\n"
		"\t\tcompopt -o filenames 2>/dev/null\n"
		"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$2\") ;;\n"
		"\tdir)\n"
		"\t\tcompopt -o filenames 2>/dev/null\n"
		"\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$2\") ;;\n"
		"\tchoice:*)\n"
		"\t\tmapfile -t COMPREPLY < <(compgen -W \"${1#choice:}\" -- \"$2\") ;;\n"
		"\t*) COMPREPLY=() ;;\n"
		"\tesac\n"
		"}\n\n", id);

	fprintf(out, "_ktstr_%s() {\n", id);
	fprintf(out,
		"\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmdpath='' word value_of='' REPLY i=1\n"
		"\n");
	if (g->cargo) {
		fprintf(out,
			"\t# Other cargo subcommands go to the completion cargo had before.\n"
			"\tif ((COMP_CWORD == 1)); then\n"
			"\t\tif [[ -n $_ktstr_%s_previous ]]; then\n"
			"\t\t\t\"$_ktstr_%s_previous\" \"$@\"\n"
			"\t\tfi\n"
			"\t\t[[ ktstr == \"$cur\"* ]] && COMPREPLY+=(ktstr)\n"
			"\t\treturn 0\n"
			"\tfi\n"
			"\tif [[ ${COMP_WORDS[1]} != ktstr ]]; then\n"
			"\t\t[[ -n $_ktstr_%s_previous ]] && \"$_ktstr_%s_previous\" \"$@\"\n"
			"\t\treturn 0\n"
			"\tfi\n"
			"\ti=2\n\n", id, id, id, id);
	}
	fprintf(out,
		"\tfor ((; i < COMP_CWORD; i++)); do\n"
		"\t\tword=${COMP_WORDS[i]}\n"
		"\t\t# bash splits --flag=value into three words.\n"
		"\t\t[[ $word == = ]] && continue\n"
		"\t\tif [[ -n $value_of ]]; then\n"
		"\t\t\tvalue_of=''\n"
		"\t\t\tcontinue\n"
		"\t\tfi\n"
		"\t\tcase $word in\n"
		"\t\t--)\n"
		"\t\t\t# The rest goes to another program unchanged.\n"
		"\t\t\tcompopt -o default 2>/dev/null\n"
		"\t\t\tCOMPREPLY=()\n"
		"\t\t\treturn 0 ;;\n"
		"\t\t-*)\n"
		"\t\t\t_ktstr_%s_value \"$cmdpath\" \"$word\"\n"
		"\t\t\t[[ $REPLY != none ]] && value_of=$word ;;\n"
		"\t\t*)\n"
		"\t\t\t_ktstr_%s_commands \"$cmdpath\"\n"
		"\t\t\tif [[ \" $REPLY \" == *\" $word \"* ]]; then\n"
		"\t\t\t\tcmdpath=${cmdpath:+$cmdpath }$word\n"
		"\t\t\tfi ;;\n"
		"\t\tesac\n"
		"\tdone\n"
		"\n"
		"\t[[ $cur == = ]] && cur=''\n"
		"\tif [[ -n $value_of ]]; then\n"
		"\t\t_ktstr_%s_value \"$cmdpath\" \"$value_of\"\n"
		"\t\t_ktstr_%s_offer \"$REPLY\" \"$cur\"\n"
		"\t\treturn 0\n"
		"\tfi\n"
		"\tif [[ $cur == -* ]]; then\n"
		"\t\t_ktstr_%s_flags \"$cmdpath\"\n"
		"\t\tmapfile -t COMPREPLY < <(compgen -W \"$REPLY\" -- \"$cur\")\n"
		"\t\treturn 0\n"
		"\tfi\n"
		"\t_ktstr_%s_commands \"$cmdpath\"\n"
		"\tif [[ -n $REPLY ]]; then\n"
		"\t\tmapfile -t COMPREPLY < <(compgen -W \"$REPLY\" -- \"$cur\")\n"
		"\t\treturn 0\n"
		"\tfi\n"
		"\t_ktstr_%s_positional \"$cmdpath\"\n"
		"\t_ktstr_%s_offer \"$REPLY\" \"$cur\"\n"
		"}\n\n", id, id, id, id, id, id, id, id);

	if (g->cargo) {
		fprintf(out,
			"# bash-completion loads cargo's completion only on first use, from the\n"
			"# first cargo file in its directories.  Load it now so that it can be\n"
			"# kept, skipping this script when it is one of those files.\n"
			"if ! complete -p cargo >/dev/null 2>&1 && [[ -z ${_ktstr_loading-} ]]; then\n"
			"\t_ktstr_loading=1\n"
			"\t_ktstr_dirs=\"${BASH_COMPLETION_USER_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion}\"\n"
			"\tIFS=: read -ra _ktstr_data <<<\"${XDG_DATA_DIRS:-/usr/local/share:/usr/share}\"\n"
			"\tfor _ktstr_dir in \"$_ktstr_dirs\" \"${_ktstr_data[@]/%%//bash-completion}\"; do\n"
			"\t\t_ktstr_file=$_ktstr_dir/completions/cargo\n"
			"\t\t[[ -f $_ktstr_file ]] || continue\n"
			"\t\t[[ $_ktstr_file -ef ${BASH_SOURCE[0]} ]] && continue\n"
			"\t\t. \"$_ktstr_file\" >/dev/null 2>&1\n"
			"\t\tbreak\n"
			"\tdone\n"
			"\tunset _ktstr_loading _ktstr_dirs _ktstr_data _ktstr_dir _ktstr_file\n"
			"fi\n"
			"# Keep the completion function cargo had, unless it is this one\n"
			"# (the script was loaded twice).\n"
			"if _ktstr_spec=$(complete -p cargo 2>/dev/null) && [[ $_ktstr_spec == *' -F '* ]]; then\n"
			"\t_ktstr_spec=${_ktstr_spec##* -F }\n"
			"\t_ktstr_spec=${_ktstr_spec%%%% *}\n"
			"\t[[ $_ktstr_spec != _ktstr_%s ]] && _ktstr_%s_previous=$_ktstr_spec\n"
			"fi\n"
			"unset _ktstr_spec\n"
			": \"${_ktstr_%s_previous:=}\"\n", id, id, id);
	}
	fprintf(out, "complete -F _ktstr_%s ", id);
	put_sh_quoted(out, g->binary);
	fputc('\n', out);
}

/* The zsh tables of descriptions: "name:summary" per subcommand and
 * "--flag:help" per flag, for _describe. */
static void print_zsh_descriptions(struct gen *g)
{
	FILE *out = g->out;

	fprintf(out, "# Set reply to name:description pairs of the subcommands of path $1.\n");
	fprintf(out, "_ktstr_%s_describe_commands() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		const struct cli_node *node = g->nodes[i].node;

		if (!node->subcommands)
			continue;
		fputc('\t', out);
		put_sh_quoted(out, g->nodes[i].path);
		fputs(") reply=(", out);
		for (const struct cli_node *sub = node->subcommands; sub->name; sub++) {
			char *pair = xasprintf("%s:%s", sub->name, sub->summary);

			fputc(' ', out);
			put_sh_quoted(out, pair);
			free(pair);
		}
		fputs(" ) ;;\n", out);
	}
	fprintf(out, "\t*) reply=() ;;\n\tesac\n}\n\n");

	fprintf(out, "# Set reply to flag:description pairs of the flags of path $1.\n");
	fprintf(out, "_ktstr_%s_describe_flags() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		fputc('\t', out);
		put_sh_quoted(out, g->nodes[i].path);
		fputs(") reply=(", out);
		for (const struct cli_flag *f = g->nodes[i].node->flags; f && f->long_name; f++) {
			char *pair = xasprintf("--%s:%s", f->long_name, f->help);

			fputc(' ', out);
			put_sh_quoted(out, pair);
			free(pair);
			if (f->short_name) {
				pair = xasprintf("-%c:%s", f->short_name, f->help);
				fputc(' ', out);
				put_sh_quoted(out, pair);
				free(pair);
			}
		}
		fputs(" ) ;;\n", out);
	}
	fprintf(out, "\t*) reply=() ;;\n\tesac\n}\n\n");
}

static void print_zsh(struct gen *g)
{
	FILE *out = g->out;
	const char *id = g->ident;
	/* cargo's zsh completion (src/etc/_cargo in the cargo repository) calls
	 * _cargo-<command> for a command it does not know, such as ktstr. */
	char *func = g->cargo ? xstrdup("_cargo-ktstr") : xasprintf("_%s", g->binary);
	const char *command = g->cargo ? "cargo-ktstr" : g->binary;

	fprintf(out, "#compdef %s\n", command);
	fprintf(out, "# zsh completion for %s%s, generated by '%s completions zsh'.\n",
		g->binary, g->cargo ? " ktstr" : "", dispatch_label);
	if (g->cargo)
		fprintf(out, "# cargo's zsh completion runs _cargo-ktstr for 'cargo ktstr'; the\n"
			     "# same function completes cargo-ktstr run directly.\n");
	fputc('\n', out);
	print_sh_tables(g);
	print_zsh_descriptions(g);

	fprintf(out,
		"# Offer the values of kind $1.\n"
		"_ktstr_%s_offer() {\n"
		"\tcase $1 in\n"
		"\tfile) _files ;;\n"
		"\tdir) _files -/ ;;\n"
		"\tchoice:*) compadd -- ${=1#choice:} ;;\n"
		"\tword) _message 'value' ;;\n"
		"\tesac\n"
		"}\n\n", id);

	fprintf(out, "%s() {\n", func);
	fprintf(out,
		"\tlocal cur=${words[CURRENT]} cmdpath='' word value_of='' REPLY i=2\n"
		"\tlocal -a reply\n"
		"\n");
	if (g->cargo)
		fprintf(out, "\t# cargo-ktstr run directly accepts cargo's extra 'ktstr' word.\n"
			     "\t[[ ${words[1]} == cargo-ktstr && ${words[2]} == ktstr ]] && i=3\n\n");
	fprintf(out,
		"\tfor ((; i < CURRENT; i++)); do\n"
		"\t\tword=${words[i]}\n"
		"\t\tif [[ -n $value_of ]]; then\n"
		"\t\t\tvalue_of=''\n"
		"\t\t\tcontinue\n"
		"\t\tfi\n"
		"\t\tcase $word in\n"
		"\t\t--)\n"
		"\t\t\t_default\n"
		"\t\t\treturn ;;\n"
		"\t\t--*=*) ;;\n"
		"\t\t-*)\n"
		"\t\t\t_ktstr_%s_value \"$cmdpath\" \"$word\"\n"
		"\t\t\t[[ $REPLY != none ]] && value_of=$word ;;\n"
		"\t\t*)\n"
		"\t\t\t_ktstr_%s_commands \"$cmdpath\"\n"
		"\t\t\tif [[ \" $REPLY \" == *\" $word \"* ]]; then\n"
		"\t\t\t\tcmdpath=${cmdpath:+$cmdpath }$word\n"
		"\t\t\tfi ;;\n"
		"\t\tesac\n"
		"\tdone\n"
		"\n"
		"\tif [[ -n $value_of ]]; then\n"
		"\t\t_ktstr_%s_value \"$cmdpath\" \"$value_of\"\n"
		"\t\t_ktstr_%s_offer \"$REPLY\"\n"
		"\t\treturn\n"
		"\tfi\n"
		"\tif [[ $cur == --*=* ]]; then\n"
		"\t\t_ktstr_%s_value \"$cmdpath\" \"${cur%%%%=*}\"\n"
		"\t\tcompset -P '*='\n"
		"\t\t_ktstr_%s_offer \"$REPLY\"\n"
		"\t\treturn\n"
		"\tfi\n"
		"\tif [[ $cur == -* ]]; then\n"
		"\t\t_ktstr_%s_describe_flags \"$cmdpath\"\n"
		"\t\t_describe -t options 'option' reply\n"
		"\t\treturn\n"
		"\tfi\n"
		"\t_ktstr_%s_describe_commands \"$cmdpath\"\n"
		"\tif ((${#reply})); then\n"
		"\t\t_describe -t commands 'command' reply\n"
		"\t\treturn\n"
		"\tfi\n"
		"\t_ktstr_%s_positional \"$cmdpath\"\n"
		"\t_ktstr_%s_offer \"$REPLY\"\n"
		"}\n\n", id, id, id, id, id, id, id, id, id, id);

	fprintf(out,
		"# Autoloaded from $fpath the file's body runs as %s; sourced, it\n"
		"# registers the function instead.\n"
		"if [[ ${funcstack[1]} == %s ]]; then\n"
		"\t%s \"$@\"\n"
		"else\n"
		"\tcompdef %s %s\n"
		"fi\n", func, func, func, func, command);
	free(func);
}

static void print_fish(struct gen *g)
{
	FILE *out = g->out;
	const char *id = g->ident;

	fprintf(out, "# fish completion for %s%s, generated by '%s completions fish'.\n\n",
		g->binary, g->cargo ? " ktstr" : "", dispatch_label);

	fprintf(out, "# Print the subcommands of the command path $argv[1], one a line.\n");
	fprintf(out, "function __ktstr_%s_commands\n\tswitch \"$argv[1]\"\n", id);
	for (size_t i = 0; i < g->count; i++) {
		const struct cli_node *node = g->nodes[i].node;

		if (!node->subcommands)
			continue;
		fputs("\tcase ", out);
		put_sh_quoted(out, g->nodes[i].path);
		fputs("\n\t\tstring split ' ' -- ", out);
		char *words = command_words(node);
		put_sh_quoted(out, words);
		free(words);
		fputc('\n', out);
	}
	fprintf(out, "\tend\nend\n\n");

	fprintf(out, "# Succeed when flag $argv[2] of command path $argv[1] takes a value.\n");
	fprintf(out, "function __ktstr_%s_takes_value\n\tswitch \"$argv[1]|$argv[2]\"\n", id);
	fputs("\tcase", out);
	bool any = false;
	for (size_t i = 0; i < g->count; i++) {
		for (const struct cli_flag *f = g->nodes[i].node->flags; f && f->long_name; f++) {
			char *spelling;

			if (f->value == CLI_NONE)
				continue;
			spelling = xasprintf("%s|--%s", g->nodes[i].path, f->long_name);
			fputc(' ', out);
			put_sh_quoted(out, spelling);
			free(spelling);
			if (f->short_name) {
				spelling = xasprintf("%s|-%c", g->nodes[i].path, f->short_name);
				fputc(' ', out);
				put_sh_quoted(out, spelling);
				free(spelling);
			}
			any = true;
		}
	}
	if (!any)
		fputs(" ''", out);
	fprintf(out, "\n\t\treturn 0\n\tend\n\treturn 1\nend\n\n");

	fprintf(out,
		"# Print the command path before the cursor (\"kernel build\"); fail when\n"
		"# the command line is not one of ours or has reached a \"--\".\n"
		"function __ktstr_%s_path\n"
		"\tset -l tokens (commandline -opc)\n"
		"\tset -e tokens[1]\n", id);
	if (g->cargo)
		fprintf(out,
			"\ttest \"$tokens[1]\" = ktstr; or return 1\n"
			"\tset -e tokens[1]\n");
	fprintf(out,
		"\tset -l cmdpath ''\n"
		"\tset -l value_of ''\n"
		"\tfor word in $tokens\n"
		"\t\tif test -n \"$value_of\"\n"
		"\t\t\tset value_of ''\n"
		"\t\t\tcontinue\n"
		"\t\tend\n"
		"\t\tswitch $word\n"
		"\t\tcase --\n"
		"\t\t\treturn 1\n"
		"\t\tcase '--*=*'\n"
		"\t\tcase '-*'\n"
		"\t\t\t__ktstr_%s_takes_value \"$cmdpath\" $word; and set value_of $word\n"
		"\t\tcase '*'\n"
		"\t\t\tif contains -- $word (__ktstr_%s_commands \"$cmdpath\")\n"
		"\t\t\t\tset cmdpath (string trim -- \"$cmdpath $word\")\n"
		"\t\t\tend\n"
		"\t\tend\n"
		"\tend\n"
		"\techo $cmdpath\n"
		"end\n\n"
		"# Succeed when the command path before the cursor is $argv[1].\n"
		"function __ktstr_%s_at\n"
		"\tset -l cmdpath (__ktstr_%s_path); or return 1\n"
		"\ttest \"$cmdpath\" = \"$argv[1]\"\n"
		"end\n\n", id, id, id, id);

	if (g->cargo)
		fprintf(out, "complete -c cargo -n 'test (count (commandline -opc)) -eq 1' -f -a ktstr "
			     "-d 'test Linux schedulers in VMs'\n");

	for (size_t i = 0; i < g->count; i++) {
		const struct path_node *pn = &g->nodes[i];
		char *cond = xasprintf("__ktstr_%s_at '%s'", id, pn->path);

		if (pn->node->positional != CLI_FILE) {
			fprintf(out, "complete -c %s -n ", g->binary);
			put_sh_quoted(out, cond);
			fputs(" -f\n", out);
		}
		for (const struct cli_node *sub = pn->node->subcommands; sub && sub->name; sub++) {
			fprintf(out, "complete -c %s -n ", g->binary);
			put_sh_quoted(out, cond);
			fprintf(out, " -a %s -d ", sub->name);
			put_sh_quoted(out, sub->summary);
			fputc('\n', out);
		}
		if (pn->node->positional == CLI_CHOICE) {
			fprintf(out, "complete -c %s -n ", g->binary);
			put_sh_quoted(out, cond);
			fputs(" -a '", out);
			for (size_t c = 0; pn->node->positional_choices[c]; c++)
				fprintf(out, "%s%s", c ? " " : "", pn->node->positional_choices[c]);
			fputs("'\n", out);
		}
		for (const struct cli_flag *f = pn->node->flags; f && f->long_name; f++) {
			fprintf(out, "complete -c %s -n ", g->binary);
			put_sh_quoted(out, cond);
			fprintf(out, " -l %s", f->long_name);
			if (f->short_name)
				fprintf(out, " -s %c", f->short_name);
			switch (f->value) {
			case CLI_NONE:
				break;
			case CLI_WORD:
				fputs(" -x", out);
				break;
			case CLI_FILE:
				fputs(" -r -F", out);
				break;
			case CLI_DIR:
				fputs(" -x -a '(__fish_complete_directories (commandline -ct))'", out);
				break;
			case CLI_CHOICE:
				fputs(" -x -a '", out);
				for (size_t c = 0; f->choices[c]; c++)
					fprintf(out, "%s%s", c ? " " : "", f->choices[c]);
				fputc('\'', out);
				break;
			}
			fputs(" -d ", out);
			put_sh_quoted(out, f->help);
			fputc('\n', out);
		}
		free(cond);
	}
}

/* The tree as an elvish map of maps, keyed by command path. */
static void print_elvish_tree(struct gen *g)
{
	FILE *out = g->out;

	fprintf(out, "var ktstr-%s-tree = [\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		const struct cli_node *node = g->nodes[i].node;

		fputs("  &", out);
		put_doubled_quoted(out, g->nodes[i].path);
		fputs("=[\n    &commands=[", out);
		for (const struct cli_node *sub = node->subcommands; sub && sub->name; sub++) {
			fprintf(out, "&'%s'=", sub->name);
			put_doubled_quoted(out, sub->summary);
			fputc(' ', out);
		}
		if (!node->subcommands)
			fputc('&', out);
		fputs("]\n    &flags=[", out);
		for (const struct cli_flag *f = node->flags; f && f->long_name; f++) {
			char *kind = kind_with_choices(f->value, f->choices);

			fprintf(out, "&'--%s'=", f->long_name);
			put_doubled_quoted(out, kind);
			if (f->short_name) {
				fprintf(out, " &'-%c'=", f->short_name);
				put_doubled_quoted(out, kind);
			}
			fputc(' ', out);
			free(kind);
		}
		fputs("]\n    &positional=", out);
		char *kind = kind_with_choices(node->positional, node->positional_choices);
		put_doubled_quoted(out, kind);
		free(kind);
		fputs("\n  ]\n", out);
	}
	fputs("]\n\n", out);
}

static void print_elvish(struct gen *g)
{
	FILE *out = g->out;
	const char *id = g->ident;
	int first = g->cargo ? 2 : 1;

	fprintf(out, "# elvish completion for %s%s, generated by '%s completions elvish'.\n\n",
		g->binary, g->cargo ? " ktstr" : "", dispatch_label);
	fputs("use str\n\n", out);
	print_elvish_tree(g);

	fprintf(out,
		"fn ktstr-%s-offer {|kind word|\n"
		"  if (or (eq $kind file) (eq $kind dir)) {\n"
		"    edit:complete-filename $word\n"
		"  } elif (str:has-prefix $kind 'choice:') {\n"
		"    str:split ' ' (str:trim-prefix $kind 'choice:')\n"
		"  }\n"
		"}\n\n", id);

	if (g->cargo)
		fprintf(out,
			"var ktstr-%s-previous = $nil\n"
			"if (has-key $edit:completion:arg-completer cargo) {\n"
			"  set ktstr-%s-previous = $edit:completion:arg-completer[cargo]\n"
			"}\n\n", id, id);

	/* A function, not a lambda, because only fn bodies catch return. */
	fprintf(out, "fn ktstr-%s-complete {|@words|\n", id);
	fprintf(out, "  var cur = $words[-1]\n");
	if (g->cargo)
		fprintf(out,
			"  if (or (< (count $words) 3) (not-eq $words[1] ktstr)) {\n"
			"    if (not-eq $ktstr-%s-previous $nil) {\n"
			"      $ktstr-%s-previous $@words\n"
			"    }\n"
			"    if (and (== (count $words) 2) (str:has-prefix ktstr $cur)) {\n"
			"      put ktstr\n"
			"    }\n"
			"    return\n"
			"  }\n", id, id);
	fprintf(out,
		"  var tree = $ktstr-%s-tree\n"
		"  var cmdpath = ''\n"
		"  var value-of = ''\n"
		"  var i = (num %d)\n"
		"  while (< $i (- (count $words) 1)) {\n"
		"    var word = $words[$i]\n"
		"    set i = (+ $i 1)\n"
		"    if (not-eq $value-of '') {\n"
		"      set value-of = ''\n"
		"    } elif (eq $word '--') {\n"
		"      edit:complete-filename $cur\n"
		"      return\n"
		"    } elif (str:has-prefix $word '-') {\n"
		"      var flags = $tree[$cmdpath][flags]\n"
		"      if (and (has-key $flags $word) (not-eq $flags[$word] none)) {\n"
		"        set value-of = $word\n"
		"      }\n"
		"    } elif (has-key $tree[$cmdpath][commands] $word) {\n"
		"      if (eq $cmdpath '') {\n"
		"        set cmdpath = $word\n"
		"      } else {\n"
		"        set cmdpath = $cmdpath' '$word\n"
		"      }\n"
		"    }\n"
		"  }\n"
		"  var node = $tree[$cmdpath]\n"
		"  if (not-eq $value-of '') {\n"
		"    ktstr-%s-offer $node[flags][$value-of] $cur\n"
		"  } elif (str:has-prefix $cur '-') {\n"
		"    keys $node[flags]\n"
		"  } elif (> (count $node[commands]) 0) {\n"
		"    keys $node[commands]\n"
		"  } else {\n"
		"    ktstr-%s-offer $node[positional] $cur\n"
		"  }\n"
		"}\n\n"
		"set edit:completion:arg-completer[%s] = $ktstr-%s-complete~\n",
		id, first, id, id, g->binary, id);
}

static void print_powershell(struct gen *g)
{
	FILE *out = g->out;
	int first = g->cargo ? 2 : 1;

	fprintf(out, "# PowerShell completion for %s%s, generated by '%s completions powershell'.\n\n",
		g->binary, g->cargo ? " ktstr" : "", dispatch_label);
	fputs("Register-ArgumentCompleter -Native -CommandName ", out);
	put_doubled_quoted(out, g->binary);
	fputs(" -ScriptBlock {\n"
	      "    param($wordToComplete, $commandAst, $cursorPosition)\n\n"
	      "    $tree = @{\n", out);
	for (size_t i = 0; i < g->count; i++) {
		const struct cli_node *node = g->nodes[i].node;
		char *kind;

		fputs("        ", out);
		put_doubled_quoted(out, g->nodes[i].path);
		fputs(" = @{\n            commands = @{", out);
		for (const struct cli_node *sub = node->subcommands; sub && sub->name; sub++) {
			fprintf(out, " '%s' = ", sub->name);
			put_doubled_quoted(out, sub->summary);
			fputc(';', out);
		}
		/* "FLAG=KIND" strings, because a hashtable would fold -v and -V. */
		fputs(" }\n            flags = @(", out);
		for (const struct cli_flag *f = node->flags; f && f->long_name; f++) {
			char *entry;

			kind = kind_with_choices(f->value, f->choices);
			entry = xasprintf("--%s=%s", f->long_name, kind);
			fputc(' ', out);
			put_doubled_quoted(out, entry);
			free(entry);
			if (f->short_name) {
				entry = xasprintf("-%c=%s", f->short_name, kind);
				fputs(", ", out);
				put_doubled_quoted(out, entry);
				free(entry);
			}
			if (f[1].long_name)
				fputc(',', out);
			free(kind);
		}
		fputs(" )\n            positional = ", out);
		kind = kind_with_choices(node->positional, node->positional_choices);
		put_doubled_quoted(out, kind);
		free(kind);
		fputs("\n        }\n", out);
	}
	fputs("    }\n\n", out);

	fprintf(out,
		"    # The kind of value that flag $name of $node takes, case-sensitively.\n"
		"    function Get-FlagKind($node, $name) {\n"
		"        foreach ($entry in $node.flags) {\n"
		"            $flag, $kind = $entry -split '=', 2\n"
		"            if ($flag -ceq $name) { return $kind }\n"
		"        }\n"
		"        return $null\n"
		"    }\n\n"
		"    # The words before the one under the cursor.\n"
		"    $words = @($commandAst.CommandElements |\n"
		"        Where-Object { $_.Extent.EndOffset -lt $cursorPosition -or\n"
		"            ($_.Extent.EndOffset -eq $cursorPosition -and $wordToComplete -eq '') } |\n"
		"        ForEach-Object { $_.ToString() })\n");
	if (g->cargo)
		fprintf(out,
			"    if ($words.Count -lt 2) {\n"
			"        if ('ktstr' -like \"$wordToComplete*\") {\n"
			"            [System.Management.Automation.CompletionResult]::new('ktstr', 'ktstr', 'ParameterValue', 'test Linux schedulers in VMs')\n"
			"        }\n"
			"        return\n"
			"    }\n"
			"    if ($words[1] -ne 'ktstr') { return }\n");
	fprintf(out,
		"    $cmdpath = ''\n"
		"    $valueOf = ''\n"
		"    for ($i = %d; $i -lt $words.Count; $i++) {\n"
		"        $word = $words[$i]\n"
		"        if ($valueOf -ne '') { $valueOf = ''; continue }\n"
		"        if ($word -eq '--') { return }\n"
		"        if ($word.StartsWith('-')) {\n"
		"            $kind = Get-FlagKind $tree[$cmdpath] $word\n"
		"            if ($kind -and $kind -ne 'none') { $valueOf = $word }\n"
		"        } elseif ($tree[$cmdpath].commands.ContainsKey($word)) {\n"
		"            $cmdpath = if ($cmdpath -eq '') { $word } else { \"$cmdpath $word\" }\n"
		"        }\n"
		"    }\n"
		"\n"
		"    $node = $tree[$cmdpath]\n"
		"    $kind = 'none'\n"
		"    $names = @()\n"
		"    if ($valueOf -ne '') {\n"
		"        $kind = Get-FlagKind $node $valueOf\n"
		"    } elseif ($wordToComplete.StartsWith('-')) {\n"
		"        $names = @($node.flags | ForEach-Object { ($_ -split '=', 2)[0] })\n"
		"    } elseif ($node.commands.Count -gt 0) {\n"
		"        $names = @($node.commands.Keys)\n"
		"    } else {\n"
		"        $kind = $node.positional\n"
		"    }\n"
		"    if ($kind -like 'choice:*') {\n"
		"        $names = $kind.Substring(7).Split(' ')\n"
		"    } elseif ($kind -eq 'file' -or $kind -eq 'dir') {\n"
		"        Get-ChildItem -Path \"$wordToComplete*\" -ErrorAction SilentlyContinue |\n"
		"            Where-Object { $kind -eq 'file' -or $_.PSIsContainer } |\n"
		"            ForEach-Object {\n"
		"                [System.Management.Automation.CompletionResult]::new($_.FullName, $_.Name, 'ProviderItem', $_.FullName)\n"
		"            }\n"
		"        return\n"
		"    }\n"
		"    $names | Where-Object { $_ -clike \"$wordToComplete*\" } | Sort-Object | ForEach-Object {\n"
		"        $tip = if ($node.commands.ContainsKey($_)) { $node.commands[$_] } else { $_ }\n"
		"        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $tip)\n"
		"    }\n"
		"}\n", first);
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
		print_bash(&g);
	else if (!strcmp(shell, "zsh"))
		print_zsh(&g);
	else if (!strcmp(shell, "fish"))
		print_fish(&g);
	else if (!strcmp(shell, "elvish"))
		print_elvish(&g);
	else if (!strcmp(shell, "powershell"))
		print_powershell(&g);
	else
		die_usage("unknown shell '%s'; valid shells: bash zsh fish elvish powershell", shell);

	for (size_t i = 0; i < g.count; i++)
		free(g.nodes[i].path);
	free(g.ident);
	return diag_close_stdout(KTSTR_EXIT_OK);
}
