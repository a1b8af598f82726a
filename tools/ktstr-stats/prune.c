/* Cutting the values ktstr-stats never reads out of a sidecar's text before
 * libjq parses it.
 *
 * Parsing is where ktstr-stats spends its time, and the largest parts of a
 * sidecar (per-worker statistics, the scheduler's log of up to 1 MiB, the
 * resolved scenario) are not used by the report.  The scanner below walks
 * the top-level object and the objects on the way to a pruned key, skips
 * other values, and replaces each pruned value with null.  Whenever the
 * text does not have the expected shape it gives up, and the caller parses
 * the original text.  Pruned values are checked against the JSON grammar as they are
 * skipped, so a syntax error inside one still makes the file invalid, and
 * libjq reports it.
 */
#include "prune.h"

#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Dotted key paths whose values are replaced with null. */
static const char *const pruned_paths[] = {
	"stats.cgroups",
	"scheduler_log",
	"scenario",
	"guest_errors",
	"sched_ext.log_tail",
	"sched_ext.kernel_log",
	"thresholds",
	"sysctls",
	"kargs",
	"host",
	"metrics",
};

struct cursor {
	const char *p;
	const char *end;
	char *out;
	size_t out_len;
};

static void emit(struct cursor *cur, const char *from, size_t len)
{
	memcpy(cur->out + cur->out_len, from, len);
	cur->out_len += len;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Values nest at most this deep in a sidecar; deeper text is left to libjq. */
#define MAX_DEPTH 64

/* Past the closing quote of the JSON string that starts at p, or NULL when
 * it is not a valid string. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (++p >= end)
			return NULL;
		if (*p == 'u') {
			for (int i = 0; i < 4; i++) {
				if (++p >= end || !*p || !strchr("0123456789abcdefABCDEF", *p))
					return NULL;
			}
		} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return NULL;
}

static const char *skip_digits(const char *p, const char *end)
{
	const char *start = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

/* Past the JSON number that starts at p, or NULL. */
static const char *skip_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p = skip_digits(p, end)))
		return NULL;
	if (p < end && *p == '.' && !(p = skip_digits(p + 1, end)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = skip_digits(p, end)))
			return NULL;
	}
	return p;
}

static const char *skip_literal(const char *p, const char *end, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(end - p) >= len && !memcmp(p, word, len) ? p + len : NULL;
}

/* Past the JSON value that starts at p, checking its syntax, or NULL when
 * it is not valid JSON, ends early or nests deeper than MAX_DEPTH. */
static const char *skip_value(const char *p, const char *end, int depth)
{
	char close;

	if (p >= end || depth > MAX_DEPTH)
		return NULL;
	switch (*p) {
	case '"':
		return skip_string(p, end);
	case 't':
		return skip_literal(p, end, "true");
	case 'f':
		return skip_literal(p, end, "false");
	case 'n':
		return skip_literal(p, end, "null");
	case '{':
	case '[':
		break;
	default:
		return skip_number(p, end);
	}

	close = *p == '{' ? '}' : ']';
	p = skip_space(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if (p >= end || *p != '"' || !(p = skip_string(p, end)))
				return NULL;
			p = skip_space(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p = skip_space(p + 1, end);
		}
		if (!(p = skip_value(p, end, depth + 1)))
			return NULL;
		p = skip_space(p, end);
		if (p < end && *p == close)
			return p + 1;
		if (p >= end || *p != ',')
			return NULL;
		p = skip_space(p + 1, end);
	}
}

/* Whether prefix.key is a pruned path (*whole) or leads to one. */
static bool path_matches(const char *prefix, const char *key, size_t key_len, bool *whole)
{
	size_t prefix_len = strlen(prefix);

	for (size_t i = 0; i < sizeof(pruned_paths) / sizeof(pruned_paths[0]); i++) {
		const char *path = pruned_paths[i];

		if (prefix_len) {
			if (strncmp(path, prefix, prefix_len) || path[prefix_len] != '.')
				continue;
			path += prefix_len + 1;
		}
		if (strncmp(path, key, key_len))
			continue;
		if (path[key_len] == '\0') {
			*whole = true;
			return true;
		}
		if (path[key_len] == '.') {
			*whole = false;
			return true;
		}
	}
	return false;
}

/* Copy the object at cur->p, pruning below prefix ("" at the top level).
 * Returns false when the text does not look like a JSON object. */
static bool copy_object(struct cursor *cur, const char *prefix, int depth)
{
	const char *p = cur->p, *end = cur->end;

	if (p >= end || *p != '{' || depth > 2)
		return false;
	emit(cur, p, 1);
	p++;
	for (;;) {
		const char *start = p;

		p = skip_space(p, end);
		if (p < end && *p == '}') {
			emit(cur, start, (size_t)(p + 1 - start));
			cur->p = p + 1;
			return true;
		}
		if (p >= end || *p != '"')
			return false;
		const char *key = p + 1;
		p = skip_string(p, end);
		if (!p)
			return false;
		size_t key_len = (size_t)(p - 1 - key);
		p = skip_space(p, end);
		if (p >= end || *p != ':')
			return false;
		p = skip_space(p + 1, end);
		emit(cur, start, (size_t)(p - start));

		bool whole = false;
		bool matched = memchr(key, '\\', key_len) == NULL && path_matches(prefix, key, key_len, &whole);
		const char *value_end;
		if (matched && !whole && p < end && *p == '{') {
			char *child = xstrndup(key, key_len);
			char *child_prefix = *prefix ? xasprintf("%s.%s", prefix, child) : xstrdup(child);

			cur->p = p;
			bool copied = copy_object(cur, child_prefix, depth + 1);
			free(child_prefix);
			free(child);
			if (!copied)
				return false;
			value_end = cur->p;
		} else {
			value_end = skip_value(p, end, depth + 1);
			if (!value_end)
				return false;
			/* A value shorter than "null" stays, so the text never grows. */
			if (matched && whole && value_end - p >= 4)
				emit(cur, "null", 4);
			else
				emit(cur, p, (size_t)(value_end - p));
		}

		p = skip_space(value_end, end);
		if (p < end && *p == ',') {
			emit(cur, value_end, (size_t)(p + 1 - value_end));
			p++;
			continue;
		}
		if (p < end && *p == '}') {
			emit(cur, value_end, (size_t)(p + 1 - value_end));
			cur->p = p + 1;
			return true;
		}
		return false;
	}
}

char *prune_sidecar(const char *text, size_t len, size_t *out_len)
{
	struct cursor cur = { .p = skip_space(text, text + len), .end = text + len, .out = xmalloc(len + 1) };

	if (!copy_object(&cur, "", 0) || skip_space(cur.p, cur.end) != cur.end) {
		free(cur.out);
		return NULL;
	}
	cur.out[cur.out_len] = '\0';
	*out_len = cur.out_len;
	return cur.out;
}
