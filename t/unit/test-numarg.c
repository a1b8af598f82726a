#include "numarg.h"
#include "tap.h"

static void check(const char *text, unsigned long long min, unsigned long long max, int valid,
		  unsigned long long want)
{
	unsigned long long got = 0;
	int ret = numarg_parse(text, min, max, &got);

	is_int(ret == 0, valid, "'%s' in [%llu, %llu] %s", text ? text : "(null)", min, max,
	       valid ? "accepted" : "rejected");
	if (valid && ret == 0)
		is_int((long long)got, (long long)want, "'%s' parses to %llu", text, want);
}

int main(void)
{
	check("0", 0, 10, 1, 0);
	check("10", 0, 10, 1, 10);
	check("11", 0, 10, 0, 0);
	check("0", 1, 10, 0, 0);
	check("", 0, 10, 0, 0);
	check(NULL, 0, 10, 0, 0);
	check("-1", 0, 10, 0, 0);
	check("+1", 0, 10, 0, 0);
	check(" 1", 0, 10, 0, 0);
	check("1 ", 0, 10, 0, 0);
	check("1e3", 0, 5000, 0, 0);
	check("99999999999999999999999", 0, ~0ull, 0, 0);
	check("4096", 1, 4096, 1, 4096);
	return done_testing();
}
