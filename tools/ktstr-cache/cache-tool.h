/* ktstr-cache: the subcommands and the helpers they share. */
#ifndef KTSTR_CACHE_TOOL_H
#define KTSTR_CACHE_TOOL_H

#include <stdbool.h>
#include <stddef.h>

int cmd_store(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_clean(int argc, char **argv);

/* The command users type to reach the cache from the dispatcher: the
 * KTSTR_LABEL it exports ("cargo ktstr" or "ktstr"), else "cargo ktstr". */
const char *user_command(void);
/* A status line on stderr, prefixed with the dispatcher's label when it ran
 * us and with our own name otherwise. */
void status_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The cache root, or exit 2 after paths_cache_root()'s message. */
char *cache_root_or_die(void);
/* Create the root (and .locks) for writing, or exit 2 naming it. */
void cache_root_prepare(const char *root);
/* Remove .tmp-*-<pid> directories whose process is gone.  Returns how many
 * it removed. */
size_t cache_sweep_temp(const char *root);
/* Print usage text for a subcommand on stdout and exit 0. */
void print_help(const char *text) __attribute__((noreturn));
/* Report a usage error of subcommand sub and exit 2. */
void usage_error(const char *sub, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Report the option getopt_long() rejected (it returned '?' or ':'), exit 2. */
void option_error(const char *sub, int result, char **argv) __attribute__((noreturn));

#endif
