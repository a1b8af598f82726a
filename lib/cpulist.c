#include "cpulist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cpulist_clear(struct cpulist *set)
{
	memset(set, 0, sizeof(*set));
}

void cpulist_add(struct cpulist *set, unsigned cpu)
{
	if (cpu < CPULIST_MAX)
		set->bits[cpu / 64] |= 1ull << (cpu % 64);
}

bool cpulist_has(const struct cpulist *set, unsigned cpu)
{
	return cpu < CPULIST_MAX && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpulist_count(const struct cpulist *set)
{
	unsigned count = 0;

	for (size_t i = 0; i < CPULIST_MAX / 64; i++)
		count += (unsigned)__builtin_popcountll(set->bits[i]);
	return count;
}

int cpulist_max(const struct cpulist *set)
{
	for (size_t i = CPULIST_MAX / 64; i > 0; i--) {
		if (set->bits[i - 1])
			return (int)((i - 1) * 64 + 63 - (size_t)__builtin_clzll(set->bits[i - 1]));
	}
	return -1;
}

bool cpulist_subset(const struct cpulist *a, const struct cpulist *b)
{
	for (size_t i = 0; i < CPULIST_MAX / 64; i++) {
		if (a->bits[i] & ~b->bits[i])
			return false;
	}
	return true;
}

void cpulist_union(struct cpulist *into, const struct cpulist *from)
{
	for (size_t i = 0; i < CPULIST_MAX / 64; i++)
		into->bits[i] |= from->bits[i];
}

/* One decimal CPU number at *p; advances *p past it. */
static int parse_cpu(const char **p, unsigned *out, const char **why)
{
	char *end;

	if (**p < '0' || **p > '9') {
		*why = "expected a CPU number or a range such as 0-3";
		return -1;
	}
	errno = 0;
	unsigned long value = strtoul(*p, &end, 10);
	if (errno || value >= CPULIST_MAX) {
		*why = "CPU number larger than 1023";
		return -1;
	}
	*out = (unsigned)value;
	*p = end;
	return 0;
}

int cpulist_parse(const char *text, struct cpulist *out, const char **why)
{
	const char *fail = NULL;
	const char *p = text;
	struct cpulist set;

	cpulist_clear(&set);
	if (*p == '\n' && p[1] == '\0')
		p++;
	while (*p && !fail) {
		unsigned first, last;

		if (parse_cpu(&p, &first, &fail))
			break;
		last = first;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &last, &fail))
				break;
			if (last < first) {
				fail = "range ends before it starts";
				break;
			}
		}
		for (unsigned cpu = first; cpu <= last; cpu++)
			cpulist_add(&set, cpu);
		if (*p == ',' && p[1] != '\0' && p[1] != '\n')
			p++;
		else if (*p == '\n' && p[1] == '\0')
			p++;
		else if (*p != '\0')
			fail = "expected a CPU number or a range such as 0-3";
	}
	if (fail) {
		if (why)
			*why = fail;
		return -1;
	}
	*out = set;
	return 0;
}

char *cpulist_format(const struct cpulist *set, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned cpu = 0; cpu < CPULIST_MAX; cpu++) {
		if (!cpulist_has(set, cpu))
			continue;
		unsigned last = cpu;
		while (last + 1 < CPULIST_MAX && cpulist_has(set, last + 1))
			last++;
		int n = last == cpu ? snprintf(buf + used, size - used, "%s%u", used ? "," : "", cpu) :
			snprintf(buf + used, size - used, "%s%u-%u", used ? "," : "", cpu, last);
		if (n < 0 || (size_t)n >= size - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)n;
		cpu = last;
	}
	return buf;
}
