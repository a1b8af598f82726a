#include "numarg.h"

#include <errno.h>
#include <stdlib.h>

int numarg_parse(const char *text, unsigned long long min, unsigned long long max,
		 unsigned long long *out)
{
	char *end;
	unsigned long long value;

	/* strtoull alone would accept leading spaces, '+' and even '-'. */
	if (!text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || *end || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}
