/* Cycle collapse, statistics and load-log parsing on real verifier logs
 * from t/fixtures/verifier (captured on the Debian 7.3 sched_ext kernel). */
#include "verifier_log.h"
#include "fsutil.h"
#include "xalloc.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static char *read_fixture(const char *name, size_t *len)
{
	const char *src = getenv("KTSTR_SRC");
	char *path = xasprintf("%s/t/fixtures/verifier/%s", src ? src : ".", name);
	char *text = fs_read_file(path, len);

	if (!text) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	free(path);
	return text;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

static size_t count_substr(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The marker lines open and close blocks in order, never below depth 0. */
static int markers_balanced(const char *text)
{
	int depth = 0;
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len == strlen("--- end repeat ---") && !strncmp(line, "--- end repeat ---", len))
			depth--;
		else if (!strncmp(line, "--- ", 4) && len > 10 && !strncmp(line + len - 10, " lines ---", 10))
			depth++;
		if (depth < 0)
			return 0;
		line += len + (nl ? 1 : 0);
	}
	return depth == 0;
}

static void test_normalize(void)
{
	static const struct {
		const char *line;
		const char *expected;
	} cases[] = {
		{ "12: (54) w0 &= 1                      ; R0=scalar(smin=0)", "12: (54) w0 &= 1" },
		{ "2: (71) r1 = *(u8 *)(r1 +0)           ;", "2: (71) r1 = *(u8 *)(r1 +0)" },
		{ "31: (05) goto pc-1", "31: (05) goto pc-1" },
		{ "0: R1=ctx() R10=fp0", "0:" },
		{ "2: frame1: R1=ctx()", "2:" },
		{ "from 19 to 11: R0=scalar() R1=64", "from 19 to 11:" },
		{ "; R0=scalar()", ";" },
		{ "; frame1: R6=1", ";" },
		{ "; if (count) @ scx_fixture.bpf.c:115", "; if (count) @ scx_fixture.bpf.c:115" },
		{ "processed 13 insns (limit 1000000)", "processed 13 insns (limit 1000000)" },
		{ "infinite loop detected at insn 31  ", "infinite loop detected at insn 31" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = verifier_log_normalize(cases[i].line, strlen(cases[i].line));
		char *got = xstrndup(cases[i].line, len);

		is_str(got, cases[i].expected, "normalise '%s'", cases[i].line);
		free(got);
	}
}

static void test_no_cycle(void)
{
	size_t len, out_len;
	char *log = read_fixture("fail-verify.log", &len);
	char *out = verifier_log_collapse(log, len, &out_len);

	ok(out_len == len && !memcmp(out, log, len), "log without a cycle is unchanged");
	free(out);
	free(log);
}

static void test_single_loop(void)
{
	size_t len, out_len;
	char *log = read_fixture("verify-loop.log", &len);
	char *out = verifier_log_collapse(log, len, &out_len);

	is_int(count_lines(log), 744, "verify-loop fixture has 744 lines");
	is_int(count_lines(out), 65, "64 rounds of 11 lines fold to 65 lines");
	is_int(count_substr(out, "--- 64x of the following 11 lines ---\n"), 1, "one block of 64 rounds");
	is_int(count_substr(out, "--- 62 identical iterations omitted ---\n"), 1,
	       "62 middle rounds are omitted");
	ok(markers_balanced(out), "single loop markers balanced");
	ok(strstr(out, "14: (5c) w0 &= w7                     ; R0=0 R7=0\n") != NULL,
	   "first round kept with its register values");
	ok(strstr(out, "19: (ae) if w7 < w1 goto pc-9         ; R1=64 R7=64\n") != NULL,
	   "last round kept with its register values");
	ok(strstr(out, "R7=30 ") == NULL, "a middle round is gone");
	ok(strstr(out, "processed 597 insns") != NULL, "statistics line kept");

	const char *first = strstr(log, "; if (bpf_get_prandom_u32() & 1)");
	const char *marker = strstr(out, "--- 64x");
	ok(first && marker && !strncmp(strchr(marker, '\n') + 1, first, 200),
	   "block starts at the first round's source line");

	size_t again_len;
	char *again = verifier_log_collapse(out, out_len, &again_len);
	ok(again_len == out_len && !strcmp(again, out), "collapsing twice changes nothing");
	free(again);
	free(out);
	free(log);
}

static void test_nested_loop(void)
{
	size_t len, out_len;
	char *log = read_fixture("nested-loop.log", &len);
	char *out = verifier_log_collapse(log, len, &out_len);

	is_int(count_lines(out), 147, "nested loop folds from 516 to 147 lines");
	is_int(count_substr(out, "--- 4x of the following 56 lines ---\n"), 1, "outer loop folded once");
	is_int(count_substr(out, "--- 2 identical iterations omitted ---\n"), 1, "2 outer rounds omitted");
	is_int(count_substr(out, "--- 6x of the following 17 lines ---\n"), 2,
	       "inner loop folded in the first and last outer round");
	is_int(count_substr(out, "--- 4 identical iterations omitted ---\n"), 2, "4 inner rounds omitted");
	ok(markers_balanced(out), "nested markers balanced");

	const char *outer = strstr(out, "--- 4x");
	const char *inner = strstr(out, "--- 6x");
	ok(outer && inner && outer < inner, "inner block sits inside the outer one");
	ok(strstr(out, "47: (05) goto pc-1\n47: (05) goto pc-1\n") != NULL,
	   "one-line loop shorter than the minimum period is kept");
	free(out);
	free(log);
}

static void test_short_and_edges(void)
{
	struct strvec lines = STRVEC_INIT;
	char *text, *out;
	size_t out_len;

	/* 14 lines: two rounds of a 7-line loop.  Shorter than the minimum. */
	text = xstrdup("");
	for (int round = 0; round < 2; round++) {
		for (int insn = 0; insn < 7; insn++) {
			char *next = xasprintf("%s%d: (07) r1 += 1 ; R1=%d\n", text, insn, round);
			free(text);
			text = next;
		}
	}
	out = verifier_log_collapse(text, strlen(text), &out_len);
	is_str(out, text, "log under 15 lines unchanged");
	free(out);
	free(text);

	/* Three rounds of 5 lines: the smallest loop that collapses, and no final newline. */
	for (int round = 0; round < 3; round++) {
		for (int insn = 0; insn < 5; insn++)
			strvec_pushf(&lines, "%d: (07) r1 += 1 ; R1=%d", insn, round * 5 + insn);
	}
	strvec_push(&lines, "processed 15 insns (limit 1000000)");
	size_t total = 0;
	for (size_t i = 0; i < lines.len; i++)
		total += strlen(lines.items[i]) + 1;
	text = xmalloc(total + 1);
	text[0] = '\0';
	for (size_t i = 0; i < lines.len; i++) {
		strcat(text, lines.items[i]);
		if (i + 1 < lines.len)
			strcat(text, "\n");
	}
	out = verifier_log_collapse(text, strlen(text), &out_len);
	ok(strstr(out, "--- 3x of the following 5 lines ---\n") != NULL, "three rounds of five lines fold");
	ok(strstr(out, "--- 1 identical iteration omitted ---\n") != NULL, "one omitted round is singular");
	ok(out_len > 0 && out[out_len - 1] != '\n', "missing final newline stays missing");
	free(out);
	free(text);
	strvec_release(&lines);

	/* Four lines per round is below the minimum period. */
	text = xstrdup("");
	for (int round = 0; round < 8; round++) {
		for (int insn = 0; insn < 4; insn++) {
			char *next = xasprintf("%s%d: (07) r1 += 1 ; R1=%d\n", text, insn, round);
			free(text);
			text = next;
		}
	}
	out = verifier_log_collapse(text, strlen(text), &out_len);
	is_str(out, text, "loop of 4 lines is below the minimum period");
	free(out);
	free(text);
}

/* A million lines: the single-loop fixture's round repeated, between unique lines. */
static void test_million_lines(void)
{
	size_t len, out_len, rounds = 90000;
	char *log = read_fixture("verify-loop.log", &len);
	const char *start = strstr(log, "; if (bpf_get_prandom_u32() & 1)");
	const char *stop = strstr(start + 1, "; if (bpf_get_prandom_u32() & 1)");
	size_t round_len = (size_t)(stop - start);
	char *big = xmalloc(round_len * rounds + 64);
	size_t pos = 0;

	pos += (size_t)sprintf(big, "head line\n");
	for (size_t i = 0; i < rounds; i++) {
		memcpy(big + pos, start, round_len);
		pos += round_len;
	}
	pos += (size_t)sprintf(big + pos, "tail line\n");
	big[pos] = '\0';

	char *out = verifier_log_collapse(big, pos, &out_len);
	is_int(count_lines(big), rounds * 11 + 2, "synthetic log has 990002 lines");
	ok(strstr(out, "--- 90000x of the following 11 lines ---\n") != NULL, "90000 rounds fold into one block");
	is_int(count_lines(out), 2 + 2 * 11 + 3, "folded log keeps two rounds and three markers");
	free(out);
	free(big);
	free(log);
}

static void test_stats(void)
{
	size_t len;
	char *log = read_fixture("verify-loop.log", &len);
	struct verifier_log_stats stats;

	ok(verifier_log_parse_stats(log, len, &stats), "statistics line found");
	is_int(stats.processed_insns, 597, "processed insns");
	is_int(stats.insn_limit, 1000000, "insn limit");
	is_int(stats.max_states_per_insn, 4, "max states per insn");
	is_int(stats.total_states, 11, "total states");
	is_int(stats.peak_states, 11, "peak states");
	is_int(stats.mark_read, 0, "mark_read");
	is_int(stats.time_usec, -1, "no verification time at log level 1");
	ok(stats.stack_depth == NULL, "no stack depth at log level 1");
	verifier_log_stats_release(&stats);

	const char *level2 = "processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 "
			     "peak_states 0 mark_read 0\nverification time 37 usec\nstack depth 16+0\n";
	ok(verifier_log_parse_stats(level2, strlen(level2), &stats), "stats with time and stack parse");
	is_int(stats.time_usec, 37, "verification time");
	is_str(stats.stack_depth, "16+0", "stack depth per subprogram");
	verifier_log_stats_release(&stats);

	ok(!verifier_log_parse_stats("no stats here\n", 14, &stats), "log without stats");
	verifier_log_stats_release(&stats);
	free(log);
}

static void test_find_progs(void)
{
	size_t len;
	char *log = read_fixture("fail-verify.log", &len);
	struct verifier_log_prog *progs;
	size_t count = verifier_log_find_progs(log, len, &progs);

	is_int(count, 1, "one program load log");
	if (count == 1) {
		is_str(progs[0].program, "fixture_enqueue", "program name");
		is_str(progs[0].error, "-EACCES", "load error");
		ok(progs[0].has_stats && progs[0].stats.processed_insns == 13, "program statistics");
		ok(!strncmp(progs[0].body, "0: R1=ctx() R10=fp0\n", 20), "body starts after BEGIN");
		ok(progs[0].body_len > 0 && !strncmp(progs[0].body + progs[0].body_len - 1, "\n", 1) &&
		   strstr(progs[0].body, "-- END PROG LOAD LOG --") == progs[0].body + progs[0].body_len,
		   "body ends before END");
	}
	verifier_log_progs_free(progs, count);
	free(log);

	count = verifier_log_find_progs("scx_simple: enabled\n", 20, &progs);
	is_int(count, 0, "output without a load log");
	verifier_log_progs_free(progs, count);
}

static void test_limit(void)
{
	ok(!verifier_log_near_limit(749999), "749999 insns is below 75%%");
	ok(verifier_log_near_limit(750000), "750000 insns is at 75%%");
	ok(verifier_log_limit_pct(250000) == 25.0, "250000 insns is 25%%");
}

int main(void)
{
	test_normalize();
	test_no_cycle();
	test_single_loop();
	test_nested_loop();
	test_short_and_edges();
	test_million_lines();
	test_stats();
	test_find_progs();
	test_limit();
	return done_testing();
}
