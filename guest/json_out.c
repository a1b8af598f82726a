/* The guest's JSON writer; see json_out.h. */
#include "json_out.h"

#include "xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct json_out *out, size_t more)
{
	if (out->len + more + 1 <= out->cap)
		return;
	size_t cap = out->cap ? out->cap : 256;
	while (out->len + more + 1 > cap)
		cap *= 2;
	out->buf = xrealloc(out->buf, cap);
	out->cap = cap;
}

static void append(struct json_out *out, const char *s, size_t len)
{
	reserve(out, len);
	memcpy(out->buf + out->len, s, len);
	out->len += len;
	out->buf[out->len] = '\0';
}

static void append_char(struct json_out *out, char c)
{
	append(out, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void appendf(struct json_out *out, const char *fmt, ...)
{
	char small[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		append(out, small, (size_t)n);
		return;
	}
	reserve(out, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(out->buf + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
}

/* Write the separator that the next value needs: a comma between elements,
 * nothing after a key. */
static void before_value(struct json_out *out)
{
	if (out->after_key) {
		out->after_key = false;
		return;
	}
	if (out->need_comma[out->depth])
		append_char(out, ',');
	out->need_comma[out->depth] = true;
}

void json_out_release(struct json_out *out)
{
	free(out->buf);
	*out = (struct json_out)JSON_OUT_INIT;
}

const char *json_out_text(struct json_out *out)
{
	reserve(out, 0);
	out->buf[out->len] = '\0';
	return out->buf;
}

static void open_container(struct json_out *out, char c)
{
	before_value(out);
	append_char(out, c);
	/* Deeper levels are written flat rather than overflowing the stack. */
	if (out->depth < JSON_OUT_MAX_DEPTH)
		out->depth++;
	out->need_comma[out->depth] = false;
}

static void close_container(struct json_out *out, char c)
{
	append_char(out, c);
	if (out->depth > 0)
		out->depth--;
}

void json_out_object_begin(struct json_out *out)
{
	open_container(out, '{');
}

void json_out_object_end(struct json_out *out)
{
	close_container(out, '}');
}

void json_out_array_begin(struct json_out *out)
{
	open_container(out, '[');
}

void json_out_array_end(struct json_out *out)
{
	close_container(out, ']');
}

void json_out_key(struct json_out *out, const char *key)
{
	json_out_string(out, key);
	append_char(out, ':');
	out->after_key = true;
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), or 0 when
 * the bytes there do not start one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
	unsigned char lead = s[0];
	unsigned char low = 0x80, high = 0xbf;
	size_t need;

	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf)
		need = 2;
	else if (lead >= 0xe0 && lead <= 0xef)
		need = 3;
	else if (lead >= 0xf0 && lead <= 0xf4)
		need = 4;
	else
		return 0;
	if (lead == 0xe0)
		low = 0xa0;
	else if (lead == 0xed)
		high = 0x9f;
	else if (lead == 0xf0)
		low = 0x90;
	else if (lead == 0xf4)
		high = 0x8f;
	if (avail < need || s[1] < low || s[1] > high)
		return 0;
	for (size_t i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return need;
}

void json_out_string_len(struct json_out *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	before_value(out);
	append_char(out, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			append_char(out, '\\');
			append_char(out, (char)c);
			i++;
		} else if (c == '\n') {
			append(out, "\\n", 2);
			i++;
		} else if (c == '\t') {
			append(out, "\\t", 2);
			i++;
		} else if (c == '\r') {
			append(out, "\\r", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			appendf(out, "\\u%04x", c);
			i++;
		} else {
			size_t n = utf8_sequence(p + i, len - i);
			if (n == 0) {
				append(out, "\\ufffd", 6);
				i++;
			} else {
				append(out, s + i, n);
				i += n;
			}
		}
	}
	append_char(out, '"');
}

void json_out_string(struct json_out *out, const char *s)
{
	if (!s)
		json_out_null(out);
	else
		json_out_string_len(out, s, strlen(s));
}

void json_out_int(struct json_out *out, long long value)
{
	before_value(out);
	appendf(out, "%lld", value);
}

void json_out_uint(struct json_out *out, unsigned long long value)
{
	before_value(out);
	appendf(out, "%llu", value);
}

void json_out_double(struct json_out *out, double value)
{
	if (!isfinite(value)) {
		json_out_null(out);
		return;
	}
	before_value(out);
	appendf(out, "%.10g", value);
}

void json_out_bool(struct json_out *out, bool value)
{
	before_value(out);
	append(out, value ? "true" : "false", value ? 4 : 5);
}

void json_out_null(struct json_out *out)
{
	before_value(out);
	append(out, "null", 4);
}

void json_out_kv_string(struct json_out *out, const char *key, const char *s)
{
	json_out_key(out, key);
	json_out_string(out, s);
}

void json_out_kv_int(struct json_out *out, const char *key, long long value)
{
	json_out_key(out, key);
	json_out_int(out, value);
}

void json_out_kv_uint(struct json_out *out, const char *key, unsigned long long value)
{
	json_out_key(out, key);
	json_out_uint(out, value);
}

void json_out_kv_double(struct json_out *out, const char *key, double value)
{
	json_out_key(out, key);
	json_out_double(out, value);
}

void json_out_kv_bool(struct json_out *out, const char *key, bool value)
{
	json_out_key(out, key);
	json_out_bool(out, value);
}
