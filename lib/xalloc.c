#include "xalloc.h"

#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *ptr)
{
	if (!ptr)
		die("out of memory");
	return ptr;
}

void *xmalloc(size_t size)
{
	return check(malloc(size ? size : 1));
}

void *xcalloc(size_t count, size_t size)
{
	return check(calloc(count ? count : 1, size ? size : 1));
}

void *xrealloc(void *ptr, size_t size)
{
	return check(realloc(ptr, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return check(strdup(s));
}

char *xstrndup(const char *s, size_t len)
{
	return check(strndup(s, len));
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return out;
}

static void strvec_append(struct strvec *vec, char *owned)
{
	if (vec->len + 2 > vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 8;
		vec->items = xrealloc(vec->items, vec->cap * sizeof(*vec->items));
	}
	vec->items[vec->len++] = owned;
	vec->items[vec->len] = NULL;
}

void strvec_push(struct strvec *vec, const char *s)
{
	strvec_append(vec, xstrdup(s));
}

void strvec_pushf(struct strvec *vec, const char *fmt, ...)
{
	va_list ap;
	char *out;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	strvec_append(vec, out);
}

void strvec_release(struct strvec *vec)
{
	for (size_t i = 0; i < vec->len; i++)
		free(vec->items[i]);
	free(vec->items);
	vec->items = NULL;
	vec->len = vec->cap = 0;
}
