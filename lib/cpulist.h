/* Sets of CPU numbers in the kernel's list format ("0-3,8,10-11"), as
 * cpuset.cpus and /sys/devices/system/cpu/online write them. */
#ifndef KTSTR_CPULIST_H
#define KTSTR_CPULIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPU numbers go from 0 to CPULIST_MAX - 1 (the largest topology has 1024). */
#define CPULIST_MAX 1024

struct cpulist {
	uint64_t bits[CPULIST_MAX / 64];
};

/* Parse a list of CPU numbers and ranges separated by commas; a trailing
 * newline is allowed and an empty text is the empty set.  On failure return
 * -1 and, if why is not NULL, a static description of the cause. */
int cpulist_parse(const char *text, struct cpulist *out, const char **why);
/* Format in the kernel's form with ranges; "" for the empty set.  Returns buf,
 * truncated to size when too small. */
char *cpulist_format(const struct cpulist *set, char *buf, size_t size);

void cpulist_clear(struct cpulist *set);
void cpulist_add(struct cpulist *set, unsigned cpu);
bool cpulist_has(const struct cpulist *set, unsigned cpu);
unsigned cpulist_count(const struct cpulist *set);
/* The highest CPU in the set, or -1 when it is empty. */
int cpulist_max(const struct cpulist *set);
/* Every CPU of a is also in b. */
bool cpulist_subset(const struct cpulist *a, const struct cpulist *b);
void cpulist_union(struct cpulist *into, const struct cpulist *from);

#endif
