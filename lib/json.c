#include "json.h"

#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *json_error_name(enum json_error kind)
{
	switch (kind) {
	case JSON_OK:
		return "ok";
	case JSON_MISSING:
		return "missing";
	case JSON_UNREADABLE:
		return "unreadable";
	case JSON_MALFORMED:
		return "malformed";
	case JSON_TRUNCATED:
		return "truncated";
	}
	return "unknown";
}

static void set_error(enum json_error *kind, char **msg, enum json_error value, const char *text)
{
	if (kind)
		*kind = value;
	if (msg)
		*msg = xstrdup(text);
}

jv json_parse(const char *text, size_t len, enum json_error *kind, char **msg)
{
	jv value;

	if (kind)
		*kind = JSON_OK;
	if (len > (size_t)0x7fffffff) {
		set_error(kind, msg, JSON_MALFORMED, "document larger than 2 GiB");
		return jv_invalid();
	}
	/* jq 1.6 reports an empty input as a valid "no value"; treat it as truncated. */
	size_t start = strspn(text, " \t\r\n");
	if (start >= len) {
		set_error(kind, msg, JSON_TRUNCATED, "empty document");
		return jv_invalid();
	}

	value = jv_parse_sized(text, (int)len);
	if (jv_is_valid(value))
		return value;

	jv why = jv_invalid_get_msg(value);
	const char *why_text = jv_get_kind(why) == JV_KIND_STRING ? jv_string_value(why) : "invalid JSON";
	/* jq 1.6 reports input that stops inside a value as "Unfinished JSON
	 * term" or "Unfinished string".  Its "Invalid literal at EOF" is
	 * garbage text such as "x", not a cut-off document. */
	enum json_error found = strstr(why_text, "Unfinished") ? JSON_TRUNCATED : JSON_MALFORMED;
	/* jq 1.6 appends " (while parsing '<the whole input>')", which would put a
	 * whole document into a one-line error message. */
	const char *context = strstr(why_text, " (while parsing");
	char *short_text = xstrndup(why_text, context ? (size_t)(context - why_text) : strlen(why_text));
	set_error(kind, msg, found, short_text);
	free(short_text);
	jv_free(why);
	return jv_invalid();
}

jv json_read_file(const char *path, enum json_error *kind, char **msg)
{
	size_t len;
	char *text = fs_read_file(path, &len);

	if (!text) {
		set_error(kind, msg, errno == ENOENT ? JSON_MISSING : JSON_UNREADABLE, strerror(errno));
		return jv_invalid();
	}
	jv value = json_parse(text, len, kind, msg);
	free(text);
	return value;
}

int json_write_file(const char *path, jv value)
{
	if (!jv_is_valid(value)) {
		jv_free(value);
		errno = EINVAL;
		return -1;
	}
	jv text = jv_dump_string(value, JV_PRINT_PRETTY | JV_PRINT_SPACE1 | JV_PRINT_INDENT_FLAGS(2));
	const char *body = jv_string_value(text);
	char *with_newline = xasprintf("%s\n", body);
	int ret = fs_write_atomic(path, with_newline, strlen(with_newline), 0644);
	int saved = errno;

	free(with_newline);
	jv_free(text);
	errno = saved;
	return ret;
}

int json_print(FILE *out, jv value, bool pretty)
{
	if (!jv_is_valid(value)) {
		jv_free(value);
		errno = EINVAL;
		return -1;
	}
	int flags = pretty ? JV_PRINT_PRETTY | JV_PRINT_SPACE1 | JV_PRINT_INDENT_FLAGS(2) : 0;
	jv text = jv_dump_string(value, flags);
	int ret = fprintf(out, "%s\n", jv_string_value(text)) < 0 ? -1 : 0;

	jv_free(text);
	return ret;
}

char *json_to_string(jv value)
{
	jv text = jv_dump_string(value, 0);
	char *out = xstrdup(jv_string_value(text));

	jv_free(text);
	return out;
}

/* Borrowed lookup: the returned jv is owned by obj and must not be freed. */
static jv field(jv obj, const char *key, bool *found)
{
	*found = false;
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	jv value = jv_object_get(jv_copy(obj), jv_string(key));
	if (!jv_is_valid(value)) {
		jv_free(value);
		return jv_null();
	}
	*found = true;
	/* obj still holds a reference, so dropping ours leaves the value alive. */
	jv_free(value);
	return value;
}

const char *json_str(jv obj, const char *key)
{
	bool found;
	jv value = field(obj, key, &found);

	if (!found || jv_get_kind(value) != JV_KIND_STRING)
		return NULL;
	return jv_string_value(value);
}

bool json_num(jv obj, const char *key, double *out)
{
	bool found;
	jv value = field(obj, key, &found);

	if (!found || jv_get_kind(value) != JV_KIND_NUMBER)
		return false;
	*out = jv_number_value(value);
	return true;
}

bool json_int(jv obj, const char *key, long long *out)
{
	double number;

	if (!json_num(obj, key, &number))
		return false;
	*out = (long long)number;
	return true;
}

bool json_bool(jv obj, const char *key, bool *out)
{
	bool found;
	jv value = field(obj, key, &found);

	if (!found)
		return false;
	if (jv_get_kind(value) == JV_KIND_TRUE)
		*out = true;
	else if (jv_get_kind(value) == JV_KIND_FALSE)
		*out = false;
	else
		return false;
	return true;
}

bool json_has(jv obj, const char *key)
{
	bool found;

	field(obj, key, &found);
	return found;
}

jv json_string_or_null(const char *s)
{
	return s ? jv_string(s) : jv_null();
}
