#include "diag.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *diag_progname = "ktstr";
int diag_verbose;

void diag_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	diag_progname = slash ? slash + 1 : argv0;
}

/* Print one line; errnum > 0 appends strerror(errnum). */
static void vreport(const char *prefix, int errnum, const char *fmt, va_list ap)
{
	char text[4096];

	vsnprintf(text, sizeof(text), fmt, ap);
	fflush(stdout);
	if (errnum > 0)
		fprintf(stderr, "%s: %s%s: %s\n", diag_progname, prefix, text, strerror(errnum));
	else
		fprintf(stderr, "%s: %s%s\n", diag_progname, prefix, text);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
	exit(KTSTR_EXIT_ERROR);
}

void die_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("", saved, fmt, ap);
	va_end(ap);
	exit(KTSTR_EXIT_ERROR);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
	exit(status);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", diag_progname);
	exit(KTSTR_EXIT_ERROR);
}

void die_bad_option(char **argv)
{
	const char *arg = argv[optind - 1];

	/* getopt_long sets optopt to the val of a known long option that was
	 * given an argument it does not take. */
	if (optopt && arg[1] == '-')
		die_usage("option '%.*s' takes no argument", (int)strcspn(arg, "="), arg);
	if (optopt && arg[1] != '-')
		die_usage("unknown option '-%c'", optopt);
	die_usage("unknown option '%s'", arg);
}

int err_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("", saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

void warn_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", 0, fmt, ap);
	va_end(ap);
}

void warn_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void info_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
}

void debug_msg(const char *fmt, ...)
{
	va_list ap;

	if (diag_verbose <= 0)
		return;
	va_start(ap, fmt);
	vreport("", 0, fmt, ap);
	va_end(ap);
}

int diag_close_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno != EPIPE)
			err_errno("write standard output");
		return status ? status : KTSTR_EXIT_ERROR;
	}
	return status;
}
