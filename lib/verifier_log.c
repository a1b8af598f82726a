#include "verifier_log.h"

#include "xalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double verifier_log_limit_pct(long long insns)
{
	return 100.0 * (double)insns / (double)VERIFIER_INSN_LIMIT;
}

bool verifier_log_near_limit(long long insns)
{
	return insns * 100 >= VERIFIER_INSN_LIMIT * VERIFIER_NEAR_LIMIT_PCT;
}

/* ---- Normalisation ---- */

/* Length of the run of decimal digits at p (at most len). */
static size_t digits_at(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && isdigit((unsigned char)p[n]))
		n++;
	return n;
}

static bool starts_with(const char *p, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	return len >= plen && !memcmp(p, prefix, plen);
}

/* True when p starts a register or frame state: "R0=", "R10_w=", "frame1:", "fp-8=". */
static bool is_state_start(const char *p, size_t len)
{
	if (len >= 2 && p[0] == 'R' && isdigit((unsigned char)p[1]))
		return true;
	if (starts_with(p, len, "frame") && len > 5 && isdigit((unsigned char)p[5]))
		return true;
	return starts_with(p, len, "fp-") || starts_with(p, len, "fp0");
}

static size_t trim_right(const char *line, size_t len)
{
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	return len;
}

/*
 * The verifier prints the same instruction with different register values on
 * each loop iteration, so the values are cut before lines are compared:
 *   "12: (54) w0 &= 1   ; R0=scalar(...)"  ->  "12: (54) w0 &= 1"
 *   "2: R1=ctx() R7=trusted_ptr_task_struct()"  ->  "2:"
 *   "2: frame1: R1=..."  ->  "2:"
 *   "from 19 to 11: R0=... R1=..."  ->  "from 19 to 11:"
 *   "; R0=scalar()" or "; frame1: R6=..."  ->  ";"
 * Source comments ("; if (count) @ file.bpf.c:115") and everything else are
 * kept; instruction indices are kept, so only walks over the same
 * instructions can match.
 */
size_t verifier_log_normalize(const char *line, size_t len)
{
	size_t n;

	len = trim_right(line, len);

	n = digits_at(line, len);
	if (n > 0 && n + 1 < len && line[n] == ':' && line[n + 1] == ' ') {
		const char *rest = line + n + 2;
		size_t rest_len = len - n - 2;

		if (rest_len > 0 && rest[0] == '(') {
			const char *semicolon = memchr(rest, ';', rest_len);

			if (semicolon)
				return trim_right(line, (size_t)(semicolon - line));
			return len;
		}
		if (is_state_start(rest, rest_len))
			return n + 1;
		return len;
	}

	if (starts_with(line, len, "from ")) {
		const char *p = line + 5;
		size_t left = len - 5;

		n = digits_at(p, left);
		if (n > 0 && starts_with(p + n, left - n, " to ")) {
			p += n + 4;
			left -= n + 4;
			n = digits_at(p, left);
			if (n > 0 && n < left && p[n] == ':')
				return (size_t)(p + n + 1 - line);
		}
		return len;
	}

	if (starts_with(line, len, "; ") && is_state_start(line + 2, len - 2))
		return 1;
	return len;
}

/* ---- Lines and identifiers ---- */

struct log_line {
	const char *text; /* not NUL-terminated */
	size_t len;       /* without the newline */
};

struct line_vec {
	struct log_line *items;
	size_t len;
	size_t cap;
};

static void line_push(struct line_vec *vec, const char *text, size_t len)
{
	if (vec->len == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 256;
		vec->items = xrealloc(vec->items, vec->cap * sizeof(*vec->items));
	}
	vec->items[vec->len].text = text;
	vec->items[vec->len].len = len;
	vec->len++;
}

static void split_lines(const char *text, size_t len, struct line_vec *lines)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		line_push(lines, p, line_len);
		p += line_len + (nl ? 1 : 0);
	}
}

