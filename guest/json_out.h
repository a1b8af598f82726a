/* A small JSON writer for the guest agent.
 *
 * The guest is linked statically and Debian ships libjq only as a shared
 * library, so the guest writes its records with this emitter and the host
 * parses them with jv.  Output is compact; strings are escaped per RFC 8259,
 * and bytes that are not valid UTF-8 become U+FFFD so the host's parser never
 * rejects a record because a scheduler printed binary garbage.
 */
#ifndef KTSTR_GUEST_JSON_OUT_H
#define KTSTR_GUEST_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting of objects and arrays a document may have. */
#define JSON_OUT_MAX_DEPTH 32

struct json_out {
	char *buf;
	size_t len;
	size_t cap;
	unsigned depth;
	bool need_comma[JSON_OUT_MAX_DEPTH + 1]; /* per level: a value was written */
	bool after_key;                          /* the next value belongs to a key */
};
#define JSON_OUT_INIT { NULL, 0, 0, 0, { false }, false }

void json_out_release(struct json_out *out);
/* The document so far, NUL-terminated (never NULL). */
const char *json_out_text(struct json_out *out);

void json_out_object_begin(struct json_out *out);
void json_out_object_end(struct json_out *out);
void json_out_array_begin(struct json_out *out);
void json_out_array_end(struct json_out *out);
/* The key of the next value inside an object. */
void json_out_key(struct json_out *out, const char *key);

/* A string value; NULL writes null. */
void json_out_string(struct json_out *out, const char *s);
void json_out_string_len(struct json_out *out, const char *s, size_t len);
void json_out_int(struct json_out *out, long long value);
void json_out_uint(struct json_out *out, unsigned long long value);
/* A number with up to 10 significant digits; NaN and infinities become null. */
void json_out_double(struct json_out *out, double value);
void json_out_bool(struct json_out *out, bool value);
void json_out_null(struct json_out *out);

/* Key and value in one call. */
void json_out_kv_string(struct json_out *out, const char *key, const char *s);
void json_out_kv_int(struct json_out *out, const char *key, long long value);
void json_out_kv_uint(struct json_out *out, const char *key, unsigned long long value);
void json_out_kv_double(struct json_out *out, const char *key, double value);
void json_out_kv_bool(struct json_out *out, const char *key, bool value);

#endif
