/* Allocation that cannot fail: out of memory ends the program with a message. */
#ifndef KTSTR_XALLOC_H
#define KTSTR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NULL-terminated array of strings, for argv and environment lists. */
struct strvec {
	char **items;
	size_t len;
	size_t cap;
};
#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *vec, const char *s);
void strvec_pushf(struct strvec *vec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_release(struct strvec *vec);

#endif