/* FNV-1a over the normalised bytes. */
static uint64_t hash_bytes(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* One slot of the line table: the first line with some normalised text. */
struct id_slot {
	uint64_t hash;
	size_t line; /* index + 1; 0 marks an empty slot */
};

/*
 * Give each line a small integer that is equal for lines whose normalised
 * text is equal, through an open-addressing hash table: one expected O(1)
 * probe per line.  Slots keep the full hash, so that only lines with equal
 * hashes are compared byte by byte.
 */
static uint32_t *assign_ids(const struct log_line *lines, size_t n, size_t *nr_ids)
{
	size_t cap = 16;
	uint32_t *ids = xmalloc((n ? n : 1) * sizeof(*ids));
	size_t next = 0;

	while (cap < 2 * n)
		cap *= 2;
	struct id_slot *slots = xcalloc(cap, sizeof(*slots));
	size_t *norm_len = xmalloc((n ? n : 1) * sizeof(*norm_len));

	for (size_t i = 0; i < n; i++) {
		size_t len = verifier_log_normalize(lines[i].text, lines[i].len);
		uint64_t hash = hash_bytes(lines[i].text, len);
		size_t slot = (size_t)hash & (cap - 1);

		norm_len[i] = len;
		for (;;) {
			struct id_slot *entry = &slots[slot];

			if (entry->line == 0) {
				entry->hash = hash;
				entry->line = i + 1;
				ids[i] = (uint32_t)next++;
				break;
			}
			size_t first = entry->line - 1;
			if (entry->hash == hash && norm_len[first] == len &&
			    !memcmp(lines[first].text, lines[i].text, len)) {
				ids[i] = ids[first];
				break;
			}
			slot = (slot + 1) & (cap - 1);
		}
	}
	free(norm_len);
	free(slots);
	*nr_ids = next;
	return ids;
}

/* ---- Collapse ---- */

#define MARK_OPEN_PREFIX "--- "
#define MARK_OPEN_SUFFIX " lines ---"
#define MARK_END "--- end repeat ---"

/* +1 for a block's opening marker, -1 for its end marker, 0 otherwise. */
static int marker_depth(const struct log_line *line)
{
	size_t slen = strlen(MARK_OPEN_SUFFIX);

	if (line->len == strlen(MARK_END) && !memcmp(line->text, MARK_END, line->len))
		return -1;
	if (line->len > strlen(MARK_OPEN_PREFIX) + slen &&
	    !memcmp(line->text, MARK_OPEN_PREFIX, strlen(MARK_OPEN_PREFIX)) &&
	    !memcmp(line->text + line->len - slen, MARK_OPEN_SUFFIX, slen))
		return 1;
	return 0;
}

struct collapse_pass {
	const struct log_line *in;
	size_t n;
	uint32_t *ids;
	size_t *prev;    /* index of the previous line with the same id, or SIZE_MAX */
	size_t *covered; /* by period: end of the last periodic stretch already extended */
	int *depth;      /* prefix sums of marker_depth, n + 1 entries; NULL without markers */
	struct line_vec *out;
	struct strvec *owned; /* marker texts, freed with the result */
	size_t budget;        /* line comparisons left in this pass */
};

/* A pass stops looking for loops after this many comparisons per line, so
 * that its time is linear on any input.  Verifier logs need one or two. */
#define COLLAPSE_COMPARISONS_PER_LINE 16

/*
 * Pick where the repeated block starts in the periodic stretch [start, end)
 * of period p, or return SIZE_MAX.  Without markers it is the left end.
 * With markers from an earlier pass, the block must not cut one of them in
 * half: it starts where the marker depth is lowest, so it holds whole
 * blocks only.  At least VERIFIER_LOG_MIN_REPEAT periods must remain.
 */
static size_t choose_block_start(const struct collapse_pass *pass, size_t start, size_t end, size_t p)
{
	size_t last = end - VERIFIER_LOG_MIN_REPEAT * p;
	int lowest;

	if (!pass->depth)
		return start;
	if (pass->depth[start + p] != pass->depth[start])
		return SIZE_MAX;
	lowest = pass->depth[start];
	for (size_t x = start; x <= start + p; x++) {
		if (pass->depth[x] < lowest)
			lowest = pass->depth[x];
	}
	for (size_t x = start; x < start + p && x <= last; x++) {
		if (pass->depth[x] == lowest)
			return x;
	}
	return SIZE_MAX;
}

/* Append a marker line; text is malloc'd and kept until the result is built. */
static void emit_marker(struct collapse_pass *pass, char *text)
{
	strvec_push(pass->owned, text);
	free(text);
	text = pass->owned->items[pass->owned->len - 1];
	line_push(pass->out, text, strlen(text));
}

static void emit_lines(struct collapse_pass *pass, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		line_push(pass->out, pass->in[i].text, pass->in[i].len);
}

static void emit_run(struct collapse_pass *pass, size_t start, size_t p, size_t count)
{
	size_t omitted = count - 2;

	emit_marker(pass, xasprintf("--- %zux of the following %zu lines ---", count, p));
	emit_lines(pass, start, start + p);
	emit_marker(pass, xasprintf("--- %zu identical iteration%s omitted ---", omitted,
				    omitted == 1 ? "" : "s"));
	emit_lines(pass, start + (count - 1) * p, start + count * p);
	emit_marker(pass, xstrdup(MARK_END));
}

/*
 * One left-to-right scan.  At line i, the only period tried is the distance
 * p to the previous line with the same text.  Each iteration of a loop
 * walks the loop's branch back once, so at that line p is the length of an
 * iteration.  The stretch is extended right while line j equals line j-p,
 * and covered[p] remembers its end so that no later line in it extends it
 * again.  Each maximal stretch is thus walked once per period: about n
 * comparisons for a verifier log, and never more than the budget.
 *
 * A stretch that would reach back into a block emitted earlier in this pass
 * is left for the next pass.  So the innermost loop collapses first, and its
 * enclosing loop, whose iterations now read the same, collapses in the next
 * pass.
 */
static bool run_pass(struct collapse_pass *pass)
{
	size_t n = pass->n, copied = 0, i = 0;
	bool changed = false;

	while (i < n && pass->budget > 0) {
		size_t prev = pass->prev[i];
		size_t p = prev == SIZE_MAX ? 0 : i - prev;

		if (p < VERIFIER_LOG_MIN_PERIOD || pass->covered[p] > i || i - p < copied) {
			i++;
			continue;
		}

		size_t end = i;
		while (end < n && pass->budget > 0 && pass->ids[end] == pass->ids[end - p]) {
			end++;
			pass->budget--;
		}
		pass->covered[p] = end;

		size_t start = i - p;
		while (start > copied && pass->budget > 0 && pass->ids[start - 1] == pass->ids[start - 1 + p]) {
			start--;
			pass->budget--;
		}
		if ((end - start) / p < VERIFIER_LOG_MIN_REPEAT) {
			i++;
			continue;
		}

		size_t block = choose_block_start(pass, start, end, p);
		if (block == SIZE_MAX) {
			i++;
			continue;
		}
		size_t count = (end - block) / p;

		emit_lines(pass, copied, block);
		emit_run(pass, block, p, count);
		copied = block + count * p;
		i = copied;
		changed = true;
	}
	emit_lines(pass, copied, n);
	return changed;
}

static bool collapse_once(const struct line_vec *in, struct line_vec *out, struct strvec *owned)
{
	size_t n = in->len, nr_ids;
	struct collapse_pass pass = {
		.in = in->items,
		.n = n,
		.out = out,
		.owned = owned,
		.budget = COLLAPSE_COMPARISONS_PER_LINE * n,
	};
	bool any_marker = false, changed;

	pass.ids = assign_ids(in->items, n, &nr_ids);
	pass.prev = xmalloc(n * sizeof(*pass.prev));
	pass.covered = xcalloc(n + 1, sizeof(*pass.covered));

	size_t *last = xmalloc((nr_ids ? nr_ids : 1) * sizeof(*last));
	for (size_t id = 0; id < nr_ids; id++)
		last[id] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		pass.prev[i] = last[pass.ids[i]];
		last[pass.ids[i]] = i;
	}
	free(last);

	for (size_t i = 0; i < n && !any_marker; i++)
		any_marker = marker_depth(&in->items[i]) != 0;
	if (any_marker) {
		pass.depth = xmalloc((n + 1) * sizeof(*pass.depth));
		pass.depth[0] = 0;
		for (size_t i = 0; i < n; i++)
			pass.depth[i + 1] = pass.depth[i] + marker_depth(&in->items[i]);
	}

	changed = run_pass(&pass);

	free(pass.depth);
	free(pass.covered);
	free(pass.prev);
	free(pass.ids);
	return changed;
}

