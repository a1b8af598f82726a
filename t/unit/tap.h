/* Minimal TAP producer for the C unit tests, in the style of kselftest. */
#ifndef KTSTR_TAP_H
#define KTSTR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static void tap_result(int passed, const char *fmt, va_list ap)
{
	tap_count++;
	if (!passed)
		tap_failed++;
	printf("%sok %d - ", passed ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
}

__attribute__((format(printf, 2, 3))) static int ok(int passed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_result(passed, fmt, ap);
	va_end(ap);
	return passed;
}

#define is_int(got, want, ...)                                                         \
	do {                                                                           \
		long long got_ = (got), want_ = (want);                                \
		if (!ok(got_ == want_, __VA_ARGS__))                                   \
			printf("# got %lld, expected %lld\n", got_, want_);            \
	} while (0)

#define is_str(got, want, ...)                                                         \
	do {                                                                           \
		const char *got_ = (got), *want_ = (want);                             \
		int same_ = got_ && want_ ? !strcmp(got_, want_) : got_ == want_;      \
		if (!ok(same_, __VA_ARGS__))                                           \
			printf("# got '%s', expected '%s'\n", got_ ? got_ : "(null)",  \
			       want_ ? want_ : "(null)");                              \
	} while (0)

static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
