#include "cpulist.h"
#include "tap.h"
#include "worktype.h"

static void check_round_trip(const char *text, const char *want)
{
	struct cpulist set;
	char buf[256];

	if (!ok(cpulist_parse(text, &set, NULL) == 0, "parse '%s'", text))
		return;
	is_str(cpulist_format(&set, buf, sizeof(buf)), want, "'%s' formats as '%s'", text, want);
}

static void check_invalid(const char *text, const char *cause)
{
	struct cpulist set;
	const char *why = NULL;

	is_int(cpulist_parse(text, &set, &why), -1, "'%s' is rejected", text);
	is_str(why, cause, "'%s' names the cause", text);
}

int main(void)
{
	struct cpulist a, b;
	enum work_type type;

	check_round_trip("0", "0");
	check_round_trip("0-3", "0-3");
	check_round_trip("3,1,2", "1-3");
	check_round_trip("0-1,4,6-7", "0-1,4,6-7");
	ok(cpulist_parse("0-1\n", &a, NULL) == 0 && cpulist_count(&a) == 2,
	   "a trailing newline, as sysfs writes it, is accepted");
	check_round_trip("", "");
	check_round_trip("1023", "1023");

	check_invalid("1024", "CPU number larger than 1023");
	check_invalid("3-1", "range ends before it starts");
	check_invalid("0,", "expected a CPU number or a range such as 0-3");
	check_invalid("a", "expected a CPU number or a range such as 0-3");
	check_invalid("1 2", "expected a CPU number or a range such as 0-3");
	check_invalid("-1", "expected a CPU number or a range such as 0-3");

	cpulist_parse("0-3", &a, NULL);
	cpulist_parse("1,3", &b, NULL);
	is_int(cpulist_count(&a), 4, "0-3 has 4 CPUs");
	is_int(cpulist_max(&a), 3, "highest CPU of 0-3 is 3");
	ok(cpulist_subset(&b, &a), "1,3 is a subset of 0-3");
	ok(!cpulist_subset(&a, &b), "0-3 is not a subset of 1,3");
	cpulist_clear(&a);
	is_int(cpulist_max(&a), -1, "empty set has no highest CPU");
	cpulist_add(&a, 200);
	cpulist_union(&a, &b);
	is_int(cpulist_count(&a), 3, "union of {200} and 1,3 has 3 CPUs");
	ok(cpulist_has(&a, 200), "union keeps CPU 200");

	is_int(work_type_parse("FutexPingPong", &type), 0, "FutexPingPong is a work type");
	is_int(type, WORK_FUTEX_PING_PONG, "FutexPingPong parses to its enum");
	ok(work_type_paired(type), "FutexPingPong runs in pairs");
	is_int(work_type_parse("cpuspin", &type), -1, "work type names are case-sensitive");
	for (int i = 0; i < WORK_TYPE_COUNT; i++) {
		enum work_type back;
		work_type_parse(work_type_name((enum work_type)i), &back);
		is_int(back, i, "%s parses back to itself", work_type_name((enum work_type)i));
	}
	return done_testing();
}