char *verifier_log_collapse(const char *text, size_t len, size_t *out_len)
{
	struct line_vec lines = { NULL, 0, 0 };
	struct strvec owned = STRVEC_INIT;
	bool changed = false;
	char *result;

	split_lines(text, len, &lines);
	if (lines.len >= VERIFIER_LOG_MIN_LINES) {
		for (int pass = 0; pass < VERIFIER_LOG_MAX_PASSES; pass++) {
			struct line_vec next = { NULL, 0, 0 };

			if (!collapse_once(&lines, &next, &owned)) {
				free(next.items);
				break;
			}
			free(lines.items);
			lines = next;
			changed = true;
		}
	}

	if (!changed) {
		result = xmalloc(len + 1);
		memcpy(result, text, len);
		result[len] = '\0';
	} else {
		size_t total = 0, pos = 0;

		for (size_t i = 0; i < lines.len; i++)
			total += lines.items[i].len + 1;
		result = xmalloc(total + 1);
		for (size_t i = 0; i < lines.len; i++) {
			memcpy(result + pos, lines.items[i].text, lines.items[i].len);
			pos += lines.items[i].len;
			result[pos++] = '\n';
		}
		/* Keep a missing final newline missing. */
		if (len > 0 && text[len - 1] != '\n' && pos > 0)
			pos--;
		result[pos] = '\0';
		len = pos;
	}
	if (out_len)
		*out_len = len;
	free(lines.items);
	strvec_release(&owned);
	return result;
}

