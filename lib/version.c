#include "version.h"

#include <stdio.h>
#include <string.h>

/* Parse a run of digits without sign or leading '+', at most 9 of them. */
static const char *parse_number(const char *p, unsigned *out)
{
	unsigned value = 0;
	int digits = 0;

	while (*p >= '0' && *p <= '9') {
		if (++digits > 9)
			return NULL;
		value = value * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (digits == 0)
		return NULL;
	*out = value;
	return p;
}

int kver_parse(const char *text, struct kver *out)
{
	struct kver v = { 0 };
	const char *p = text;

	if (!p || !(p = parse_number(p, &v.major)) || *p++ != '.')
		return -1;
	if (!(p = parse_number(p, &v.minor)))
		return -1;
	if (*p == '.') {
		if (!(p = parse_number(p + 1, &v.patch)))
			return -1;
		v.has_patch = true;
	}
	if (!strncmp(p, "-rc", 3)) {
		if (!(p = parse_number(p + 3, &v.rc)) || v.rc == 0)
			return -1;
	}
	if (*p != '\0')
		return -1;
	*out = v;
	return 0;
}

static int cmp_unsigned(unsigned a, unsigned b)
{
	return a < b ? -1 : a > b;
}

int kver_cmp(const struct kver *a, const struct kver *b)
{
	int c;

	if ((c = cmp_unsigned(a->major, b->major)) || (c = cmp_unsigned(a->minor, b->minor)) ||
	    (c = cmp_unsigned(a->patch, b->patch)))
		return c;
	if (a->rc == b->rc)
		return 0;
	if (a->rc == 0)
		return 1;
	if (b->rc == 0)
		return -1;
	return cmp_unsigned(a->rc, b->rc);
}

bool kver_is_series(const struct kver *v)
{
	return !v->has_patch && v->rc == 0;
}

bool kver_in_series(const struct kver *series, const struct kver *v)
{
	return v->major == series->major && v->minor == series->minor && v->rc == 0;
}

char *kver_format(const struct kver *v, char *buf, size_t size)
{
	int n = v->has_patch ? snprintf(buf, size, "%u.%u.%u", v->major, v->minor, v->patch)
			     : snprintf(buf, size, "%u.%u", v->major, v->minor);
	if (v->rc && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "-rc%u", v->rc);
	return buf;
}
