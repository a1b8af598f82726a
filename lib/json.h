/* JSON through jq's jv API (libjq).
 *
 * jv values are reference counted: every function that takes a jv consumes
 * it, as in libjq itself, unless its comment states that it borrows.
 */
#ifndef KTSTR_JSON_H
#define KTSTR_JSON_H

#include <jv.h>
#include <stdbool.h>
#include <stdio.h>

enum json_error {
	JSON_OK = 0,
	JSON_MISSING,    /* the file does not exist */
	JSON_UNREADABLE, /* it exists but could not be read */
	JSON_MALFORMED,  /* its text is not JSON */
	JSON_TRUNCATED,  /* its text ends inside a JSON value */
};

/* Stable lowercase name of an error kind, for --json output ("missing", ...). */
const char *json_error_name(enum json_error kind);

/* Parse text.  On failure return jv_invalid() and, when msg is not NULL,
 * store a malloc'd description in *msg and the kind in *kind. */
jv json_parse(const char *text, size_t len, enum json_error *kind, char **msg);
/* Read and parse a file; errors as json_parse, plus JSON_MISSING and JSON_UNREADABLE. */
jv json_read_file(const char *path, enum json_error *kind, char **msg);

/* Write a value as pretty JSON through a temporary file and rename. */
int json_write_file(const char *path, jv value);
/* Print a value and a newline: pretty (2-space indent) or compact on one line. */
int json_print(FILE *out, jv value, bool pretty);
/* The compact text of a value, malloc'd. */
char *json_to_string(jv value);

/* Field access that borrows obj.  Missing keys and wrong types give NULL or false. */
const char *json_str(jv obj, const char *key);
bool json_int(jv obj, const char *key, long long *out);
bool json_num(jv obj, const char *key, double *out);
bool json_bool(jv obj, const char *key, bool *out);
bool json_has(jv obj, const char *key);

/* jv_string(s) that maps a NULL s to JSON null. */
jv json_string_or_null(const char *s);

#endif
