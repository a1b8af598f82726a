/* Flag lists from --ktstr-list-flags, the power set under "requires", and
 * profile names. */
#include "profile.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* scx_fixture --ktstr-list-flags, verbatim. */
static const char fixture_flags[] =
	"[{\"name\":\"llc\",\"args\":[\"--llc\"],\"requires\":[]},"
	"{\"name\":\"steal\",\"args\":[\"--steal\"],\"requires\":[\"llc\"]},"
	"{\"name\":\"borrow\",\"args\":[\"--borrow\"],\"requires\":[]}]\n";

static int parse(const char *text, struct profile_flags *flags, char **error)
{
	return profile_flags_parse(text, strlen(text), flags, error);
}

/* The error text for a bad flag list, or "" when it parsed.  Malloc'd. */
static char *parse_error(const char *text)
{
	struct profile_flags flags;
	char *error = NULL;

	if (parse(text, &flags, &error) == 0) {
		profile_flags_release(&flags);
		return strdup("");
	}
	return error;
}

static char *joined_names(const struct profile *profiles, size_t count)
{
	char *text = strdup("");

	for (size_t i = 0; i < count; i++) {
		char *longer = xasprintf("%s%s%s", text, i ? " " : "", profiles[i].name);
		free(text);
		text = longer;
	}
	return text;
}

static void test_fixture_list(void)
{
	struct profile_flags flags;
	struct profile *profiles;
	size_t count;
	char *error = NULL, *names;

	ok(parse(fixture_flags, &flags, &error) == 0, "fixture flag list parses");
	is_int(flags.count, 3, "three flags");
	is_str(flags.items[1].name, "steal", "second flag name");
	is_str(flags.items[1].args.items[0], "--steal", "second flag argument");
	is_int(flags.items[1].nr_requires, 1, "steal has one requirement");
	is_int(flags.items[1].requires[0], 0, "steal requires the first flag");

	ok(profile_power_set(&flags, &profiles, &count, &error) == 0, "power set of three flags");
	names = joined_names(profiles, count);
	is_str(names, "default llc llc+steal borrow llc+borrow llc+steal+borrow",
	       "power set keeps sets whose requirements hold, in mask order");
	free(names);
	is_int(profiles[0].flags.len, 0, "default has no flags");
	is_int(profiles[2].args.len, 2, "llc+steal has two arguments");
	is_str(profiles[2].args.items[0], "--llc", "llc+steal first argument");
	is_str(profiles[2].args.items[1], "--steal", "llc+steal second argument");
	is_int(profiles[5].mask, 7, "all three flags set all mask bits");
	profile_free(profiles, count);

	ok(profile_select(&flags, "default,llc,llc+steal", &profiles, &count, &error) == 0,
	   "select three profiles by name");
	names = joined_names(profiles, count);
	is_str(names, "default llc llc+steal", "selected profiles in the order given");
	free(names);
	profile_free(profiles, count);

	ok(profile_select(&flags, "borrow+steal+llc,llc,llc+steal+borrow", &profiles, &count, &error) == 0,
	   "select with flags out of order");
	names = joined_names(profiles, count);
	is_str(names, "llc+steal+borrow llc", "names made canonical and repeats dropped");
	free(names);
	profile_free(profiles, count);

	ok(profile_select(&flags, "llc,bogus", &profiles, &count, &error) != 0, "unknown profile rejected");
	is_str(error, "unknown profile 'bogus': no flag 'bogus' (profiles: default, llc, llc+steal, borrow, "
		    "llc+borrow, llc+steal+borrow)",
	       "unknown profile error lists valid profiles");
	free(error);

	ok(profile_select(&flags, "steal", &profiles, &count, &error) != 0, "profile missing a requirement");
	is_str(error, "invalid profile 'steal': flag 'steal' requires 'llc'", "requirement error names both");
	free(error);

	ok(profile_select(&flags, "llc,", &profiles, &count, &error) != 0, "empty profile name rejected");
	is_str(error, "empty profile name", "empty name error");
	free(error);

	names = profile_names(&flags);
	is_str(names, "default, llc, llc+steal, borrow, llc+borrow, llc+steal+borrow", "profile names for messages");
	free(names);
	profile_flags_release(&flags);
}

static void test_empty_and_default(void)
{
	struct profile_flags flags;
	struct profile *profiles;
	size_t count;
	char *error = NULL;

	ok(parse("[]", &flags, &error) == 0, "empty flag list parses");
	ok(profile_power_set(&flags, &profiles, &count, &error) == 0, "power set of no flags");
	is_int(count, 1, "no flags give one profile");
	is_str(profiles[0].name, "default", "the one profile is default");
	profile_free(profiles, count);
	profile_flags_release(&flags);

	profile_default(&profiles, &count);
	is_int(count, 1, "default profile alone");
	is_str(profiles[0].name, "default", "default profile name");
	is_int(profiles[0].args.len, 0, "default profile has no arguments");
	profile_free(profiles, count);

	ok(parse("[{\"name\":\"solo\"}]", &flags, &error) == 0, "args and requires are optional");
	is_int(flags.items[0].args.len, 0, "missing args is empty");
	profile_flags_release(&flags);
}

