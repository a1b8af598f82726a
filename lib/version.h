/* Linux kernel release versions: "6.14.2", "6.15-rc3" and the "6.12" series prefix. */
#ifndef KTSTR_VERSION_H
#define KTSTR_VERSION_H

#include <stdbool.h>
#include <stddef.h>

struct kver {
	unsigned major;
	unsigned minor;
	unsigned patch;
	unsigned rc;      /* 0 for a release, N for -rcN */
	bool has_patch;   /* "6.12" has none, "6.12.0" has one */
};

/* Parse MAJOR.MINOR[.PATCH][-rcN] with decimal components; 0 or -1 (invalid). */
int kver_parse(const char *text, struct kver *out);
/* Order versions: a missing patch is 0 and a release sorts after all its rcs. */
int kver_cmp(const struct kver *a, const struct kver *b);
/* A major.minor without patch or rc names a series ("6.12"). */
bool kver_is_series(const struct kver *v);
/* v belongs to series (same major and minor) and is a release, not an rc. */
bool kver_in_series(const struct kver *series, const struct kver *v);
/* Format into buf; returns buf. */
char *kver_format(const struct kver *v, char *buf, size_t size);

#endif
