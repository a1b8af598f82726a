/* Flag profiles of a scheduler.
 *
 * A scheduler lists its optional features when run with --ktstr-list-flags:
 * one line of JSON, an array of {"name", "args", "requires"} objects.  A
 * profile is a set of those flags that contains every requirement of each
 * member.  Its name is the flag names joined with '+' in list order, or
 * "default" for the empty set.
 */
#ifndef KTSTR_PROFILE_H
#define KTSTR_PROFILE_H

#include "xalloc.h"

#include <stddef.h>
#include <stdint.h>

#define PROFILE_DEFAULT "default"
/* The argument that makes a scheduler print its flag list. */
#define PROFILE_LIST_FLAGS_ARG "--ktstr-list-flags"
/* A profile is a 64-bit mask of flags, so a list may have at most this many. */
#define PROFILE_NAMEABLE_FLAGS 63
/* --all-profiles enumerates 2^N flag sets; beyond this N, pick profiles by name. */
#define PROFILE_MAX_FLAGS 24
/* Seconds a scheduler may take to print its flag list and exit. */
#define PROFILE_QUERY_TIMEOUT_SEC 10

struct profile_flag {
	char *name;
	struct strvec args;     /* appended to the scheduler's arguments when active */
	size_t *requires;       /* indices of the flags this one needs */
	size_t nr_requires;
};

struct profile_flags {
	struct profile_flag *items; /* in the scheduler's order */
	size_t count;
};
#define PROFILE_FLAGS_INIT { NULL, 0 }

struct profile {
	char *name;           /* "default" or "llc+steal" */
	uint64_t mask;        /* bit i set: flag i is active */
	struct strvec flags;  /* active flag names, in list order */
	struct strvec args;   /* scheduler arguments of the active flags */
};

/* Parse and check a --ktstr-list-flags document.  Names must be unique, not
 * "default", and free of '+', ',' and white space.  Every requirement must
 * name a listed flag, and requirements must not form a cycle.  Returns 0, or -1
 * with a malloc'd description in *error. */
int profile_flags_parse(const char *text, size_t len, struct profile_flags *flags, char **error);
void profile_flags_release(struct profile_flags *flags);

/* Every flag set whose requirements are met, in the order of its mask
 * counted up from 0 (bit i = flag i): default first.  Returns 0, or -1 with
 * *error set when there are more than PROFILE_MAX_FLAGS flags. */
int profile_power_set(const struct profile_flags *flags, struct profile **profiles, size_t *count,
		      char **error);

/* The profiles named in a comma-separated list such as "default,llc,llc+steal".
 * Flag names in a profile name may come in any order; the result carries the
 * canonical name, and repeated profiles are dropped.  Returns 0, or -1 with
 * *error naming the first unknown or invalid profile. */
int profile_select(const struct profile_flags *flags, const char *list, struct profile **profiles,
		   size_t *count, char **error);

/* The default profile alone. */
void profile_default(struct profile **profiles, size_t *count);

void profile_free(struct profile *profiles, size_t count);

/* The names of every valid profile joined with ", ", for messages.  Malloc'd. */
char *profile_names(const struct profile_flags *flags);

enum profile_query_result {
	PROFILE_QUERY_OK,          /* flags contains the scheduler's flags */
	PROFILE_QUERY_UNSUPPORTED, /* it exited non-zero or printed nothing */
	PROFILE_QUERY_FAILED,      /* crashed, hung, could not run, or printed invalid JSON */
};

/* Run "binary --ktstr-list-flags" with stdin and stderr on /dev/null and a
 * timeout of PROFILE_QUERY_TIMEOUT_SEC.  *error gets a malloc'd description
 * unless the result is PROFILE_QUERY_OK. */
enum profile_query_result profile_query(const char *binary, struct profile_flags *flags, char **error);

#endif
