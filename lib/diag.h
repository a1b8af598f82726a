/* Diagnostics and exit statuses shared by every ktstr program.
 *
 * Every message is one line on stderr: "<program>: <what failed> '<subject>': <cause>".
 * die*() exit; err_*() print and return -1 so that library code can write
 * "return err_msg(...)"; warn_*() print "warning:" and go on.
 */
#ifndef KTSTR_DIAG_H
#define KTSTR_DIAG_H

#include <stdbool.h>
#include <stdnoreturn.h>

enum ktstr_exit {
	KTSTR_EXIT_OK = 0,
	KTSTR_EXIT_NO = 1,        /* the tool ran and the result is negative, or a check failed */
	KTSTR_EXIT_ERROR = 2,     /* usage or runtime error */
	KTSTR_EXIT_TIMEOUT = 124, /* a child run hung past its timeout */
	KTSTR_EXIT_TOOL = 125,    /* the tool itself failed while running a child */
	KTSTR_EXIT_NOEXEC = 126,  /* the command was found but could not be run */
	KTSTR_EXIT_NOTFOUND = 127 /* the command was not found */
};

extern const char *diag_progname;
extern int diag_verbose;

/* Set the program name used as the message prefix (the basename of argv0). */
void diag_init(const char *argv0);

noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the message and a pointer to --help, then exit 2. */
noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* die_usage() for the option getopt_long() just rejected with '?':
 * unknown, or a long option given a value it does not take. */
noreturn void die_bad_option(char **argv);

int err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A status line for humans ("<program>: <text>"), printed on stderr. */
void info_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like info_msg, only with -v (diag_verbose > 0). */
void debug_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flush and close stdout; a write error (full disk, closed pipe) becomes exit 2. */
int diag_close_stdout(int status);

#endif