/* ---- Statistics ---- */

/* The number after "key " in line, or -1. */
static long long field_after(const char *line, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i + klen < len; i++) {
		if ((i == 0 || line[i - 1] == ' ') && !memcmp(line + i, key, klen) && line[i + klen] == ' ') {
			const char *num = line + i + klen + 1;
			size_t n = digits_at(num, len - i - klen - 1);

			if (n == 0)
				return -1;
			return strtoll(num, NULL, 10);
		}
	}
	return -1;
}

static void stats_reset(struct verifier_log_stats *stats)
{
	free(stats->stack_depth);
	stats->processed_insns = -1;
	stats->insn_limit = -1;
	stats->max_states_per_insn = -1;
	stats->total_states = -1;
	stats->peak_states = -1;
	stats->mark_read = -1;
	stats->time_usec = -1;
	stats->stack_depth = NULL;
}

bool verifier_log_parse_stats(const char *text, size_t len, struct verifier_log_stats *stats)
{
	struct line_vec lines = { NULL, 0, 0 };
	bool found = false;

	stats->stack_depth = NULL;
	stats_reset(stats);
	split_lines(text, len, &lines);
	for (size_t i = 0; i < lines.len; i++) {
		const char *line = lines.items[i].text;
		size_t line_len = trim_right(line, lines.items[i].len);

		if (starts_with(line, line_len, "processed ") && field_after(line, line_len, "processed") >= 0) {
			found = true;
			stats->processed_insns = field_after(line, line_len, "processed");
			stats->insn_limit = field_after(line, line_len, "(limit");
			stats->max_states_per_insn = field_after(line, line_len, "max_states_per_insn");
			stats->total_states = field_after(line, line_len, "total_states");
			stats->peak_states = field_after(line, line_len, "peak_states");
			stats->mark_read = field_after(line, line_len, "mark_read");
		} else if (starts_with(line, line_len, "verification time ")) {
			stats->time_usec = field_after(line, line_len, "time");
		} else if (starts_with(line, line_len, "stack depth ")) {
			free(stats->stack_depth);
			stats->stack_depth = xstrndup(line + 12, line_len - 12);
		}
	}
	free(lines.items);
	return found;
}