static void test_bad_lists(void)
{
	static const struct {
		const char *text;
		const char *expected;
	} cases[] = {
		{ "garbage", "not JSON: " },
		{ "{\"name\":\"llc\"}", "not a JSON array of flags" },
		{ "[1]", "element 1 is not an object" },
		{ "[{\"args\":[]}]", "element 1 has no string 'name'" },
		{ "[{\"name\":\"default\"}]", "flag name 'default' is reserved for the profile without flags" },
		{ "[{\"name\":\"a+b\"}]", "flag name 'a+b' contains '+', ',' or white space" },
		{ "[{\"name\":\"\"}]", "flag name '' is empty" },
		{ "[{\"name\":\"llc\"},{\"name\":\"llc\"}]", "flag 'llc' is listed twice" },
		{ "[{\"name\":\"llc\",\"args\":\"--llc\"}]", "flag 'llc': 'args' is not an array of strings" },
		{ "[{\"name\":\"llc\",\"args\":[1]}]", "flag 'llc': 'args' is not an array of strings" },
		{ "[{\"name\":\"llc\",\"requires\":[\"numa\"]}]", "flag 'llc' requires 'numa', which is not listed" },
		{ "[{\"name\":\"a\",\"requires\":[\"b\"]},{\"name\":\"b\",\"requires\":[\"a\"]}]",
		  "requirements form a cycle: a -> b -> a" },
		{ "[{\"name\":\"a\",\"requires\":[\"a\"]}]", "requirements form a cycle: a -> a" },
		{ "[{\"name\":\"x\"},{\"name\":\"a\",\"requires\":[\"b\"]},{\"name\":\"b\",\"requires\":[\"c\"]},"
		  "{\"name\":\"c\",\"requires\":[\"a\",\"x\"]}]",
		  "requirements form a cycle: a -> b -> c -> a" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *error = parse_error(cases[i].text);
		size_t want = strlen(cases[i].expected);

		ok(!strncmp(error, cases[i].expected, want) && (want > 0 || !*error), "reject %s", cases[i].text);
		if (strncmp(error, cases[i].expected, want))
			printf("# got '%s'\n", error);
		free(error);
	}

	char *error = parse_error("[{\"name\":\"a\",\"requires\":[\"b\"]},{\"name\":\"b\"}]");
	is_str(error, "", "a chain of requirements is not a cycle");
	free(error);
}

static void test_too_many(void)
{
	char *text = strdup("[");
	struct profile_flags flags;
	struct profile *profiles;
	size_t count;
	char *error = NULL;

	for (int i = 0; i < PROFILE_MAX_FLAGS + 1; i++) {
		char *longer = xasprintf("%s%s{\"name\":\"f%d\"}", text, i ? "," : "", i);
		free(text);
		text = longer;
	}
	char *closed = xasprintf("%s]", text);
	ok(parse(closed, &flags, &error) == 0, "25 flags parse");
	ok(profile_power_set(&flags, &profiles, &count, &error) != 0, "25 flags are too many for all profiles");
	ok(error && strstr(error, "--profiles") != NULL, "error points to --profiles");
	free(error);
	ok(profile_select(&flags, "f0+f24", &profiles, &count, &error) == 0, "one profile of 25 flags selects");
	is_str(profiles[0].name, "f0+f24", "profile of the first and last flag");
	profile_free(profiles, count);
	profile_flags_release(&flags);
	free(closed);
	free(text);
}

static void test_query(void)
{
	struct profile_flags flags;
	char *error = NULL;

	is_int(profile_query("/bin/false", &flags, &error), PROFILE_QUERY_UNSUPPORTED, "non-zero exit is unsupported");
	is_str(error, "exit status 1", "unsupported reason names the status");
	free(error);
	is_int(profile_query("/bin/true", &flags, &error), PROFILE_QUERY_UNSUPPORTED, "no output is unsupported");
	is_str(error, "printed nothing", "unsupported reason for no output");
	free(error);
	is_int(profile_query("/nonexistent/scheduler", &flags, &error), PROFILE_QUERY_FAILED,
	       "missing binary fails");
	is_str(error, "cannot run it (exit status 127)", "missing binary reason");
	free(error);
	is_int(profile_query("/bin/echo", &flags, &error), PROFILE_QUERY_FAILED, "echo's output is not a flag list");
	ok(error && !strncmp(error, "invalid output: not JSON", 24), "invalid output reason");
	free(error);
}

int main(void)
{
	test_fixture_list();
	test_empty_and_default();
	test_bad_lists();
	test_too_many();
	test_query();
	return done_testing();
}
