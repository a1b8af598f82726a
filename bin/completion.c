/* Helpers that the completion script generators share. */
#include "completion.h"

#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *completion_value_kind(enum cli_value value)
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
char *completion_kind(enum cli_value value, const char *const *choices)
{
	char *kind;

	if (value != CLI_CHOICE)
		return xstrdup(completion_value_kind(value));
	kind = xstrdup("choice:");
	for (size_t i = 0; choices && choices[i]; i++) {
		char *next = xasprintf("%s%s%s", kind, i ? " " : "", choices[i]);

		free(kind);
		kind = next;
	}
	return kind;
}

/* Print s in single quotes for bash, zsh and fish. */
void completion_put_sh_quoted(FILE *out, const char *s)
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
void completion_put_doubled_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', out);
		fputc(*s, out);
	}
	fputc('\'', out);
}

/* The flag spellings of a node, space-separated: "--json --help -h". */
char *completion_flag_words(const struct cli_node *node)
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

char *completion_command_words(const struct cli_node *node)
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
void completion_sh_tables(struct gen *g)
{
	FILE *out = g->out;

	fprintf(out, "# Set REPLY to the subcommands of the command path $1.\n");
	fprintf(out, "_ktstr_%s_commands() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		char *words = completion_command_words(g->nodes[i].node);

		if (*words) {
			fputc('\t', out);
			completion_put_sh_quoted(out, g->nodes[i].path);
			fputs(") REPLY=", out);
			completion_put_sh_quoted(out, words);
			fputs(" ;;\n", out);
		}
		free(words);
	}
	fprintf(out, "\t*) REPLY='' ;;\n\tesac\n}\n\n");

	fprintf(out, "# Set REPLY to the flags of the command path $1.\n");
	fprintf(out, "_ktstr_%s_flags() {\n\tcase $1 in\n", g->ident);
	for (size_t i = 0; i < g->count; i++) {
		char *words = completion_flag_words(g->nodes[i].node);

		fputc('\t', out);
		completion_put_sh_quoted(out, g->nodes[i].path);
		fputs(") REPLY=", out);
		completion_put_sh_quoted(out, words);
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
			kind = completion_kind(f->value, f->choices);
			pattern = f->short_name
				? xasprintf("%s|--%s' | '%s|-%c", g->nodes[i].path, f->long_name,
					    g->nodes[i].path, f->short_name)
				: xasprintf("%s|--%s", g->nodes[i].path, f->long_name);
			fprintf(out, "\t'%s') REPLY=", pattern);
			completion_put_sh_quoted(out, kind);
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
		kind = completion_kind(node->positional, node->positional_choices);
		fputc('\t', out);
		completion_put_sh_quoted(out, g->nodes[i].path);
		fputs(") REPLY=", out);
		completion_put_sh_quoted(out, kind);
		fputs(" ;;\n", out);
		free(kind);
	}
	fprintf(out, "\t*) REPLY=none ;;\n\tesac\n}\n\n");
}