void verifier_log_stats_release(struct verifier_log_stats *stats)
{
	free(stats->stack_depth);
	stats->stack_depth = NULL;
}

/* ---- Program load logs ---- */

#define LOG_BEGIN "-- BEGIN PROG LOAD LOG --"
#define LOG_END "-- END PROG LOAD LOG --"
#define LOAD_FAILED "BPF program load failed: "

/* The NAME of a "libbpf: prog 'NAME': " prefix, malloc'd, or NULL. */
static char *prog_name(const char *line, size_t len, const char **rest)
{
	static const char prefix[] = "libbpf: prog '";
	size_t plen = sizeof(prefix) - 1;

	if (!starts_with(line, len, prefix))
		return NULL;
	const char *name = line + plen;
	const char *quote = memchr(name, '\'', len - plen);
	if (!quote || (size_t)(quote - line) + 3 > len || quote[1] != ':' || quote[2] != ' ')
		return NULL;
	*rest = quote + 3;
	return xstrndup(name, (size_t)(quote - name));
}

size_t verifier_log_find_progs(const char *text, size_t len, struct verifier_log_prog **progs)
{
	struct line_vec lines = { NULL, 0, 0 };
	struct verifier_log_prog *found = NULL;
	size_t count = 0;
	char *last_error = NULL, *last_error_prog = NULL;

	split_lines(text, len, &lines);
	for (size_t i = 0; i < lines.len; i++) {
		const char *line = lines.items[i].text, *rest;
		size_t line_len = trim_right(line, lines.items[i].len);
		char *name = prog_name(line, line_len, &rest);

		if (!name)
			continue;
		size_t rest_len = line_len - (size_t)(rest - line);
		if (starts_with(rest, rest_len, LOAD_FAILED)) {
			free(last_error);
			free(last_error_prog);
			last_error = xstrndup(rest + strlen(LOAD_FAILED), rest_len - strlen(LOAD_FAILED));
			last_error_prog = name;
			continue;
		}
		if (rest_len != strlen(LOG_BEGIN) || memcmp(rest, LOG_BEGIN, rest_len)) {
			free(name);
			continue;
		}

		size_t j = i + 1;
		while (j < lines.len) {
			size_t end_len = trim_right(lines.items[j].text, lines.items[j].len);
			if (end_len == strlen(LOG_END) && !memcmp(lines.items[j].text, LOG_END, end_len))
				break;
			j++;
		}

		found = xrealloc(found, (count + 1) * sizeof(*found));
		struct verifier_log_prog *prog = &found[count++];
		memset(prog, 0, sizeof(*prog));
		prog->program = name;
		if (last_error_prog && !strcmp(last_error_prog, name)) {
			prog->error = last_error;
			last_error = NULL;
		}
		prog->body = i + 1 < lines.len ? lines.items[i + 1].text : text + len;
		prog->body_len = (j < lines.len ? lines.items[j].text : text + len) - prog->body;
		prog->has_stats = verifier_log_parse_stats(prog->body, prog->body_len, &prog->stats);
		i = j;
	}
	free(last_error);
	free(last_error_prog);
	free(lines.items);
	*progs = found;
	return count;
}

void verifier_log_progs_free(struct verifier_log_prog *progs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(progs[i].program);
		free(progs[i].error);
		verifier_log_stats_release(&progs[i].stats);
	}
	free(progs);
}
