#include "tap.h"
#include "version.h"

static void check_parse(const char *text, int valid)
{
	struct kver v;

	is_int(kver_parse(text, &v) == 0, valid, "parse '%s' %s", text, valid ? "accepted" : "rejected");
}

static int cmp_text(const char *a, const char *b)
{
	struct kver va, vb;

	kver_parse(a, &va);
	kver_parse(b, &vb);
	int c = kver_cmp(&va, &vb);
	return c < 0 ? -1 : c > 0;
}

int main(void)
{
	char buf[64];
	struct kver v, series;

	check_parse("6.14.2", 1);
	check_parse("6.15-rc3", 1);
	check_parse("6.12", 1);
	check_parse("6.12.0", 1);
	check_parse("6", 0);
	check_parse("6.14.2.1", 0);
	check_parse("6.x", 0);
	check_parse("v6.14", 0);
	check_parse("6.14-rc0", 0);
	check_parse("6.14-rc", 0);
	check_parse("6.14.2 ", 0);
	check_parse("", 0);

	kver_parse("6.15-rc3", &v);
	is_str(kver_format(&v, buf, sizeof(buf)), "6.15-rc3", "rc version formats back");
	kver_parse("6.12", &v);
	ok(kver_is_series(&v), "6.12 is a series prefix");
	kver_parse("6.12.0", &v);
	ok(!kver_is_series(&v), "6.12.0 is not a series prefix");

	is_int(cmp_text("6.14.2", "6.14.10"), -1, "patch levels compare as numbers");
	is_int(cmp_text("6.15-rc3", "6.15"), -1, "an rc sorts before its release");
	is_int(cmp_text("6.15-rc3", "6.15-rc10"), -1, "rc numbers compare as numbers");
	is_int(cmp_text("6.15", "6.15.0"), 0, "a missing patch level is zero");
	is_int(cmp_text("7.0", "6.99.99"), 1, "major outranks minor and patch");

	kver_parse("6.12", &series);
	kver_parse("6.12.8", &v);
	ok(kver_in_series(&series, &v), "6.12.8 is in series 6.12");
	kver_parse("6.13.1", &v);
	ok(!kver_in_series(&series, &v), "6.13.1 is not in series 6.12");
	kver_parse("6.12-rc2", &v);
	ok(!kver_in_series(&series, &v), "an rc is not a release of the series");
	return done_testing();
}
